#!/usr/bin/env bash
# Tests for action/install.sh: a fake release (archives holding a stand-in `onfail` script,
# plus SHA256SUMS) is served from a file:// directory and from an HTTP server on 127.0.0.1, and
# the script must install and verify it, refuse a bad checksum, fall back to a source build on a
# 404 (with a stand-in cargo), and fail clearly on everything else.
#
# Usage: tests/action/install-test.sh      (needs bash, curl, python3, sha256sum or shasum)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
script="$repo/action/install.sh"
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. "$repo/tests/lib.sh"
make_scratch

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml" | head -n 1)
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d ' ' -f 1; else shasum -a 256 "$1" | cut -d ' ' -f 1; fi; }

# The fake release: one archive per target, each holding a script that answers --version.
release="$scratch/release"
mkdir -p "$release" "$scratch/pack"
stand_in() { printf '#!/bin/sh\necho "onfail %s (%s)"\n' "$version" "$1" >"$scratch/pack/$2" && chmod +x "$scratch/pack/$2"; }
for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin; do
  stand_in "$target" onfail
  tar -czf "$release/onfail-$target.tar.gz" -C "$scratch/pack" onfail
  rm "$scratch/pack/onfail"
done
stand_in x86_64-pc-windows-msvc onfail.exe
python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    info = zipfile.ZipInfo("onfail.exe"); info.external_attr = 0o755 << 16
    z.writestr(info, open(sys.argv[2], "rb").read())' "$release/onfail-x86_64-pc-windows-msvc.zip" "$scratch/pack/onfail.exe"
(cd "$release" && for f in onfail-*; do echo "$(sha256 "$f")  $f"; done) >"$release/SHA256SUMS"

# A static server for the same directory on 127.0.0.1, to exercise the curl path and real 404s.
python3 - "$release" "$scratch/port" <<'EOF' &
import functools, http.server, os, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
EOF
server_pid=$!
for _ in $(seq 1 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done
http_base="http://127.0.0.1:$(cat "$scratch/port")"

# A stand-in cargo for the source fallback: "builds" by writing a script where cargo would.
mkdir -p "$scratch/fakebin"
cat >"$scratch/fakebin/cargo" <<'EOF'
#!/usr/bin/env bash
echo "fake cargo $*" >>"$FAKE_CARGO_LOG"
mkdir -p "$CARGO_TARGET_DIR/release"
printf '#!/bin/sh\necho "onfail built-from-source"\n' >"$CARGO_TARGET_DIR/release/onfail"
chmod +x "$CARGO_TARGET_DIR/release/onfail"
EOF
chmod +x "$scratch/fakebin/cargo"

# A script that hangs (a download without a timeout) fails its case instead of hanging the tests.
guard=()
if command -v timeout >/dev/null 2>&1; then guard=(timeout 120); fi

# install NAME [VAR=VALUE...]: runs install.sh as the action would; sets $rc, $log, $bin.
install() {
  local name=$1
  shift
  local dir="$scratch/case-$name"
  mkdir -p "$dir/temp"
  : >"$dir/output"
  rc=0
  ${guard[@]+"${guard[@]}"} env -u CARGO_TARGET_DIR GITHUB_ACTION_PATH="$repo" RUNNER_TEMP="$dir/temp" GITHUB_OUTPUT="$dir/output" \
    RUNNER_OS=Linux RUNNER_ARCH=X64 ONFAIL_RELEASE_BASE_URL="file://$release" FAKE_CARGO_LOG="$dir/cargo.log" \
    PATH="$scratch/fakebin:$PATH" "$@" bash "$script" >"$dir/log" 2>&1 || rc=$?
  log=$(cat "$dir/log")
  bin=$(sed -n 's/^bin=//p' "$dir/output")
}
expect_ok() { # WHAT EXPECTED_VERSION_TEXT
  if [ "$rc" = 0 ] && [ -n "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "$2" ]; then pass "$1"; else fail "$1 (rc $rc, bin '$bin'): $log"; fi
}
expect_error() { # WHAT TEXT
  if [ "$rc" != 0 ] && [ -z "$bin" ] && grep -qF "::error title=onfail install::" <<<"$log" && grep -qF -- "$2" <<<"$log"; then
    pass "$1"
  else
    fail "$1 (rc $rc, expected an ::error:: with '$2'): $log"
  fi
}

echo "== action/install.sh"
install linux-file
expect_ok "Linux x64 from a file:// release, verified" "onfail $version (x86_64-unknown-linux-musl)"
case "$bin" in */temp/onfail/"$version"/x86_64-unknown-linux-musl/onfail) pass "installed under RUNNER_TEMP/onfail" ;; *) fail "installed at $bin" ;; esac
if grep -qF "verified onfail-x86_64-unknown-linux-musl.tar.gz (sha256 " <<<"$log"; then pass "says what it verified"; else fail "no verification note: $log"; fi

