#!/bin/bash
# TEST FIXTURE: entrypoint of the harbor-db stand-in (PostgreSQL 15 from Debian). Like the real
# image: the data directory is /var/lib/postgresql/data, initialised on first start with the
# superuser password POSTGRES_PASSWORD and Harbor's databases; PostgreSQL runs as uid 999.
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA
die() { echo "harbor-db: FATAL: $*" >&2; exit 1; }

[ -n "${POSTGRES_PASSWORD:-}" ] ||
  die "POSTGRES_PASSWORD is not set (it comes from common/config/db/env)"

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" || die "cannot create $PGDATA"
  if [ "$(stat -c %u "$PGDATA")" != 999 ]; then
    chown -R 999:999 "$PGDATA" || die "cannot give $PGDATA to 999:999"
  fi
  # tini runs as postgres so that it may forward `docker stop`'s signal even with all
  # capabilities dropped.
  exec setpriv --reuid=999 --regid=999 --init-groups /usr/bin/tini -- "$0" "$@"
fi

chmod 700 "$PGDATA" || die "cannot make $PGDATA private (mode 0700) as uid $(id -u)"
if [ -s "$PGDATA/PG_VERSION" ]; then
  version=$(cat "$PGDATA/PG_VERSION")
  [ "$version" = 15 ] || die "$PGDATA holds a PostgreSQL $version cluster; this image runs 15"
else
  if [ -n "$(ls -A "$PGDATA")" ]; then
    die "$PGDATA is not empty and holds no database cluster"
  fi
  echo "harbor-db: initialising the database cluster in $PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username=postgres --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null || { rm -f "$pwfile"; die "initdb failed"; }
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  for db in registry notaryserver notarysigner; do
    echo "CREATE DATABASE $db;" |
      postgres --single -D "$PGDATA" -c listen_addresses='' postgres >/dev/null ||
      die "cannot create the database $db"
  done
  echo "harbor-db: created the databases registry, notaryserver, notarysigner"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp \
  -c max_connections="${POSTGRES_MAX_CONNECTIONS:-100}" "$@"
