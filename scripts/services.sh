#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1 (start them if not, without systemd),
# make sure the postgres role can connect over TCP without a password (trust), and create
# the test database. Idempotent; prints what it did.
# Env: LOKET_TEST_DB (default loket_test), PGPORT (5432), PG_CLUSTER (main), REDIS_PORT (6379),
#      SERVICES_WAIT_S (60).
set -euo pipefail

DB_NAME="${LOKET_TEST_DB:-loket_test}"
PG_PORT="${PGPORT:-5432}"
PG_CLUSTER="${PG_CLUSTER:-main}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT_S="${SERVICES_WAIT_S:-60}"

say() { echo "services: $*"; }
die() { echo "services: ERROR: $*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  AS_ROOT=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  AS_ROOT=(sudo -n)
else
  AS_ROOT=(false-not-root)  # any start attempt fails with a clear message below
fi
as_root() {
  [ "${AS_ROOT[0]:-}" = "false-not-root" ] && die "need root (or passwordless sudo) to run: $*"
  "${AS_ROOT[@]}" "$@"
}

# wait_for SECONDS CMD...: retry CMD every half second until it succeeds or time runs out.
wait_for() {
  local limit=$(( $1 * 2 )); shift
  local i
  for (( i = 0; i < limit; i++ )); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
pg_psql() { psql -X -w -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@" </dev/null; }
pg_login() { pg_psql -d postgres -tAc 'SELECT 1'; }

# ---------------------------------------------------------------- PostgreSQL
command -v pg_isready >/dev/null || die "pg_isready not found: run scripts/system-deps.sh"

if pg_ready; then
  say "postgres already accepting connections on 127.0.0.1:$PG_PORT"
  PG_VER=""
else
  PG_VER="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1)"
  [ -n "$PG_VER" ] || die "no PostgreSQL server installed: run scripts/system-deps.sh"
  if [ ! -d "/etc/postgresql/$PG_VER/$PG_CLUSTER" ]; then
    say "creating cluster $PG_VER/$PG_CLUSTER on port $PG_PORT"
    as_root pg_createcluster "$PG_VER" "$PG_CLUSTER" -p "$PG_PORT" >/dev/null
  fi
  say "starting postgres $PG_VER/$PG_CLUSTER"
  as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VER" "$PG_CLUSTER" start || true
  wait_for "$WAIT_S" pg_ready || die "postgres did not become ready on 127.0.0.1:$PG_PORT within ${WAIT_S}s"
  say "postgres ready"
fi

if ! pg_login >/dev/null 2>&1; then
  # Fresh Debian install: peer/scram auth. Switch local and 127.0.0.1 to trust (test machines only).
  [ -n "$PG_VER" ] || PG_VER="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  HBA="/etc/postgresql/$PG_VER/$PG_CLUSTER/pg_hba.conf"
  [ -f "$HBA" ] || die "cannot log in as postgres on 127.0.0.1 and $HBA not found"
  say "enabling trust auth for local and 127.0.0.1/32 in $HBA"
  as_root sed -i -E \
    -e 's/^(local[[:space:]]+all[[:space:]]+(postgres|all)[[:space:]]+)[a-z0-9-]+/\1trust/' \
    -e 's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+)[a-z0-9-]+#\1trust#' \
    "$HBA"
  if ! as_root grep -qE '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$HBA"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$HBA"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VER" "$PG_CLUSTER" reload
  wait_for 10 pg_login || die "still cannot log in as postgres on 127.0.0.1 without a password"
fi

if [ "$(pg_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" = "1" ]; then
  say "database $DB_NAME exists"
else
  pg_psql -d postgres -c "CREATE DATABASE \"$DB_NAME\""
  say "created database $DB_NAME"
fi

# ---------------------------------------------------------------- Redis
command -v redis-cli >/dev/null || die "redis-cli not found: run scripts/system-deps.sh"
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

if redis_ready; then
  say "redis already answering on 127.0.0.1:$REDIS_PORT"
else
  command -v redis-server >/dev/null || die "redis-server not found: run scripts/system-deps.sh"
  say "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
  wait_for "$WAIT_S" redis_ready || die "redis did not answer on 127.0.0.1:$REDIS_PORT within ${WAIT_S}s"
  say "redis ready"
fi
