#!/usr/bin/env bash
# A private PostgreSQL for the store tests of `onfail serve` (docs/service.md, "onfail serve"): a scratch
# cluster on a free port of 127.0.0.1, no system service, run as an unprivileged user.
#
#   tests/postgres.sh start DIR   installs Debian's postgresql when it is missing, starts the
#                                 cluster in DIR and prints its URL (for ONFAIL_TEST_POSTGRES);
#                                 it also takes TLS, with DIR/ca.pem as its CA (ONFAIL_TEST_POSTGRES_CA)
#   tests/postgres.sh stop DIR    stops it
#
# .ci/run uses it; locally:  d=$(mktemp -d); export ONFAIL_TEST_POSTGRES=$(tests/postgres.sh start "$d")
set -euo pipefail

bin_dir() {
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
  done | sort -V | tail -n 1
}

# as_owner CMD...: runs CMD as the cluster's owner (postgres refuses to run as root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=$1 bin port
  bin=$(bin_dir)
  if [ -z "$bin" ]; then
    echo "tests/postgres.sh: installing postgresql (apt-get)" >&2
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 ||
      { ${sudo[@]+"${sudo[@]}"} apt-get update -qq >&2 &&
        ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; }
    bin=$(bin_dir)
  fi
  chmod 755 "$dir"
  mkdir -p "$dir/data"
  if [ "$(id -u)" = 0 ]; then chown nobody "$dir/data"; chown nobody "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U onfail --auth trust --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # TLS for the sslmode=require tests (docs/serve-deploy.md, "PostgreSQL"): a private CA in
  # DIR/ca.pem (ONFAIL_TEST_POSTGRES_CA) and a certificate for 127.0.0.1 signed by it; plain
  # connections keep working. openssl comes with Debian's postgresql (through ssl-cert).
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 3 -subj "/CN=onfail test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req "${ec[@]}" -subj "/CN=127.0.0.1" -keyout "$dir/data/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 3 \
    -extfile "$dir/server.ext" -out "$dir/data/server.crt" 2>/dev/null
  chmod 600 "$dir/data/server.key"
  if [ "$(id -u)" = 0 ]; then chown nobody "$dir/data/server.key" "$dir/data/server.crt"; fi
  port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-p $port -k $dir -h 127.0.0.1 -c fsync=off -c max_connections=200 -c ssl=on" start >&2 ||
    { cat "$dir/postgres.log" >&2; exit 1; }
  echo "$bin" >"$dir/bin"
  echo "postgres://onfail@127.0.0.1:$port/postgres"
}

stop() {
  local dir=$1
  if [ -f "$dir/bin" ]; then
    as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) echo "usage: tests/postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
