#!/bin/sh
# TEST FIXTURE: start of the registry stand-in (Debian's distribution registry 2.8). Like the real
# image: /storage is given to uid 10000 when it is not its owner, a CA bundle mounted at
# /harbor_cust_cert/custom-ca-bundle.crt is added to the system's roots, then the registry runs
# as 10000.
set -e
die() { echo "registry: FATAL: $*" >&2; exit 1; }
if [ "$#" -eq 0 ]; then set -- serve /etc/registry/config.yml; fi
if [ "$1" != serve ]; then set -- serve "$@"; fi
config=$2
[ -e "$config" ] || die "the registry configuration $config is missing (mount common/config/registry/ at /etc/registry/)"
[ -f "$config" ] || die "the registry configuration $config is not a file"
custom_ca=/harbor_cust_cert/custom-ca-bundle.crt
if [ "$(id -u)" = 0 ]; then
  # Like the real image: a mounted CA bundle joins the system's roots (storage over private TLS).
  if [ -e "$custom_ca" ]; then
    [ -f "$custom_ca" ] || die "$custom_ca is not a file (a bind mount of a missing host file?)"
    grep -q -- "-----BEGIN CERTIFICATE-----" "$custom_ca" || die "$custom_ca holds no PEM certificate"
    cat "$custom_ca" >>/etc/ssl/certs/ca-certificates.crt || die "cannot install $custom_ca"
  fi
  if [ -d /storage ] && [ "$(stat -c %u:%g /storage)" != 10000:10000 ]; then
    chown -R 10000:10000 /storage || die "cannot give /storage to 10000:10000"
  fi
  # tini runs as the registry's user so that it may forward `docker stop`'s SIGTERM even with
  # all capabilities dropped.
  exec setpriv --reuid=10000 --regid=10000 --clear-groups /usr/bin/tini -- docker-registry "$@"
fi
exec /usr/bin/tini -- docker-registry "$@"
