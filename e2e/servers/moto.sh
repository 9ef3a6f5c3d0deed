#!/usr/bin/env bash
# A local AWS API emulator for tests (moto's server mode, from PyPI): Secrets Manager and the
# rest of the AWS APIs on http://127.0.0.1:$PORT, state in memory. Clients reach it by setting
# AWS_ENDPOINT_URL (the SDKs' endpoint override) and any access key. moto lives in a virtualenv
# in a cache folder outside the repository, installed once.
# Usage: moto.sh start|stop|url
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PORT="${POLYGATE_SERVERS_MOTO_PORT:-36590}"
VERSION="${POLYGATE_MOTO_VERSION:-5.2.5}"
VENV="${POLYGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/polygate/tools}/moto-$VERSION"
DIR="$SERVERS_DIR/moto-$PORT"

case "${1:-}" in
  start)
    ensure_packages curl
    if [ ! -x "$VENV/bin/moto_server" ]; then
      command -v python3 >/dev/null || ensure_packages python3
      python3 -m venv --help >/dev/null 2>&1 || ensure_packages python3-venv
      echo "installing moto[server]==$VERSION into $VENV" >&2
      python3 -m venv "$VENV"
      "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$VERSION" >&2
    fi
    if ! curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1; then
      mkdir -p "$DIR"
      nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$DIR/moto.log" 2>&1 &
      echo $! >"$DIR/moto.pid"
    fi
    # Another program on the port would pass a port check: wait for moto's own API to answer.
    for _ in $(seq 1 300); do
      curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1 && exit 0
      sleep 0.1
    done
    echo "moto did not answer on 127.0.0.1:$PORT (see $DIR/moto.log)" >&2
    exit 1
    ;;
  stop)
    if [ -f "$DIR/moto.pid" ]; then kill "$(cat "$DIR/moto.pid")" 2>/dev/null || true; fi
    rm -rf "$DIR"
    ;;
  url) echo "http://127.0.0.1:$PORT" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
