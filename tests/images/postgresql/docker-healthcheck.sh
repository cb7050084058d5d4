#!/bin/sh
# TEST FIXTURE: the database's health probe, as in the real image: a SELECT 1 over TCP.
PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -tAq \
  -c 'SELECT 1' | grep -qx 1