install linux-arm-http ONFAIL_RELEASE_BASE_URL="$http_base" RUNNER_ARCH=ARM64
expect_ok "Linux arm64 over http from 127.0.0.1 (curl)" "onfail $version (aarch64-unknown-linux-musl)"
install macos-arm RUNNER_OS=macOS RUNNER_ARCH=ARM64
expect_ok "macOS arm64" "onfail $version (aarch64-apple-darwin)"
install macos-x64 RUNNER_OS=macOS
expect_ok "macOS x64" "onfail $version (x86_64-apple-darwin)"
if command -v unzip >/dev/null 2>&1 || command -v 7z >/dev/null 2>&1; then
  install windows RUNNER_OS=Windows
  expect_ok "Windows x64 from the .zip" "onfail $version (x86_64-pc-windows-msvc)"
  install windows-arm RUNNER_OS=Windows RUNNER_ARCH=ARM64
  expect_ok "Windows arm64 uses the x64 asset" "onfail $version (x86_64-pc-windows-msvc)"
else
  echo "  skipped: the Windows .zip cases (no unzip or 7z on this machine)"
fi

cp -r "$release" "$scratch/tampered"
echo "tampered" >>"$scratch/tampered/onfail-x86_64-unknown-linux-musl.tar.gz"
install tampered ONFAIL_RELEASE_BASE_URL="file://$scratch/tampered"
expect_error "a checksum mismatch is refused" "checksum mismatch for onfail-x86_64-unknown-linux-musl.tar.gz"
if [ -e "$scratch/case-tampered/temp/onfail/$version/x86_64-unknown-linux-musl/onfail" ]; then fail "the tampered archive was unpacked"; else pass "nothing was unpacked"; fi

mkdir -p "$scratch/nosums" && cp "$release"/onfail-* "$scratch/nosums/"
install nosums ONFAIL_RELEASE_BASE_URL="file://$scratch/nosums"
expect_error "an asset without SHA256SUMS is refused" "cannot be verified"

install missing-release ONFAIL_RELEASE_BASE_URL="$http_base/nowhere" ONFAIL_INSTALL=release
expect_error "install: release with no asset (HTTP 404) fails" "has no asset for x86_64-unknown-linux-musl (HTTP 404)"

install fallback ONFAIL_RELEASE_BASE_URL="$http_base/nowhere"
expect_ok "install: auto with no asset (HTTP 404) builds from source" "onfail built-from-source"
if grep -qF -- "--release --locked" "$scratch/case-fallback/cargo.log" 2>/dev/null; then pass "the source build is --release --locked"; else fail "cargo was not run as expected"; fi

install unknown-platform RUNNER_OS=Linux RUNNER_ARCH=ARM
expect_ok "an unknown platform builds from source" "onfail built-from-source"
install unknown-platform-release RUNNER_OS=Linux RUNNER_ARCH=ARM ONFAIL_INSTALL=release
expect_error "an unknown platform with install: release fails" "no release asset is built for Linux/ARM"

install source ONFAIL_INSTALL=source
expect_ok "install: source builds from source" "onfail built-from-source"

install bad-mode ONFAIL_INSTALL=latest
expect_error "a bad install value is refused" "install: 'latest' is not valid; use auto, release or source"

install plain-http ONFAIL_RELEASE_BASE_URL="http://example.com/releases"
expect_error "plain http to another host is refused" "ONFAIL_RELEASE_BASE_URL must be https://"
# The host of each of these is not loopback, whatever its first characters say.
for bad in "http://127.0.0.1:x@example.invalid/" "http://localhost@example.invalid" "http://[::1]@example.invalid/" \
  "http://127.0.0.1.example.invalid/" "http://localhost.example.invalid:80/" "http://127.0.0.1:80\\@example.invalid/"; do
  install userinfo ONFAIL_RELEASE_BASE_URL="$bad"
  expect_error "plain http to $bad is refused" "ONFAIL_RELEASE_BASE_URL must be https://"
done
install loopback-upper ONFAIL_RELEASE_BASE_URL="HTTP://LOCALHOST:$(cat "$scratch/port")"
expect_ok "http://localhost:PORT (any case, no path) is accepted" "onfail $version (x86_64-unknown-linux-musl)"
# A bare http://localhost means port 80, where nothing of ours listens: the URL must pass the
# check and the download be tried (and fail quickly with the short test timeout).
install loopback-bare ONFAIL_RELEASE_BASE_URL="http://localhost" ONFAIL_INSTALL_TIMEOUT=2
if grep -qF "downloading http://localhost/onfail-x86_64-unknown-linux-musl.tar.gz" <<<"$log" &&
  ! grep -qF "must be https://" <<<"$log"; then
  pass "a bare http://localhost is accepted"
