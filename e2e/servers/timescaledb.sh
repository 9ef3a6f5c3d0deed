#!/usr/bin/env bash
# TimescaleDB (Apache-2 edition) on PostgreSQL 15 for tests: a throwaway cluster on
# 127.0.0.1:$PORT with `shared_preload_libraries = 'timescaledb'`, owned by the postgres user.
# Usage: timescaledb.sh start|stop|url
#
# No registry reachable here ships a TimescaleDB binary for bookworm, so `start` builds the
# extension from Debian's source package (trixie's, which builds against bookworm's
# postgresql-server-dev-15) with -DAPACHE_ONLY=1, and installs it into PostgreSQL 15's own
# directories (an extension must live in pg_config's pkglibdir). A built install is reused: the
# build runs only when timescaledb.so is missing (about 3 minutes on 2 cores). The build tree
# lives under $TIMESCALEDB_BUILD_DIR (default /var/cache/polygate/timescaledb) and is never
# committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PORT="${POLYGATE_SERVERS_TIMESCALEDB_PORT:-55436}"
DATA="$SERVERS_DIR/timescaledb-$PORT"
BIN=/usr/lib/postgresql/15/bin
PG_CONFIG="$BIN/pg_config"
BUILD_DIR="${TIMESCALEDB_BUILD_DIR:-/var/cache/polygate/timescaledb}"
SRC_LIST=/etc/apt/sources.list.d/polygate-trixie-src.sources

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

installed() { [ -f "$("$PG_CONFIG" --pkglibdir)/timescaledb.so" ]; }

build_and_install() {
  ensure_packages postgresql-15 postgresql-server-dev-15 postgresql-contrib cmake gcc make \
    dpkg-dev libssl-dev libkrb5-dev
  if [ ! -f "$SRC_LIST" ]; then
    # Source packages only: nothing from trixie is ever installed.
    as_root tee "$SRC_LIST" >/dev/null <<LIST
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
LIST
  fi
  as_root apt-get update -qq >/dev/null
  mkdir -p "$BUILD_DIR"
  (
    cd "$BUILD_DIR"
    src=$(find . -maxdepth 1 -type d -name 'timescaledb-*' | head -n 1)
    if [ -z "$src" ]; then
      echo "fetching Debian's timescaledb source package" >&2
      apt-get source -qq timescaledb >/dev/null
      src=$(find . -maxdepth 1 -type d -name 'timescaledb-*' | head -n 1)
    fi
    cd "$src"
    echo "building $(basename "$src") (Apache-2 edition) against PostgreSQL 15" >&2
    rm -rf build
    cmake -S . -B build -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
      -DWARNINGS_AS_ERRORS=OFF -DSEND_TELEMETRY_DEFAULT=OFF -DUSE_TELEMETRY=OFF \
      -DPG_CONFIG="$PG_CONFIG" -DCMAKE_BUILD_TYPE=Release >build.log 2>&1 \
      || { tail -n 30 build.log >&2; exit 1; }
    make -C build -j "$(nproc)" >>build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
    as_root make -C build install >>build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
  )
}

case "${1:-}" in
  start)
    installed || build_and_install
    if [ ! -s "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA"; mkdir -p "$DATA"; [ "$(id -u)" -eq 0 ] && chown postgres "$DATA"
      as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
      cat >> "$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_preload_libraries = 'timescaledb,pg_stat_statements'
timescaledb.telemetry_level = off
max_locks_per_transaction = 256
CONF
    fi
    if ! as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w start >/dev/null
    fi
    wait_for_port 127.0.0.1 "$PORT" 30
    ;;
  stop)
    [ -d "$DATA" ] && as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DATA"
    ;;
  url) echo "postgres://postgres@127.0.0.1:$PORT/postgres" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
