#!/bin/sh
# TEST FIXTURE: start of the harbor-portal stand-in.
if [ "$HARBORCTL_TEST_FAIL_HEALTH" = 1 ]; then
  exec nginx -c /etc/nginx/nginx-fail.conf -g 'daemon off;'
fi
exec nginx -g 'daemon off;'
