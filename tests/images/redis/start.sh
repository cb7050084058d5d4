#!/bin/sh
# TEST FIXTURE: start of the redis stand-in, as uid 999 like the real image.
set -e
probe=/var/lib/redis/.harborctl-test-probe-$$
if ! ( : >"$probe" ) 2>/dev/null; then
  echo "redis: FATAL: /var/lib/redis is not writable by uid $(id -u) (the host's DATA/redis must belong to 999)" >&2
  exit 1
fi
rm -f "$probe"
exec redis-server /etc/redis.conf "$@"
