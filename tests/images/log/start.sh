#!/bin/sh
# TEST FIXTURE: start of the harbor-log stand-in. Like the real image: the log directory
# (log_location on the host) is given to uid 10000 and rsyslog runs as that user.
# common/config/log/ may be mounted at /etc/logrotate.d/ (logrotate is installed; not scheduled).
set -e
mkdir -p /var/log/docker
chown -R 10000:10000 /var/log/docker || {
  echo "harbor-log: FATAL: cannot give /var/log/docker to 10000:10000 (needs CAP_CHOWN)" >&2
  exit 1
}
rm -f /tmp/rsyslogd.pid
# A rule file rsyslog cannot use would leave it running and writing nothing: check them first
# (2.x mounts the rendered rsyslog_docker.conf into /etc/rsyslog.d/).
if ! out=$(setpriv --reuid=10000 --regid=10000 --clear-groups \
    rsyslogd -N1 -f /etc/rsyslog.conf 2>&1); then
  echo "harbor-log: FATAL: rsyslog does not accept its configuration: $out" >&2
  exit 1
fi
# tini runs as the same user as rsyslog, so that it may forward `docker stop`'s SIGTERM to it
# even with all capabilities dropped.
exec setpriv --reuid=10000 --regid=10000 --clear-groups \
  /usr/bin/tini -- rsyslogd -n -f /etc/rsyslog.conf -i /tmp/rsyslogd.pid
