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
# tini runs as the same user as rsyslog, so that it may forward `docker stop`'s SIGTERM to it
# even with all capabilities dropped.
exec setpriv --reuid=10000 --regid=10000 --clear-groups \
  /usr/bin/tini -- rsyslogd -n -f /etc/rsyslog.conf -i /tmp/rsyslogd.pid