else
  fail "a bare http://localhost was not tried: $log"
fi

# Every curl call carries the connect and total timeouts (a spy curl records the arguments).
mkdir -p "$scratch/spy"
real_curl=$(command -v curl)
printf '#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' "$scratch/spy/calls" "$real_curl" >"$scratch/spy/curl"
chmod +x "$scratch/spy/curl"
install curl-args ONFAIL_RELEASE_BASE_URL="$http_base" PATH="$scratch/spy:$scratch/fakebin:$PATH"
expect_ok "the curl download works through the spy" "onfail $version (x86_64-unknown-linux-musl)"
calls=$(wc -l <"$scratch/spy/calls")
timed=$(grep -c -- "--connect-timeout 10 --max-time 60 .*--retry-max-time 60 " "$scratch/spy/calls" || true)
if [ "$calls" -eq 2 ] && [ "$timed" -eq 2 ]; then
  pass "both curl calls have --connect-timeout 10, --max-time 60 and --retry-max-time 60"
else
  fail "curl calls without the timeouts ($timed of $calls): $(cat "$scratch/spy/calls")"
fi

# A server that accepts the connection and never answers: the download must give up on its own.
python3 - "$scratch/stall-port" <<'PY' &
import os, socket, sys, time
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(listener.getsockname()[1]))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    conn, _ = listener.accept()
    held.append(conn)  # read nothing, answer nothing, keep it open
PY
stall_pid=$!
for _ in $(seq 1 100); do [ -s "$scratch/stall-port" ] && break; sleep 0.1; done
started=$(date +%s)
install stalled ONFAIL_RELEASE_BASE_URL="http://127.0.0.1:$(cat "$scratch/stall-port")" ONFAIL_INSTALL_TIMEOUT=2
elapsed=$(($(date +%s) - started))
kill "$stall_pid" 2>/dev/null || true
expect_error "a stalled download fails" "downloading http://127.0.0.1:"
# 2 s of total time; the bound is generous for a loaded machine, and far below curl's default of never.
if [ "$elapsed" -le 30 ]; then pass "the stalled download gave up after ${elapsed}s (timeout 2s)"; else fail "the stalled download took ${elapsed}s"; fi
install bad-timeout ONFAIL_INSTALL_TIMEOUT=1m
expect_error "a bad ONFAIL_INSTALL_TIMEOUT is refused" "ONFAIL_INSTALL_TIMEOUT: '1m' is not a whole number of seconds"

# path_without NAME TOOL...: a directory of links to everything on PATH except TOOL..., to take
# a tool away from the script while keeping bash, curl, tar and the rest.
path_without() {
  local dir="$scratch/path-$1"
  shift
  python3 - "$dir" "$@" <<'PY'
import os, sys
out, skip = sys.argv[1], set(sys.argv[2:])
os.makedirs(out, exist_ok=True)
for d in os.environ["PATH"].split(os.pathsep):
    if not os.path.isdir(d):
        continue
    for name in os.listdir(d):
        src, dst = os.path.join(d, name), os.path.join(out, name)
        if name not in skip and os.access(src, os.X_OK) and not os.path.lexists(dst):
            os.symlink(src, dst)
PY
  echo "$dir"
}

install no-hasher PATH="$(path_without no-hasher sha256sum shasum)"
expect_error "no sha256sum or shasum is one clear error" "neither sha256sum nor shasum is installed"
if [ "$(grep -c '::error' <<<"$log")" = 1 ]; then pass "exactly one ::error:: for the missing hash tool"; else fail "several errors: $log"; fi
if [ -z "$(ls -A "$scratch/case-no-hasher/temp" 2>/dev/null)" ]; then pass "nothing was downloaded without a hash tool"; else fail "downloaded without a hash tool"; fi

no_unzip=$(path_without no-unzip unzip 7z cygpath)
install windows-no-unzip RUNNER_OS=Windows PATH="$no_unzip"
expect_error "a .zip without unzip or 7z fails clearly" "needs unzip or 7z, and neither is on PATH"
# The 7z fallback, as on Git Bash: 7z is native and reads Windows paths, so the script must hand
# it paths through cygpath -w. The stand-ins mark native paths with a Z: drive and 7z refuses
# anything else.
mkdir -p "$scratch/win"
cat >"$scratch/win/cygpath" <<'SH'
#!/bin/sh
case "$1" in
  -w) echo "Z:$2" ;;
  *) echo "${2#Z:}" ;;
