# shellcheck shell=bash
# What every shell test script shares (tests/action/run.sh, tests/action/install-test.sh,
# tests/targets/run.sh): a scratch directory cleaned up on exit, and counting the checks that
# pass and fail. Sourced, not run; each script prints its own summary from $passes and $failures
# and fails when $failures is not 0.

failures=0 passes=0

# make_scratch: sets $scratch to a new directory. On exit the server whose pid the script put in
# $server_pid is stopped, `cleanup_more` runs if the script defines it, and $scratch is removed.
make_scratch() {
  scratch=$(mktemp -d)
  server_pid=""
  trap cleanup EXIT
}

cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if declare -F cleanup_more >/dev/null; then cleanup_more; fi
  rm -rf "$scratch"
}

pass() {
  echo "  ok: $*"
  passes=$((passes + 1))
}

fail() {
  echo "  FAILED: $*" >&2
  failures=$((failures + 1))
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$3', got '$2'"; fi; }
