#!/usr/bin/env bash
# Installs the onfail binary for the action (action.yml, step "install") and writes its path to
# $GITHUB_OUTPUT as `bin=<path>`, or prints it when there is no $GITHUB_OUTPUT.
#
# On its own (no GITHUB_ACTION_PATH: cron hosts, GitLab, Jenkins; docs/getting-started.md, "Install outside GitHub
# Actions"), the version is ONFAIL_VERSION (e.g. 1.0.0) or else the Cargo.toml of the checkout
# this script lives in, the release comes from ONFAIL_ACTION_REPOSITORY (owner/repo), and
# ONFAIL_INSTALL_DIR, when set, is where the verified binary is put (replaced atomically).
#
# install=auto     the release asset of this action's own version (Cargo.toml), SHA-256 verified
#                  against the release's SHA256SUMS; if the release has no asset for this
#                  platform (HTTP 404) or the platform is unknown, build from this action's source.
# install=release  the verified asset only; no asset is an error.
# install=source   build from this action's source: cargo build --release --locked.
#
# Anything else (a checksum mismatch, a failed download, no cargo for a source build, a bad
# install value) stops with an ::error:: annotation. Needs only bash, curl, tar or unzip, and
# sha256sum or shasum: what Linux, macOS and Windows (Git Bash) runners have.
#
# ONFAIL_RELEASE_BASE_URL replaces the download base
# ($GITHUB_SERVER_URL/<owner>/<repo>/releases/download/v<version>) for mirrors and tests; it
# may be https://, file://, or http:// on a loopback host (127.0.0.1, localhost or [::1], with
# an optional port and nothing else before the path).
#
# Every download has a connect timeout (10 s) and a total timeout (60 s, retries included), so a
# stalled server fails the step in about a minute instead of at the job's timeout.
# ONFAIL_INSTALL_TIMEOUT (whole seconds) replaces the 60 s; it exists for the tests.
set -euo pipefail

# Messages go to stderr (the runner reads workflow commands there too), so that functions whose
# stdout is captured print only their result. Command substitutions in `||` lists run without
# `set -e`, so every step that matters below checks its own status.
fail() {
  echo "::error title=onfail install::$*" >&2
  exit 1
}

note() { echo "onfail install: $*" >&2; }

# Git Bash on Windows hands us Windows paths; work with POSIX ones, and give native programs
# (cargo) native ones: Git Bash does not translate arbitrary environment variables.
to_posix() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}
to_native() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi
}

if [ -n "${GITHUB_ACTION_PATH:-}" ]; then
  action_path=$(to_posix "$GITHUB_ACTION_PATH")
  standalone=false
else
  # On its own: the checkout this script lives in, if it is in one.
  action_path=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  standalone=true
fi
runner_temp=$(to_posix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")
mode=${ONFAIL_INSTALL:-auto}

case "$mode" in
  auto | release | source) ;;
  *) fail "install: '$mode' is not valid; use auto, release or source" ;;
esac

max_time=${ONFAIL_INSTALL_TIMEOUT:-60}
case "$max_time" in
  '' | *[!0-9]*) fail "ONFAIL_INSTALL_TIMEOUT: '$max_time' is not a whole number of seconds" ;;
esac
[ "$max_time" -gt 0 ] || fail "ONFAIL_INSTALL_TIMEOUT must be at least 1 second"
connect_timeout=$((max_time < 10 ? max_time : 10))

# Under the action the version is always the action's own, so the two cannot drift apart.
if $standalone && [ -n "${ONFAIL_VERSION:-}" ]; then
  version=${ONFAIL_VERSION#v}
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "ONFAIL_VERSION: '$ONFAIL_VERSION' is not a release version such as 1.0.0"
else
  [ -f "$action_path/Cargo.toml" ] ||
    fail "no Cargo.toml next to this script ($action_path) to read the version from; set ONFAIL_VERSION, e.g. ONFAIL_VERSION=1.0.0"
  version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" | head -n 1)
  [ -n "$version" ] || fail "could not read the version from $action_path/Cargo.toml"
fi

# The release target for this runner, or "" when no asset is built for it.
target_for() {
  local os=${RUNNER_OS:-} arch=${RUNNER_ARCH:-}
  if [ -z "$os" ]; then
    case "$(uname -s)" in
      Linux) os=Linux ;;
      Darwin) os=macOS ;;
      MINGW* | MSYS* | CYGWIN*) os=Windows ;;
    esac
  fi
  if [ -z "$arch" ]; then
    case "$(uname -m)" in
      x86_64 | amd64) arch=X64 ;;
      aarch64 | arm64) arch=ARM64 ;;
    esac
  fi
  case "$os/$arch" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    # Windows on Arm runs x64 binaries through its built-in emulation.
    Windows/X64 | Windows/ARM64) echo x86_64-pc-windows-msvc ;;
    *) echo "" ;;
  esac
}

