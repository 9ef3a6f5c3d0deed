#!/usr/bin/env bash
# A streaming replica of the test PostgreSQL (postgres.sh), made with pg_basebackup -R, on
# 127.0.0.1:$PORT. It replays the primary's WAL continuously and answers read-only queries.
# Usage: postgres-replica.sh start|stop|url     (the primary must be running)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PRIMARY_PORT="${POLYGATE_SERVERS_PG_PORT:-55432}"
PORT="${POLYGATE_SERVERS_PG_REPLICA_PORT:-55434}"
DATA="$SERVERS_DIR/postgres-replica-$PORT"
BIN=/usr/lib/postgresql/15/bin

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    if [ ! -s "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA"; mkdir -p "$DATA"; [ "$(id -u)" -eq 0 ] && chown postgres "$DATA"
      chmod 700 "$DATA"
      # -R writes primary_conninfo and standby.signal; -X stream copies the WAL the backup needs.
      as_postgres "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
        -D "$DATA" -R -X stream --checkpoint=fast 2> >(grep -v "skipping special file" >&2)
      cat >> "$DATA/postgresql.conf" <<CONF
port = $PORT
unix_socket_directories = '$DATA'
hot_standby = on
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
