#!/usr/bin/env bash
# Every release target that can be built on Linux, built and run on this machine:
#
#   x86_64-unknown-linux-musl   built with musl-tools, run natively
#   aarch64-unknown-linux-musl  built with Debian's aarch64 cross gcc, run under qemu-user
#   x86_64-pc-windows-gnu       built with mingw-w64, run under Wine
#
# Each binary must be static (Linux) or need only system DLLs (Windows), print its version, send
# one voice alert to a fake Alertalk on 127.0.0.1 (tests/action/fake_alertalk.py) and, wrapping
# a failing command with `onfail run`, exit with its code and send the alert for it. The
# requests are checked where the server recorded them, and no output may show the key.
#
# The release's Windows asset is built with MSVC on a Windows runner (.github/workflows/
# release.yml); the gnu build here compiles the same Windows code paths of onfail.
#
# Usage: tests/targets/run.sh   (installs what is missing: apt-get as root or through sudo, rustup)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export CARGO_TERM_COLOR=never RUST_BACKTRACE=0
started=$SECONDS

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-pc-windows-gnu)

# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. "$repo/tests/lib.sh"
say() { printf '\n== %s\n' "$*"; }

say "tools (Debian packages, Rust targets)"
packages=(file binutils musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  gcc-mingw-w64-x86-64 wine wine64)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -qx 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "installing ${missing[*]}"
  ${sudo[@]+"${sudo[@]}"} apt-get update -q >/dev/null
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
rustup target add "${targets[@]}"

say "release builds: ${targets[*]}"
# ring compiles C for the target; Debian's aarch64 gcc (with its libc headers) serves for musl,
# since ring uses no libc functions, and links the static binary against Rust's bundled musl.
export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
# SQLite (onfail serve) is built without large-file variants, which musl does not export: see
# LIBSQLITE3_FLAGS in .cargo/config.toml.
build_started=$SECONDS
cargo build --release --locked "${targets[@]/#/--target=}"
echo "built in $((SECONDS - build_started)) s"

make_scratch
export WINEPREFIX="$scratch/wine" WINEDEBUG=-all
# Stops the Wine server of this scratch prefix only.
cleanup_more() { if [ -d "$WINEPREFIX" ]; then wineserver -k 2>/dev/null || true; fi; }

binary() {
  case "$1" in
    *windows*) echo "target/$1/release/onfail.exe" ;;
    *) echo "target/$1/release/onfail" ;;
  esac
}

say "static linking"
for target in "${targets[@]}"; do
  bin=$(binary "$target")
  echo "$target: $(wc -c <"$bin") bytes, $(file -b "$bin")"
  case "$target" in
    *linux*)
      if file -b "$bin" | grep -Eq 'statically linked|static-pie linked'; then pass "$target: file says static"; else fail "$target: file says $(file -b "$bin")"; fi
      if readelf -lW "$bin" | grep -q 'program interpreter' || readelf -dW "$bin" | grep -q '(NEEDED)'; then
        fail "$target: has a program interpreter or needs shared libraries"
      else
        pass "$target: no interpreter, no shared libraries (readelf)"
      fi
      ;;
    *windows*)
      # Only DLLs every Windows has; a mingw runtime DLL (libgcc_s_seh-1.dll,
      # libwinpthread-1.dll) would make the binary fail to start on a clean runner.
      dlls=$(x86_64-w64-mingw32-objdump -p "$bin" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr '\n' ' ')
      if grep -qi '\blib[^ ]*\.dll' <<<"$dlls"; then fail "$target: needs a non-system DLL: $dlls"; else pass "$target: imports only system DLLs ($dlls)"; fi
      ;;
  esac
done
ldd_says=$(ldd "$(binary x86_64-unknown-linux-musl)" 2>&1 || true)
if grep -Eq 'not a dynamic executable|statically linked' <<<"$ldd_says"; then pass "x86_64-unknown-linux-musl: ldd says $ldd_says"; else fail "ldd says $ldd_says"; fi

