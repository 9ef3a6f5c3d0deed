#!/usr/bin/env bash
# A standalone Redis for tests on 127.0.0.1:$PORT, no persistence.
# Usage: redis.sh start|stop|url
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PORT="${POLYGATE_SERVERS_REDIS_PORT:-56379}"
DIR="$SERVERS_DIR/redis-$PORT"

case "${1:-}" in
  start)
    ensure_packages redis-server redis-tools
    if ! redis-cli -p "$PORT" ping >/dev/null 2>&1; then
      mkdir -p "$DIR"
      redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no \
        --dir "$DIR" --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
        --maxmemory-policy volatile-ttl
    fi
    wait_for_port 127.0.0.1 "$PORT" 15
    ;;
  stop)
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  url) echo "redis://127.0.0.1:$PORT" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
