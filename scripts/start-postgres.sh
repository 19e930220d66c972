#!/usr/bin/env bash
# Source me: installs (if needed) and starts a local PostgreSQL, creates a test role and database,
# and exports PASAR_PG_URL. Used by `make test-pg` and CI.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "Installing Debian's postgresql..."
  (apt-get install -y -qq postgresql >/dev/null 2>&1) || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_DATA=${PASAR_PG_DATA:-/tmp/pasar-pg}
PG_PORT=${PASAR_PG_PORT:-54329}
if [ ! -s "$PG_DATA/PG_VERSION" ]; then
  mkdir -p "$PG_DATA" && chown postgres:postgres "$PG_DATA"
  su postgres -c "$PG_BIN/initdb -D $PG_DATA -A trust -U postgres >/dev/null"
fi
if ! su postgres -c "$PG_BIN/pg_ctl -D $PG_DATA status" >/dev/null 2>&1; then
  su postgres -c "$PG_BIN/pg_ctl -D $PG_DATA -l $PG_DATA/server.log -w -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200' start" >/dev/null
fi
psql_do() { su postgres -c "$PG_BIN/psql -h 127.0.0.1 -p $PG_PORT -U postgres -v ON_ERROR_STOP=1 -qtA -c \"$1\""; }
[ "$(psql_do "SELECT 1 FROM pg_roles WHERE rolname='pasar'")" = "1" ] || psql_do "CREATE ROLE pasar LOGIN PASSWORD 'pasar' CREATEDB"
[ "$(psql_do "SELECT 1 FROM pg_database WHERE datname='pasar_test'")" = "1" ] || psql_do "CREATE DATABASE pasar_test OWNER pasar"
export PASAR_PG_URL="postgresql://pasar:pasar@127.0.0.1:$PG_PORT/pasar_test"
echo "PostgreSQL ready at $PASAR_PG_URL"
