#!/usr/bin/env bash
# The browser for the tests of the service's pages (tests/it/browser.rs, docs/serve-pages.md):
# prints the path of a Chromium (or Chrome) that is installed, installing Debian's `chromium`
# package with apt-get when there is none. Never downloads a browser any other way.
#
# .ci/run and the CI workflow use it; locally:  export ONFAIL_TEST_CHROMIUM=$(tests/chromium.sh)
set -euo pipefail

installed() {
  local name
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1 && "$name" --version >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if ! installed >/dev/null; then
  echo "tests/chromium.sh: installing chromium (apt-get)" >&2
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 ||
    { ${sudo[@]+"${sudo[@]}"} apt-get update -qq >&2 &&
      ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; }
fi
installed || { echo "tests/chromium.sh: no chromium after apt-get install chromium" >&2; exit 1; }
