#!/usr/bin/env bash
# A MongoDB-wire-compatible server for the catalog tests: nx-27017 (pip; SQLite underneath) on
# 127.0.0.1:$PORT with its data under $SERVERS_DIR. No registry here ships a real `mongod`; of the
# two compatible servers that run (see ../shared/SERVERS.md), nx-27017 is the more faithful one
# ($elemMatch, text indexes, transactions, explain). Usage: mongodb.sh start|stop|url
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PORT="${POLYGATE_SERVERS_MONGODB_PORT:-57017}"
DIR="$SERVERS_DIR/mongodb-$PORT"
# Pinned: the version SERVERS.md measured.
NX_VERSION="0.8.1"

python_bin() { command -v python3 || command -v python; }

case "${1:-}" in
  start)
    if ! command -v nx-27017 >/dev/null 2>&1; then
      py=$(python_bin) || { ensure_packages python3 python3-pip; py=python3; }
      echo "installing nx-27017 $NX_VERSION" >&2
      "$py" -m pip install -q --disable-pip-version-check "nx-27017==$NX_VERSION" \
        || "$py" -m pip install -q --disable-pip-version-check --break-system-packages "nx-27017==$NX_VERSION"
      hash -r
    fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      mkdir -p "$DIR/data"
      # Its own pid and log files: nx-27017 refuses to start while its default pid file
      # (/tmp/nx_27017.pid) names a live process, i.e. any other instance on the machine.
      nohup nx-27017 --data-dir "$DIR/data" --host 127.0.0.1 -p "$PORT" --threaded \
        --pid-file "$DIR/nx.pid" --log-file "$DIR/nx.log" >"$DIR/server.log" 2>&1 &
      echo $! >"$DIR/server.pid"
    else
      exec 3>&- 3<&- || true
    fi
    wait_for_port 127.0.0.1 "$PORT" 30
    ;;
  stop)
    if [ -f "$DIR/server.pid" ]; then
      kill "$(cat "$DIR/server.pid")" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$DIR"
    ;;
  url) echo "mongodb://127.0.0.1:$PORT/?directConnection=true" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
