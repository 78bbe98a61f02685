#!/usr/bin/env bash
# Benchmarks onfail side by side with curl and the peers (apprise, a Node script doing what a
# JavaScript action does), all against fake providers on 127.0.0.1, and prints one table.
# Installs what it needs (hyperfine, musl-tools, GNU time, the musl target, apprise, @actions/core).
# Usage: bench/run.sh            (results also go to bench/out/results.md)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
TARGET=x86_64-unknown-linux-musl
mkdir -p "$OUT"

say() { printf '== %s\n' "$*" >&2; }

say "tools"
if ! command -v hyperfine >/dev/null || ! command -v x86_64-linux-musl-gcc >/dev/null || [ ! -x /usr/bin/time ]; then
  apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine musl-tools time >/dev/null
fi
rustup target add "$TARGET" >/dev/null 2>&1
[ -x "$OUT/venv/bin/apprise" ] || { python3 -m venv "$OUT/venv" && "$OUT/venv/bin/pip" install -q apprise==2.2.0; }
if [ ! -d "$OUT/node/node_modules/@actions/core" ]; then
  mkdir -p "$OUT/node" && (cd "$OUT/node" && npm init -y >/dev/null && npm install -q --no-audit --no-fund @actions/core@3 >/dev/null)
fi
cp bench/node-post.mjs "$OUT/node/"

say "static musl build"
cargo build --release --locked --target "$TARGET" 2>&1 | tail -n 1 >&2
BIN="target/$TARGET/release/onfail"
file "$BIN" | grep -q 'static' || { echo "the binary is not static" >&2; exit 1; }

say "fake providers"
python3 bench/fake_provider.py 0 >"$OUT/fast.port" & FAST_PID=$!
python3 bench/fake_provider.py 0.5 >"$OUT/slow.port" & SLOW_PID=$!
RELEASE_PID=""
TLS_PID=""
trap 'kill $FAST_PID $SLOW_PID $RELEASE_PID $TLS_PID 2>/dev/null || true' EXIT
for f in fast slow; do for _ in $(seq 50); do [ -s "$OUT/$f.port" ] && break; sleep 0.1; done; done
FAST="http://127.0.0.1:$(cat "$OUT/fast.port")"
SLOW="http://127.0.0.1:$(cat "$OUT/slow.port")"

printf '%s' '{"phone_number":"5550001122","error_message":"CI alert. Workflow Deploy failed in acme/api on branch main."}' \
  >"$OUT/body.json"
ONFAIL_ONE="$BIN send --alertalk-url $FAST/webhook/receive --alertalk-webhook-key k-bench --phone-numbers 5550001122"
CURL_ONE="curl -sS -o /dev/null -X POST -H Content-Type:application/json -H X-Webhook-Key:k-bench --data-binary @$OUT/body.json $FAST/webhook/receive"
APPRISE_ONE="$OUT/venv/bin/apprise -b bench-alert json://127.0.0.1:$(cat "$OUT/fast.port")/webhook/receive"
NODE_ONE="env INPUT_URL=$FAST/webhook/receive INPUT_KEY=k-bench INPUT_MESSAGE=bench node $OUT/node/node-post.mjs"
FOUR="$BIN send --timeout 10s \
  --alertalk-url $SLOW/webhook/receive --alertalk-webhook-key k-bench --phone-numbers 5550001122 \
  --iletimerkezi-url $SLOW --iletimerkezi-key k-bench --iletimerkezi-hash h-bench --sms-sender ONFAIL \
  --temperstack-url $SLOW/api/integration/webhook/k-bench \
  --webhook-url $SLOW/hook"

say "one voice alert POST: onfail, curl, apprise, node + @actions/core"
hyperfine -N --style basic --warmup 5 --runs 40 --export-json "$OUT/one.json" \
  -n onfail "$ONFAIL_ONE" -n curl "$CURL_ONE" -n apprise "$APPRISE_ONE" -n node "$NODE_ONE" >&2

say "one voice alert over HTTPS, onfail and curl given the same trust, in two set-ups"
# (a) the private CA alone in SSL_CERT_FILE; (b) the system bundle plus the private CA in
# SSL_CERT_FILE and SSL_CERT_DIR=/etc/ssl/certs, as many images and self-hosted runners have it.
# The set-up is the environment hyperfine runs in, as a runner's image sets it, so neither tool
# runs under a wrapper; curl is also given the files as options.
bench/https_certs.sh "$OUT/tls"
python3 bench/fake_provider.py 0 "$OUT/tls/server.pem" "$OUT/tls/server.key" >"$OUT/tls.port" & TLS_PID=$!
for _ in $(seq 50); do [ -s "$OUT/tls.port" ] && break; sleep 0.1; done
TLS="https://127.0.0.1:$(cat "$OUT/tls.port")/webhook/receive"
ONFAIL_TLS="$BIN send --alertalk-url $TLS --alertalk-webhook-key k-bench --phone-numbers 5550001122"
CURL_TLS="curl -sS -o /dev/null -X POST -H Content-Type:application/json -H X-Webhook-Key:k-bench --data-binary @$OUT/body.json"
https() { # SETUP CURL_TRUST_OPTIONS, with the set-up's variables in the environment
  $ONFAIL_TLS 2>&1 | grep -q 'result: sent' || { echo "no HTTPS alert in set-up $1" >&2; $ONFAIL_TLS >&2 || true; exit 1; }
  # shellcheck disable=SC2086 # the curl options are a word list on purpose
  hyperfine -N --style basic --warmup 5 --runs 60 --export-json "$OUT/https-$1.json" \
    -n "onfail-$1" "$ONFAIL_TLS" -n "curl-$1" "$CURL_TLS $2 $TLS" >&2
}
SSL_CERT_FILE=$OUT/tls/ca.pem https a "--cacert $OUT/tls/ca.pem"
SSL_CERT_FILE=$OUT/tls/bundle.pem SSL_CERT_DIR=/etc/ssl/certs \
  https b "--cacert $OUT/tls/bundle.pem --capath /etc/ssl/certs"

say "four channels, every provider answering after 500 ms"
$FOUR 2>&1 | grep -q 'result: sent (sent: voice,sms,temperstack,webhook)' \
  || { echo "the four-channel send did not deliver on every channel:" >&2; $FOUR >&2 || true; exit 1; }
hyperfine -N --style basic --warmup 1 --runs 8 --export-json "$OUT/four.json" -n four-channels "$FOUR" >&2

say "peak RSS"
for name in onfail curl apprise node; do
  case $name in
    onfail) cmd=$ONFAIL_ONE ;; curl) cmd=$CURL_ONE ;; apprise) cmd=$APPRISE_ONE ;; node) cmd=$NODE_ONE ;;
  esac
  # shellcheck disable=SC2086 # the command lines are word lists on purpose
  python3 bench/maxrss.py 5 $cmd >"$OUT/rss-$name.txt"
done
# shellcheck disable=SC2086
python3 bench/maxrss.py 3 $FOUR >"$OUT/rss-four.txt"

say "binary size"
stat -c %s "$BIN" >"$OUT/size.txt"
gzip -9 -c "$BIN" | wc -c >"$OUT/size-gz.txt"

say "action install step from a local release asset"
bench/install_step.sh "$BIN" "$OUT" >"$OUT/install.txt"

python3 bench/table.py "$OUT" | tee "$OUT/results.md"