say "Wine prefix"
mkdir -p "$scratch/windows" "$scratch/home"
cp "$(binary x86_64-pc-windows-gnu)" "$scratch/windows/onfail.exe"
wine --version
# The first start creates the prefix (Wine's own noise goes to the log, not here).
wineboot --init >"$scratch/wineboot.log" 2>&1 || true
wineserver -w 2>/dev/null || true
if [ ! -e "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  echo "this Wine has no bcryptprimitives.dll: adding the stand-in from tests/targets/bcryptprimitives.c"
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$scratch/windows/bcryptprimitives.dll" tests/targets/bcryptprimitives.c -ladvapi32
fi

say "fake Alertalk on 127.0.0.1"
requests="$scratch/requests.jsonl"
python3 tests/action/fake_alertalk.py "$scratch/port" "$requests" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done
[ -s "$scratch/port" ] || { echo "the fake Alertalk did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$scratch/port")/webhook/receive"
echo "listening at $url"

# alerts KEY TEXT: how many recorded requests carry KEY and a voice text containing TEXT.
alerts() {
  python3 - "$requests" "$1" "$2" <<'EOF'
import json, sys
path, key, text = sys.argv[1:]
try:
    lines = open(path, encoding="utf-8").read().splitlines()
except FileNotFoundError:
    lines = []
found = 0
for line in lines:
    request = json.loads(line)
    body = json.loads(request["body"])
    if (request["headers"].get("x-webhook-key") == key and body.get("phone_number") == "5550001122"
            and text in body.get("error_message", "")):
        found += 1
print(found)
EOF
}

for target in "${targets[@]}"; do
  say "$target"
  case "$target" in
    x86_64-unknown-linux-musl) run=("$(binary "$target")") fails=(sh -c 'echo output of the failing command; exit 3') ;;
    aarch64-unknown-linux-musl) run=(qemu-aarch64 "$(binary "$target")") fails=(sh -c 'echo output of the failing command; exit 3') ;;
    *windows*) run=(wine "$scratch/windows/onfail.exe") fails=(cmd /c "echo output of the failing command & exit 3") ;;
  esac
  # A clean environment: no CI variables of the machine running this script reach the binary.
  clean=(env -i "PATH=$PATH" "HOME=$scratch/home" "WINEPREFIX=$WINEPREFIX" "WINEDEBUG=$WINEDEBUG")
  key="cross-$target-$RANDOM$RANDOM"
  logs="$scratch/$target"

  got=$("${clean[@]}" "${run[@]}" --version 2>"$logs.version.err" | tr -d '\r') || true
  if [ "$got" = "onfail $version" ]; then pass "--version: $got"; else fail "--version printed '$got': $(cat "$logs.version.err")"; fi

  rc=0
  "${clean[@]}" "${run[@]}" send --status failure --alertalk-url "$url" --alertalk-webhook-key "$key" \
    --phone-numbers 05550001122 --message "Cross-target check from $target" >"$logs.send.out" 2>"$logs.send.err" || rc=$?
  n=$(alerts "$key" "Cross-target check from $target")
  if [ "$rc" = 0 ] && [ "$n" = 1 ]; then pass "send: exit 0, one alert arrived"; else fail "send: exit $rc, $n alerts arrived: $(cat "$logs.send.err")"; fi

  rc=0
  # --language en: the check below reads the English voice text.
  "${clean[@]}" "${run[@]}" run --language en --alertalk-url "$url" --alertalk-webhook-key "$key" --phone-numbers 05550001122 \
    -- "${fails[@]}" >"$logs.run.out" 2>"$logs.run.err" || rc=$?
  n=$(alerts "$key" "exited with code 3")
  if [ "$rc" = 3 ] && [ "$n" = 1 ] && grep -q 'output of the failing command' "$logs.run.out"; then
    pass "run: the command's output passed through, exit 3, one alert arrived"
  else
    fail "run: exit $rc, $n alerts arrived: $(cat "$logs.run.out" "$logs.run.err")"
  fi

  if grep -qF "$key" "$logs".*; then fail "the key appears in the output"; else pass "the key appears in no output"; fi
done

echo
echo "targets: $passes passed, $failures failed in $((SECONDS - started)) s"
[ "$failures" -eq 0 ]