esac
SH
cat >"$scratch/win/7z" <<'SH'
#!/bin/sh
[ "$1" = x ] && [ "$2" = -y ] || { echo "7z: unexpected arguments $*" >&2; exit 2; }
case "$3" in -oZ:/*) out=${3#-oZ:} ;; *) echo "7z: cannot read the output path $3" >&2; exit 2 ;; esac
case "$4" in Z:/*) archive=${4#Z:} ;; *) echo "7z: cannot read the archive path $4" >&2; exit 2 ;; esac
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$out"
SH
chmod +x "$scratch/win/cygpath" "$scratch/win/7z"
install windows-7z RUNNER_OS=Windows PATH="$scratch/win:$no_unzip"
expect_ok "without unzip, 7z unpacks the .zip from a native path" "onfail $version (x86_64-pc-windows-msvc)"

no_cargo_path="/usr/bin:/bin"
if PATH="$no_cargo_path" command -v cargo >/dev/null 2>&1; then
  echo "  skipped: the no-cargo case (cargo is in $no_cargo_path here)"
else
  install no-cargo ONFAIL_INSTALL=source PATH="$no_cargo_path"
  expect_error "a source build without cargo fails clearly" "needs cargo (Rust), which is not on PATH"
fi

# On its own, as on a cron host: only the script (no checkout, so no Cargo.toml), no GitHub or
# runner variables; the platform comes from uname.
mkdir -p "$scratch/alone"
cp "$script" "$scratch/alone/install.sh"
standalone() { # NAME VAR=VALUE...: sets $rc, $log, $out
  local name=$1
  shift
  rc=0
  env -i PATH="$PATH" HOME="$scratch/alone" TMPDIR="$scratch/alone" "$@" bash "$scratch/alone/install.sh" \
    >"$scratch/alone/$name.out" 2>"$scratch/alone/$name.log" || rc=$?
  out=$(cat "$scratch/alone/$name.out")
  log=$(cat "$scratch/alone/$name.log")
}
for round in first again; do
  standalone "$round" ONFAIL_VERSION="v$version" ONFAIL_INSTALL=release ONFAIL_RELEASE_BASE_URL="$http_base" \
    ONFAIL_INSTALL_DIR="$scratch/alone/bin"
  if [ "$rc" = 0 ] && [ "$out" = "$scratch/alone/bin/onfail" ] && [[ "$("$out" --version)" == "onfail $version ("* ]] &&
    grep -qF "verified onfail-" <<<"$log"; then
    pass "on its own ($round): verified, installed into ONFAIL_INSTALL_DIR, path printed"
  else
    fail "on its own ($round): rc $rc, printed '$out': $log"
  fi
done
standalone no-version ONFAIL_INSTALL=release ONFAIL_RELEASE_BASE_URL="$http_base"
if [ "$rc" != 0 ] && grep -qF "set ONFAIL_VERSION, e.g. ONFAIL_VERSION=1.0.0" <<<"$log"; then pass "on its own without a version: says to set ONFAIL_VERSION"; else fail "no version: rc $rc: $log"; fi
standalone bad-version ONFAIL_VERSION=latest ONFAIL_RELEASE_BASE_URL="$http_base"
if [ "$rc" != 0 ] && grep -qF "ONFAIL_VERSION: 'latest' is not a release version" <<<"$log"; then pass "a bad ONFAIL_VERSION is refused"; else fail "bad version: rc $rc: $log"; fi
standalone no-repo ONFAIL_VERSION="$version" ONFAIL_INSTALL=release
if [ "$rc" != 0 ] && grep -qF "set ONFAIL_ACTION_REPOSITORY=owner/repo" <<<"$log"; then pass "on its own without a repository: says to set ONFAIL_ACTION_REPOSITORY"; else fail "no repo: rc $rc: $log"; fi
standalone no-source ONFAIL_VERSION="$version" ONFAIL_INSTALL=source
if [ "$rc" != 0 ] && grep -qF "needs its source next to this script" <<<"$log"; then pass "on its own, install: source without a checkout fails clearly"; else fail "no source: rc $rc: $log"; fi
# Under the action the action's own version always wins.
install action-ignores-version ONFAIL_VERSION=9.9.9
expect_ok "under the action, ONFAIL_VERSION is ignored" "onfail $version (x86_64-unknown-linux-musl)"

if [ "$failures" -ne 0 ]; then
  echo "install-tests: $passes passed, $failures failed" >&2
  exit 1
fi
echo "install-tests: $passes passed, $failures failed"