exe=onfail
case "${RUNNER_OS:-$(uname -s)}" in
  Windows | MINGW* | MSYS* | CYGWIN*) exe=onfail.exe ;;
esac

# The SHA-256 tool, chosen before anything is downloaded: a missing one is one clear error here,
# not a failure inside a command substitution further down.
sha256_tool() {
  if command -v sha256sum >/dev/null 2>&1; then
    echo sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    echo shasum
  else
    fail "neither sha256sum nor shasum is installed, so a download cannot be verified; install one (coreutils or perl), or use install: source"
  fi
}

sha256_of() {
  case "$hasher" in
    sha256sum) sha256sum "$1" | cut -d ' ' -f 1 ;;
    *) shasum -a 256 "$1" | cut -d ' ' -f 1 ;;
  esac
}

# Only http:// to a loopback host is allowed in clear text. The authority (everything between
# "//" and the first "/", "?" or "#") must be exactly a loopback host with an optional port, so
# userinfo such as http://127.0.0.1:x@example.invalid/ (whose host is example.invalid) is refused.
is_loopback_http() {
  local url rest authority
  url=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
  case "$url" in http://*) ;; *) return 1 ;; esac
  rest=${url#http://}
  authority=${rest%%[/?#]*}
  [[ "$authority" =~ ^(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?$ ]]
}

# fetch URL FILE: 0 downloaded, 4 not found (404 / missing file), 1 anything else.
fetch() {
  local url=$1 out=$2 code
  case "$url" in
    file://*)
      local path
      path=$(to_posix "${url#file://}")
      [ -f "$path" ] || return 4
      cp "$path" "$out" || return 1
      return 0
      ;;
  esac
  # --proto-redir: a redirect may only go to https (GitHub sends release downloads to its CDN).
  if ! code=$(curl --proto "$protocols" --proto-redir '=https' --tlsv1.2 -sSL \
    --connect-timeout "$connect_timeout" --max-time "$max_time" \
    --retry 5 --retry-connrefused --retry-max-time "$max_time" \
    -o "$out" -w '%{http_code}' "$url"); then
    return 1
  fi
  case "$code" in
    200) return 0 ;;
    404) return 4 ;;
    *)
      echo "onfail install: $url answered HTTP $code" >&2
      return 1
      ;;
  esac
}

# Prints the installed binary's path, or returns 4 when the release has no asset for us.
install_release() {
  local target=$1 base asset dir expected actual
  if [ -n "${ONFAIL_RELEASE_BASE_URL:-}" ]; then
    base=${ONFAIL_RELEASE_BASE_URL%/}
    case "$base" in
      https://* | file://*) protocols='=https,file' ;;
      *) if is_loopback_http "$base"; then
        protocols='=https,http'
      else
        fail "ONFAIL_RELEASE_BASE_URL must be https://, file:// or http:// on a loopback host (127.0.0.1, localhost or [::1], optionally with a port)"
      fi ;;
    esac
  else
    local repo=${ONFAIL_ACTION_REPOSITORY:-}
    if [ -z "$repo" ]; then
      # Inside composite steps github.action_repository can be empty; the runner keeps actions
      # under .../_actions/<owner>/<repo>/<ref>, which names the repository too.
      case "$action_path" in
        */_actions/*/*/*)
          local rest=${action_path##*/_actions/}
          repo="${rest%%/*}/$(rest=${rest#*/} && echo "${rest%%/*}")"
          ;;
        *) repo=${GITHUB_REPOSITORY:-} ;;
      esac
    fi
    [ -n "$repo" ] || fail "cannot tell which repository this action comes from; set ONFAIL_ACTION_REPOSITORY=owner/repo, or use install: source"
    base="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download/v$version"
    protocols='=https'
  fi
  case "$target" in
    *windows*) asset="onfail-$target.zip" ;;
    *) asset="onfail-$target.tar.gz" ;;
  esac
  case "$asset" in
    *.zip) command -v unzip >/dev/null 2>&1 || command -v 7z >/dev/null 2>&1 ||
      fail "unpacking $asset needs unzip or 7z, and neither is on PATH; install one, or use install: source" ;;
  esac
  dir="$runner_temp/onfail/$version/$target"
  { rm -rf "$dir" && mkdir -p "$dir"; } || fail "cannot create $dir"

  note "downloading $base/$asset"
  local status=0
  fetch "$base/$asset" "$dir/$asset" || status=$?
  [ "$status" -eq 4 ] && return 4
  [ "$status" -eq 0 ] || fail "downloading $base/$asset failed"
  status=0
  fetch "$base/SHA256SUMS" "$dir/SHA256SUMS" || status=$?
  [ "$status" -eq 0 ] || fail "the release v$version has $asset but its SHA256SUMS could not be downloaded, so it cannot be verified"

  expected=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$dir/SHA256SUMS" | head -n 1)
  [ -n "$expected" ] || fail "SHA256SUMS of v$version has no line for $asset"
  actual=$(sha256_of "$dir/$asset")
  [ "$actual" = "$expected" ] || fail "checksum mismatch for $asset: expected $expected, got $actual; refusing to run it"
  note "verified $asset (sha256 $actual)"

  case "$asset" in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$dir/$asset" -d "$dir" >&2 || fail "cannot unpack $asset"
      else
        # 7z is a native Windows program: it reads Windows paths, not Git Bash's POSIX ones.
        7z x -y -o"$(to_native "$dir")" "$(to_native "$dir/$asset")" >&2 || fail "cannot unpack $asset"
      fi
      ;;
    *) tar -xzf "$dir/$asset" -C "$dir" >&2 || fail "cannot unpack $asset" ;;
  esac
  [ -f "$dir/$exe" ] || fail "$asset does not contain $exe"
  chmod +x "$dir/$exe"
  echo "$dir/$exe"
}

install_source() {
  [ -f "$action_path/Cargo.toml" ] ||
    fail "building onfail from source needs its source next to this script (a checkout of the repository); or run: cargo install --locked --git <repository URL> --tag v$version onfail"
  command -v cargo >/dev/null 2>&1 ||
    fail "building onfail from source needs cargo (Rust), which is not on PATH; install Rust first, or use install: auto on a platform with a release asset"
  # CARGO_TARGET_DIR, when set, lets repeated runs reuse one build.
  local target_dir dir="$runner_temp/onfail/$version/source"
  target_dir=$(to_posix "${CARGO_TARGET_DIR:-$runner_temp/onfail/target}")
  note "building onfail $version from source (cargo build --release --locked)"
  CARGO_TARGET_DIR=$(to_native "$target_dir") cargo build --release --locked --quiet \
    --manifest-path "$(to_native "$action_path/Cargo.toml")" >&2 ||
    fail "cargo build of onfail $version failed (see the log above)"
  { mkdir -p "$dir" && cp "$target_dir/release/$exe" "$dir/$exe"; } || fail "cannot copy the built binary to $dir"
  echo "$dir/$exe"
}

bin=""
if [ "$mode" != source ]; then
  target=$(target_for)
  if [ -z "$target" ]; then
    [ "$mode" = auto ] || fail "no release asset is built for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}; use install: source"
    note "no release asset for this platform; building from source"
  else
    hasher=$(sha256_tool) || exit 1
    status=0
    bin=$(install_release "$target") || status=$?
    if [ "$status" -eq 4 ]; then
      [ "$mode" = auto ] || fail "release v$version has no asset for $target (HTTP 404); use install: source"
      note "release v$version has no asset for $target; building from source"
      bin=""
    elif [ "$status" -ne 0 ]; then
      exit "$status"
    fi
  fi
fi
[ -n "$bin" ] || bin=$(install_source)

if $standalone && [ -n "${ONFAIL_INSTALL_DIR:-}" ]; then
  dest=$(to_posix "$ONFAIL_INSTALL_DIR")
  # A rename, so a cron job that starts onfail meanwhile runs the old binary or the new one.
  { mkdir -p "$dest" && cp "$bin" "$dest/.$exe.new" && chmod +x "$dest/.$exe.new" && mv -f "$dest/.$exe.new" "$dest/$exe"; } ||
    fail "cannot install onfail into ONFAIL_INSTALL_DIR=$dest"
  bin="$dest/$exe"
fi

"$bin" --version >/dev/null 2>&1 || fail "the installed binary $bin does not run on this runner"
note "using $("$bin" --version) at $bin"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "bin=$bin" >>"$GITHUB_OUTPUT"
else
  echo "$bin"
fi
