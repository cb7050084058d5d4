#!/bin/sh
# TEST FIXTURE: start of the harbor-portal stand-in (1.7.5: its own nginx.conf on :80; 2.x: the
# rendered portal/nginx.conf mounted at /etc/nginx/nginx.conf, run as uid 10000 on 8080/8443).
if [ "$HARBORCTL_TEST_FAIL_HEALTH" = 1 ]; then
  exec nginx -e stderr -c /etc/nginx/nginx-fail.conf -g 'daemon off;'
fi
conf=/etc/nginx/nginx.conf
[ -f "$conf" ] || { echo "harbor-portal: FATAL: $conf is missing or not a file" >&2; exit 1; }
[ -r "$conf" ] || { echo "harbor-portal: FATAL: $conf is not readable by uid $(id -u)" >&2; exit 1; }
if ! out=$(nginx -t -q -e stderr -c "$conf" 2>&1); then
  echo "harbor-portal: FATAL: nginx does not accept $conf: $out" >&2
  exit 1
fi
exec nginx -e stderr -g 'daemon off;'
