#!/usr/bin/env bash
# A six-node Redis Cluster for tests (three masters, one replica each) on 127.0.0.1, ports
# $BASE..$BASE+5, no persistence. The cluster bus is on port+100 (`--cluster-port`): the default
# port+10000 does not exist for ports above 55535.
# Usage: redis-cluster.sh start|stop|url|stop-node PORT|start-node PORT
#   stop-node PORT   kills one node (SHUTDOWN NOSAVE), e.g. a master to make its replica take over
#   start-node PORT  starts that node again; it rejoins the cluster from its nodes file
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
BASE="${POLYGATE_SERVERS_REDIS_CLUSTER_BASE_PORT:-57000}"
DIR="$SERVERS_DIR/redis-cluster-$BASE"
PORTS=$(seq "$BASE" $((BASE + 5)))

start_node() { # port
  local port=$1 dir="$DIR/$1"
  redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 2000 \
    --cluster-port $((port + 100)) \
    --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --maxmemory-policy volatile-ttl
  wait_for_port 127.0.0.1 "$port" 15
}

cluster_ok() { # port
  redis-cli -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

wait_cluster_ok() { # seconds
  for _ in $(seq 1 $(($1 * 10))); do
    local all=1
    for port in $PORTS; do
      if redis-cli -p "$port" ping >/dev/null 2>&1 && ! cluster_ok "$port"; then all=0; fi
    done
    [ "$all" -eq 1 ] && cluster_ok "$BASE" && return 0
    sleep 0.1
  done
  echo "timed out waiting for cluster_state:ok on port $BASE" >&2
  return 1
}

# Every master has its replica attached and in sync (so a failover has someone to promote).
wait_replicas() { # seconds
  for _ in $(seq 1 $(($1 * 10))); do
    local synced=0
    for port in $PORTS; do
      redis-cli -p "$port" info replication 2>/dev/null |
        grep -q '^master_link_status:up' && synced=$((synced + 1))
    done
    [ "$synced" -ge 3 ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for three replicas in sync" >&2
  return 1
}

case "${1:-}" in
  start)
    ensure_packages redis-server redis-tools
    if cluster_ok "$BASE"; then exit 0; fi
    # A half-made cluster from an earlier run: start over (nodes files must not survive).
    for port in $PORTS; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
    rm -rf "$DIR"
    for port in $PORTS; do start_node "$port"; done
    nodes=()
    for port in $PORTS; do nodes+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 ||
      { cat "$DIR/create.log" >&2; exit 1; }
    wait_cluster_ok 30
    wait_replicas 30
    ;;
  stop)
    for port in $PORTS; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
    rm -rf "$DIR"
    ;;
  url)
    echo "redis-cluster://127.0.0.1:$BASE,127.0.0.1:$((BASE + 1)),127.0.0.1:$((BASE + 2))"
    ;;
  stop-node)
    port="${2:?usage: $0 stop-node PORT}"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    ;;
  start-node)
    port="${2:?usage: $0 start-node PORT}"
    start_node "$port"
    ;;
  *) echo "usage: $0 start|stop|url|stop-node PORT|start-node PORT" >&2; exit 2 ;;
esac
