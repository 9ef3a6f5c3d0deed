#!/usr/bin/env bash
# Neo4j 5.26 LTS (Community) for tests: Bolt on 127.0.0.1:$PORT, store under $SERVERS_DIR, run
# from Maven Central's neo4j-harness jars by our launcher (neo4j/Launch.java, single-file source).
# Usage: neo4j.sh start|stop|restart|url  (POLYGATE_SERVERS_NEO4J_PORT, POLYGATE_SERVERS_NEO4J_HEAP: default 1g)
#   POLYGATE_SERVERS_NEO4J_PASSWORD: when set, authentication is on and the user `neo4j` has this
#   password (a server of its own for credential tests; the org suite's server keeps auth off).
#   restart: stops the server and starts it again on the same port and store (the org subgraph's
#   failover test calls it mid-test); stop also deletes the store.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PORT="${POLYGATE_SERVERS_NEO4J_PORT:-57687}"
DIR="$SERVERS_DIR/neo4j-$PORT"
PID_FILE="$DIR/server.pid"
HEAP="${POLYGATE_SERVERS_NEO4J_HEAP:-1g}"

running() { [ -s "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

classpath() { # resolves the harness's jars once per machine (about 175 MB in ~/.m2)
  local cp="$SERVERS_DIR/neo4j-classpath.txt"
  if [ ! -s "$cp" ] || ! [ -f "$(tr ':' '\n' < "$cp" | head -1)" ]; then
    ensure_packages openjdk-17-jdk-headless maven
    (cd "$here/neo4j" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$cp.tmp" >&2)
    mv "$cp.tmp" "$cp"
  fi
  echo "$cp"
}

start() {
  running && return 0
  local cp; cp=$(classpath)
  mkdir -p "$DIR/home"
  touch "$DIR/server.log"
  local from; from=$(($(wc -c < "$DIR/server.log") + 1))
  # The launcher keeps the store in $DIR/home; setsid detaches it from the caller's terminal.
  POLYGATE_NEO4J_PASSWORD="${POLYGATE_SERVERS_NEO4J_PASSWORD:-}" \
    setsid java -Xms256m -Xmx"$HEAP" -XX:+UseParallelGC -cp "$(cat "$cp")" "$here/neo4j/Launch.java" \
    "$PORT" "$DIR/home" >> "$DIR/server.log" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  # Bolt listens before the database is up; the launcher prints its URL once a query has run.
  for _ in $(seq 1 1800); do
    tail -c +"$from" "$DIR/server.log" | grep -q "^bolt://127.0.0.1:$PORT" && return 0
    running || { tail -30 "$DIR/server.log" >&2; return 1; }
    sleep 0.1
  done
  echo "neo4j did not come up on $PORT" >&2
  tail -30 "$DIR/server.log" >&2
  return 1
}

halt() { # stops the server and waits for it to release the store
  if running; then
    local pid; pid=$(cat "$PID_FILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) halt; rm -rf "$DIR" ;;
  restart) halt; start ;;
  url) echo "bolt://127.0.0.1:$PORT" ;;
  *) echo "usage: $0 start|stop|restart|url" >&2; exit 2 ;;
esac
