#!/usr/bin/env bash
# PostgreSQL 15 for tests: a throwaway cluster on 127.0.0.1:$PORT, owned by the postgres user.
# It serves TLS with a certificate for 127.0.0.1 signed by a throwaway CA made at init (openssl),
# so clients can check it with sslmode=verify-full; `ca` prints that CA's certificate file.
# Every role signs in without a password (trust), except members of the group role
# polygate_password_login, who must give theirs (SCRAM): tests of credentials read from a secret
# show a right password accepted and a wrong one refused.
# Usage: postgres.sh start|stop|url|ca
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PORT="${POLYGATE_SERVERS_PG_PORT:-55432}"
DATA="$SERVERS_DIR/postgres-$PORT"
CA="$SERVERS_DIR/postgres-$PORT-ca.crt"
BIN=/usr/lib/postgresql/15/bin

# A CA (its key thrown away once used) and a server certificate for 127.0.0.1 it signs, into $DATA.
make_certificates() {
  local work; work=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=polygate test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=polygate-test-postgres" \
    -keyout "$DATA/server.key" -out "$work/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName = IP:127.0.0.1, DNS:polygate-test-postgres" \
    "basicConstraints = critical, CA:FALSE" "extendedKeyUsage = serverAuth" > "$work/server.ext"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAcreateserial -days 3650 -extfile "$work/server.ext" -out "$DATA/server.crt" 2>/dev/null
  cp "$work/ca.crt" "$CA"; chmod 644 "$CA"
  chmod 600 "$DATA/server.key"
  [ "$(id -u)" -eq 0 ] && chown postgres "$DATA/server.key" "$DATA/server.crt"
  rm -rf "$work"
}

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    ensure_packages postgresql-15 postgresql-contrib postgresql-15-partman openssl
    if [ ! -s "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA"; mkdir -p "$DATA"; [ "$(id -u)" -eq 0 ] && chown postgres "$DATA"
      as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
      make_certificates
      cat >> "$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_preload_libraries = 'pg_stat_statements'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
    fi
    password_rule="host all +polygate_password_login 127.0.0.1/32 scram-sha-256"
    rule_added=0
    if ! grep -qF "$password_rule" "$DATA/pg_hba.conf"; then
      sed -i "1i $password_rule" "$DATA/pg_hba.conf"; rule_added=1
    fi
    if ! as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w start >/dev/null
    elif [ "$rule_added" = 1 ]; then
      as_postgres "$BIN/pg_ctl" -D "$DATA" reload >/dev/null
    fi
    wait_for_port 127.0.0.1 "$PORT" 30
    "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAt -c "DO \$\$ BEGIN
      CREATE ROLE polygate_password_login NOLOGIN;
      EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" >/dev/null
    ;;
  stop)
    [ -d "$DATA" ] && as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DATA" "$CA"
    ;;
  url) echo "postgres://postgres@127.0.0.1:$PORT/postgres" ;;
  ca) echo "$CA" ;;
  *) echo "usage: $0 start|stop|url|ca" >&2; exit 2 ;;
esac
