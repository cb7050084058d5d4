#!/bin/sh
# TEST FIXTURE: entrypoint of harborctl's stand-ins for Harbor's Go services.
#   entry.sh [DIR ...] -- COMMAND [ARG ...]
# As root (like the real start scripts): give each existing DIR to 10000:10000 unless it already
# belongs to it, then become uid 10000 and run COMMAND under tini. tini runs as the same user as
# the service so that, with Harbor's `cap_drop: ALL`, it may still forward `docker stop`'s SIGTERM.
set -e
dirs=""
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
  dirs="$dirs $1"
  shift
done
[ "${1:-}" = -- ] && shift
[ "$#" -gt 0 ] || { echo "entry.sh: FATAL: no command to run" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
  for dir in $dirs; do
    if [ -d "$dir" ] && [ "$(stat -c %u:%g "$dir")" != 10000:10000 ]; then
      chown -R 10000:10000 "$dir" || {
        echo "entry.sh: FATAL: cannot give $dir to 10000:10000 (needs CAP_CHOWN)" >&2
        exit 1
      }
    fi
  done
  exec setpriv --reuid=10000 --regid=10000 --clear-groups /usr/bin/tini -g -- "$@"
fi
exec /usr/bin/tini -g -- "$@"
