#!/usr/bin/env bash
# Times the action's install step (action/install.sh, install=release) against a release served
# from 127.0.0.1: download, SHA-256 check against SHA256SUMS, unpack. Prints the mean in ms.
# Usage: bench/install_step.sh BINARY OUTDIR
set -euo pipefail
bin=$1 out=$2
release="$out/release" runner="$out/runner"
rm -rf "$release" && mkdir -p "$release"
asset=onfail-x86_64-unknown-linux-musl.tar.gz
tar -czf "$release/$asset" -C "$(dirname "$bin")" onfail
(cd "$release" && sha256sum "$asset" >SHA256SUMS)

python3 -m http.server 0 --bind 127.0.0.1 --directory "$release" >"$out/release.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$out/release.log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "the release server did not start" >&2; exit 1; }

run_install() {
  env ONFAIL_INSTALL=release ONFAIL_RELEASE_BASE_URL="http://127.0.0.1:$port" GITHUB_ACTION_PATH="$PWD" \
    RUNNER_TEMP="$runner" RUNNER_OS=Linux RUNNER_ARCH=X64 GITHUB_OUTPUT="$out/install-output" \
    bash action/install.sh
}
rm -rf "$runner" && mkdir -p "$runner" && run_install >&2
grep -q '^bin=' "$out/install-output" || { echo "install.sh wrote no bin= output" >&2; exit 1; }

hyperfine -N --style basic --warmup 1 --runs 10 --prepare "rm -rf $runner" --export-json "$out/install.json" \
  "env ONFAIL_INSTALL=release ONFAIL_RELEASE_BASE_URL=http://127.0.0.1:$port GITHUB_ACTION_PATH=$PWD RUNNER_TEMP=$runner RUNNER_OS=Linux RUNNER_ARCH=X64 GITHUB_OUTPUT=$out/install-output bash action/install.sh" >&2
python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["mean"]*1000, 1))' "$out/install.json"
