#!/usr/bin/env bash
# Redis over TLS for tests, as ElastiCache with encryption in transit serves it: a standalone
# server on 127.0.0.1:$PORT and a one-node Redis Cluster (all 16384 slots) on 127.0.0.1:$CLUSTER_PORT,
# both TLS-only, with a certificate for 127.0.0.1/localhost signed by a CA this script makes
# (under $SERVERS_DIR; clients trust it through `ca`). No persistence.
# Usage: redis-tls.sh start|stop|url|cluster-url|ca
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PORT="${POLYGATE_SERVERS_REDIS_TLS_PORT:-36379}"
CLUSTER_PORT="${POLYGATE_SERVERS_REDIS_TLS_CLUSTER_PORT:-36380}"
DIR="$SERVERS_DIR/redis-tls-$PORT"

# A CA and a server certificate it signs (SAN 127.0.0.1 and localhost), made once per start.
make_certificates() {
  [ -f "$DIR/server.crt" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=polygate test CA" \
    -keyout "$DIR/ca.key" -out "$DIR/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$DIR/san.ext"
  openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
    -CAcreateserial -days 2 -extfile "$DIR/san.ext" -out "$DIR/server.crt" 2>/dev/null
  chmod 644 "$DIR"/*.key
}

cli() { # port args…
  local port=$1; shift
  redis-cli --tls --cacert "$DIR/ca.crt" -h 127.0.0.1 -p "$port" "$@"
}

start_node() { # port extra-args…
  local port=$1; shift
  cli "$port" ping >/dev/null 2>&1 && return 0
  mkdir -p "$DIR/$port"
  redis-server --bind 127.0.0.1 --port 0 --tls-port "$port" \
    --tls-cert-file "$DIR/server.crt" --tls-key-file "$DIR/server.key" \
    --tls-ca-cert-file "$DIR/ca.crt" --tls-auth-clients no \
    --save "" --appendonly no --dir "$DIR/$port" --daemonize yes \
    --pidfile "$DIR/$port/redis.pid" --logfile "$DIR/$port/redis.log" \
    --maxmemory-policy volatile-ttl "$@"
  wait_for_port 127.0.0.1 "$port" 15
}

case "${1:-}" in
  start)
    ensure_packages redis-server redis-tools openssl
    mkdir -p "$DIR"
    make_certificates
    start_node "$PORT"
    # A cluster of one master: what a client sees of a cluster (CLUSTER SLOTS, MOVED-free routing,
    # the TLS port announced for every node) without five more processes.
    start_node "$CLUSTER_PORT" --cluster-enabled yes --tls-cluster yes --cluster-announce-ip 127.0.0.1 \
      --cluster-config-file "$DIR/$CLUSTER_PORT/nodes.conf"
    if ! cli "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok'; then
      cli "$CLUSTER_PORT" cluster addslotsrange 0 16383 >/dev/null
      for _ in $(seq 1 100); do
        cli "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok' && break
        sleep 0.1
      done
      cli "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok'
    fi
    ;;
  stop)
    for port in "$PORT" "$CLUSTER_PORT"; do
      [ -f "$DIR/ca.crt" ] && cli "$port" shutdown nosave >/dev/null 2>&1 || true
    done
    rm -rf "$DIR"
    ;;
  url) echo "rediss://127.0.0.1:$PORT" ;;
  cluster-url) echo "rediss-cluster://127.0.0.1:$CLUSTER_PORT" ;;
  ca) echo "$DIR/ca.crt" ;;
  *) echo "usage: $0 start|stop|url|cluster-url|ca" >&2; exit 2 ;;
esac
