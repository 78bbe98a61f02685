# shellcheck shell=bash
# What every shell test script shares (tests/action/run.sh, tests/action/install-test.sh,
# tests/targets/run.sh): counting the checks that pass and fail. Sourced, not run; each script
# prints its own summary from $passes and $failures and fails when $failures is not 0.

failures=0 passes=0

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
