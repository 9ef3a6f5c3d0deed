# Shared helpers for the server scripts: where servers keep their data, and waiting for a port.
# Every server listens on 127.0.0.1 only, on a port of its own, with data under $SERVERS_DIR.
SERVERS_DIR="${POLYGATE_SERVERS_DIR:-/tmp/polygate-servers}"
mkdir -p "$SERVERS_DIR"

# apt-get install only what is missing, updating the package lists once per run.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

wait_for_port() { # host port seconds
  local host=$1 port=$2 secs=${3:-30}
  for _ in $(seq 1 $((secs * 10))); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && { exec 3>&- 3<&-; return 0; }
    sleep 0.1
  done
  echo "timed out waiting for $host:$port" >&2
  return 1
}
