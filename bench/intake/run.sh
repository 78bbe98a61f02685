#!/usr/bin/env bash
# Benchmarks the report intake of `onfail serve` (SQLite, durable) side by side with an Express
# handler (express/server.js, in-memory store) and the floor (floor/: a bare axum handler that
# keeps nothing), all in one run, interleaved round by round, driven by wrk with a fresh report id
# per request (report.lua). Prints one Markdown table (also bench/out/intake/results.md).
# Installs what it needs (wrk, Express from express/package-lock.json, the musl target).
# Usage: bench/intake/run.sh [ROUNDS] [SECONDS] [CONNECTIONS]     (defaults 3, 10, 64)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3} SECONDS_EACH=${2:-10} CONNECTIONS=${3:-64}
HERE=bench/intake
OUT=bench/out/intake
MUSL=x86_64-unknown-linux-musl
rm -rf "$OUT" && mkdir -p "$OUT"

say() { printf '== %s\n' "$*" >&2; }

say "tools"
command -v wrk >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
command -v x86_64-linux-musl-gcc >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq musl-tools >/dev/null; }
rustup target add "$MUSL" >/dev/null 2>&1
[ -d "$HERE/express/node_modules/express" ] || (cd "$HERE/express" && npm ci --no-audit --no-fund -q >/dev/null)

say "builds: onfail (release, glibc and static musl), the floor (release)"
cargo build --release --locked 2>&1 | tail -n 1 >&2
cargo build --release --locked --target "$MUSL" 2>&1 | tail -n 1 >&2
CARGO_TARGET_DIR=$PWD/target/intake-floor cargo build --release --locked --manifest-path "$HERE/floor/Cargo.toml" 2>&1 | tail -n 1 >&2

TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PIDS=()
trap 'for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done' EXIT

# NAME PID URL: remembered for the rounds.
declare -A PID URL
started() { PID[$1]=$2; URL[$1]=$3; PIDS+=("$2"); }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

say "servers"
for build in glibc musl; do
  bin=target/release/onfail
  [ "$build" = musl ] && bin=target/$MUSL/release/onfail
  ONFAIL_RECEIVE_TOKEN=$TOKEN ONFAIL_API_TOKEN=$TOKEN-api "$bin" serve --listen 127.0.0.1:0 \
    --store "sqlite://$PWD/$OUT/onfail-$build.db" 2>"$OUT/onfail-$build.log" &
  pid=$!
  for _ in $(seq 100); do grep -q 'serving on' "$OUT/onfail-$build.log" && break; sleep 0.1; done
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$OUT/onfail-$build.log" | head -n 1)
  [ -n "$url" ] || { echo "onfail ($build) did not start:" >&2; cat "$OUT/onfail-$build.log" >&2; exit 1; }
  started "onfail-$build" "$pid" "$url"
done
port=$(free_port); node "$HERE/express/server.js" "$port" "$TOKEN" & started express $! "http://127.0.0.1:$port"
wait_port "$port"
port=$(free_port); target/intake-floor/release/intake-floor "$port" "$TOKEN" & started floor $! "http://127.0.0.1:$port"
wait_port "$port"

SERVERS=(onfail-glibc onfail-musl express floor)
say "a wrong token is refused and a report is taken, by each"
for name in "${SERVERS[@]}"; do
  reports="${URL[$name]}/v1/iletimerkezi/reports"
  body='{"report":{"id":"check","status":"delivered"}}'
  wrong=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$reports?token=nope")
  right=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$reports?token=$TOKEN")
  [ "$wrong" = 401 ] && [ "$right" = 200 ] || { echo "$name answered $wrong and $right, not 401 and 200" >&2; exit 1; }
done

say "rounds: $ROUNDS × ${SECONDS_EACH}s per server, $CONNECTIONS connections, interleaved"
# Whatever the builds (or anything before) left for the kernel to write back goes to the disk
# now, not during a round, where it would queue ahead of the commits' fsyncs.
sync
: >"$OUT/rounds.jsonl"
for round in $(seq "$ROUNDS"); do
  for name in "${SERVERS[@]}"; do
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    figures=$(wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_EACH}s" --latency -s "$HERE/report.lua" \
      "${URL[$name]}/v1/iletimerkezi/reports?token=$TOKEN" -- "round$round" | tail -n 1)
    load_after=$(cut -d' ' -f1 /proc/loadavg)
    printf '{"server":"%s","round":%d,"load_before":%s,"load_after":%s,"wrk":%s}\n' \
      "$name" "$round" "$load_before" "$load_after" "$figures" | tee -a "$OUT/rounds.jsonl" >&2
  done
done

say "peak RSS (VmHWM), then every answered report checked in the store"
for name in "${SERVERS[@]}"; do
  printf '{"server":"%s","vmhwm_kib":%s}\n' "$name" "$(awk '/^VmHWM/ {print $2}' "/proc/${PID[$name]}/status")" >>"$OUT/rss.jsonl"
done
printf '{"server":"express","kept":%s}\n' "$(curl -s "${URL[express]}/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" >>"$OUT/kept.jsonl"
for build in glibc musl; do
  # SIGKILL, not a graceful stop: what was answered 200 must be on disk already.
  kill -9 "${PID[onfail-$build]}"; wait "${PID[onfail-$build]}" 2>/dev/null || true
  kept=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM reports").fetchone()[0])' \
    "$OUT/onfail-$build.db")
  printf '{"server":"onfail-%s","kept":%s}\n' "$build" "$kept" >>"$OUT/kept.jsonl"
done

python3 "$HERE/table.py" "$OUT" "$CONNECTIONS" "$SECONDS_EACH" | tee "$OUT/results.md"
