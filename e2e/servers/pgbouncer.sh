#!/usr/bin/env bash
# PgBouncer (Debian's package) in transaction pooling mode in front of the test PostgreSQL
# (postgres.sh), on 127.0.0.1:$PORT. Every database of that server is reachable through it under
# its own name (a `*` fallback entry), so a test that creates a fresh database can use it at once.
# Usage: pgbouncer.sh start|stop|url     (the PostgreSQL server must be running)
#
# Debian bookworm ships PgBouncer 1.18, which does not track protocol-level prepared statements
# in transaction mode (1.21 does, with max_prepared_statements): see the commerce design doc,
# "Connections at scale", for what breaks and how the adapter copes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PG_PORT="${POLYGATE_SERVERS_PG_PORT:-55432}"
PORT="${POLYGATE_SERVERS_PGBOUNCER_PORT:-56432}"
DIR="$SERVERS_DIR/pgbouncer-$PORT"

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
running() { [ -s "$DIR/pgbouncer.pid" ] && kill -0 "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null; }

case "${1:-}" in
  start)
    ensure_packages pgbouncer
    if ! running; then
      rm -rf "$DIR"; mkdir -p "$DIR"
      # The tests connect as postgres without a password, as they do to the server itself.
      echo '"postgres" ""' > "$DIR/userlist.txt"
      cat > "$DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
; sqlx sends these at start-up; 1.18 refuses unknown start-up parameters otherwise. Dropping
; 'options' drops the client's statement_timeout/lock_timeout: set them on the role instead.
ignore_startup_parameters = extra_float_digits, options
; sqlx names its prepared statements per client connection (sqlx_s_1, …); a server connection
; serves many clients, so they are deallocated after every transaction, or the next client's
; sqlx_s_1 would collide with the last one's. (PgBouncer 1.21+ tracks them: max_prepared_statements.)
server_reset_query = DEALLOCATE ALL
server_reset_query_always = 1
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
admin_users = postgres
INI
      [ "$(id -u)" -eq 0 ] && chown -R postgres "$DIR"
      as_postgres pgbouncer -d "$DIR/pgbouncer.ini"
    fi
    wait_for_port 127.0.0.1 "$PORT" 30
    ;;
  stop)
    if running; then kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true; fi
    for _ in $(seq 1 50); do running || break; sleep 0.1; done
    rm -rf "$DIR"
    ;;
  url) echo "postgres://postgres@127.0.0.1:$PORT/postgres" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
