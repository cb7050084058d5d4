#!/bin/sh
# TEST FIXTURE: start of the registry stand-in (Debian's distribution registry 2.8). Like the real
# images: /storage is given to uid 10000 when it is not its owner, the certificates under
# /harbor_cust_cert (1.7.5: the file custom-ca-bundle.crt; 2.x: the trust folder, *.crt, *.ca,
# *.ca-bundle, *.pem) are added to the system's roots, then the registry runs as 10000.
set -e
die() { echo "registry: FATAL: $*" >&2; exit 1; }
if [ "$#" -eq 0 ]; then set -- serve /etc/registry/config.yml; fi
if [ "$1" != serve ]; then set -- serve "$@"; fi
config=$2
[ -e "$config" ] || die "the registry configuration $config is missing (mount common/config/registry/ at /etc/registry/)"
[ -f "$config" ] || die "the registry configuration $config is not a file"
if [ "$(id -u)" = 0 ]; then
  # Like the real image: mounted CAs join the system's roots (storage over private TLS).
  for custom_ca in /harbor_cust_cert/*.crt /harbor_cust_cert/*.ca /harbor_cust_cert/*.ca-bundle \
                   /harbor_cust_cert/*.pem; do
    [ -e "$custom_ca" ] || continue
    [ -f "$custom_ca" ] || die "$custom_ca is not a file (a bind mount of a missing host file?)"
    grep -q -- "-----BEGIN CERTIFICATE-----" "$custom_ca" || die "$custom_ca holds no PEM certificate"
    cat "$custom_ca" >>/etc/ssl/certs/ca-certificates.crt || die "cannot install $custom_ca"
  done
  if [ -d /storage ] && [ "$(stat -c %u:%g /storage)" != 10000:10000 ]; then
    chown -R 10000:10000 /storage || die "cannot give /storage to 10000:10000"
  fi
  # tini runs as the registry's user so that it may forward `docker stop`'s SIGTERM even with
  # all capabilities dropped; this script goes on as that user (the rendered files are its own).
  exec setpriv --reuid=10000 --regid=10000 --clear-groups \
    env HARBORCTL_TEST_UNDER_TINI=1 /usr/bin/tini -- "$0" "$@"
fi
if [ -z "${HARBORCTL_TEST_UNDER_TINI:-}" ]; then
  exec env HARBORCTL_TEST_UNDER_TINI=1 /usr/bin/tini -- "$0" "$@"
fi
[ -r "$config" ] || die "the registry configuration $config is not readable by uid $(id -u)"
# The registry with htpasswd auth (Harbor 2) must find its password file: the real registry
# would make up a user of its own for a missing one, and core's credential would fail later.
passwd=$(python3 -c '
import sys, yaml
config = yaml.safe_load(open(sys.argv[1])) or {}
print(((config.get("auth") or {}).get("htpasswd") or {}).get("path") or "")' "$config") ||
  die "the registry configuration $config is not valid YAML"
if [ -n "$passwd" ]; then
  [ -e "$passwd" ] || die "the htpasswd file $passwd named in $config is missing (common/config/registry/passwd)"
  [ -r "$passwd" ] || die "the htpasswd file $passwd is not readable by uid $(id -u)"
  grep -Eq '^[^:]+:[$]2[aby][$][0-9]{2}[$]' "$passwd" ||
    die "the htpasswd file $passwd holds no bcrypt line (user:\$2y\$...); the registry accepts bcrypt only"
fi
exec docker-registry "$@"
