#!/usr/bin/env bash
# Measures what --notify-when changes adds to a send: the same failing voice alert under
# GitHub Actions with `always` (no lookup), with `changes` comparing the whole run (one request),
# and with `changes` inside a job (three requests), against a fake GitHub API on 127.0.0.1.
# Usage: bench/history.sh        (results also go to bench/out/history.md)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"

command -v hyperfine >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --locked 2>&1 | tail -n 1 >&2
BIN=target/release/onfail

python3 bench/fake_github.py >"$OUT/github.port" & GITHUB_PID=$!
python3 bench/fake_provider.py 0 >"$OUT/history-provider.port" & PROVIDER_PID=$!
trap 'kill $GITHUB_PID $PROVIDER_PID 2>/dev/null || true' EXIT
for f in github history-provider; do for _ in $(seq 50); do [ -s "$OUT/$f.port" ] && break; sleep 0.1; done; done

export GITHUB_ACTIONS=true GITHUB_REPOSITORY=acme/api GITHUB_WORKFLOW=Deploy GITHUB_JOB=deploy \
  GITHUB_REF_NAME=main GITHUB_RUN_ID=4242 GITHUB_RUN_NUMBER=47 GITHUB_RUN_ATTEMPT=1 \
  GITHUB_WORKFLOW_REF=acme/api/.github/workflows/deploy.yml@refs/heads/main \
  GITHUB_API_URL="http://127.0.0.1:$(cat "$OUT/github.port")" ONFAIL_GITHUB_TOKEN=ghs-bench
SEND="$BIN send --alertalk-url http://127.0.0.1:$(cat "$OUT/history-provider.port")/webhook/receive \
  --alertalk-webhook-key k-bench --phone-numbers 5550001122"

$SEND --notify-when changes --check-run-id 777 2>&1 | grep -q 'edge: first-failure' \
  || { echo "the lookup did not find the previous run:" >&2; $SEND --notify-when changes --check-run-id 777 >&2; exit 1; }
hyperfine -N --style basic --warmup 5 --runs 40 --export-json "$OUT/history.json" \
  -n always "$SEND --notify-when always" \
  -n changes-run "$SEND --notify-when changes" \
  -n changes-job "$SEND --notify-when changes --check-run-id 777" >&2

python3 - "$OUT/history.json" <<'PY' | tee "$OUT/history.md"
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = results["always"]["mean"] * 1000
print(f"| send, --notify-when always (no lookup) | {base:.1f} ± {results['always']['stddev'] * 1000:.1f} ms |")
for name, what in [("changes-run", "whole run, 1 request"), ("changes-job", "same job, 3 requests")]:
    mean, sd = results[name]["mean"] * 1000, results[name]["stddev"] * 1000
    print(f"| send, --notify-when changes ({what}) | {mean:.1f} ± {sd:.1f} ms ({mean - base:+.1f} ms) |")
PY
