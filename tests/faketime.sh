#!/usr/bin/env bash
# libfaketime for the clock-step tests of the service's checks (tests/it/check_clocks.rs,
# docs/serve-checks.md, "Clocks"): prints the path of libfaketime.so.1, installing Debian's
# `faketime` package with apt-get when it is not there. Never downloads it any other way.
#
# .ci/run and the CI workflow use it; locally:  export ONFAIL_TEST_FAKETIME=$(tests/faketime.sh)
set -euo pipefail

installed() {
  local path
  for path in /usr/lib/*-linux-gnu/faketime/libfaketime.so.1; do
    if [ -f "$path" ]; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

if ! installed >/dev/null; then
  echo "tests/faketime.sh: installing faketime (apt-get)" >&2
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >&2 ||
    { ${sudo[@]+"${sudo[@]}"} apt-get update -qq >&2 &&
      ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >&2; }
fi
installed || { echo "tests/faketime.sh: no libfaketime after apt-get install faketime" >&2; exit 1; }
