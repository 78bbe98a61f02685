#!/usr/bin/env bash
# The README's cron quick start, run as pasted: its blocks are read from README.md (not copied
# here), with only the machine's paths moved into a scratch directory (/usr/local/bin, /etc and
# the wrapped jobs) and `sudo` and the download of install.sh served locally. The binary is
# installed by action/install.sh from a local release (this checkout's build), the env file is
# written by the README's own commands, and every crontab line of README.md and docs/*.md runs
# as cron runs it (`env -i` with cron's variables, PATH=/usr/bin:/bin, `sh -c`), against the
# fake Alertalk on 127.0.0.1: the page must arrive. The test page (--dry-run) must run the
# command and send nothing. The README's check file of "Jobs that never ran" is served by a real
# `onfail serve`, and its `onfail run --check` line must ping it with the job's exit code.
#
# Usage: tests/docs/recipes.sh [ONFAIL_BINARY]   (default: builds target/debug/onfail)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. "$repo/tests/lib.sh"
make_scratch

binary=${1:-}
if [ -z "$binary" ]; then
  (cd "$repo" && cargo build --quiet --locked)
  binary="$repo/target/debug/onfail"
fi
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml" | head -n 1)

# block SECTION N [LEVEL]: the Nth fenced block (from 1) of the README section headed
# "## SECTION" (LEVEL "###": a subsection).
block() {
  awk -v section="${3:-##} $1" -v want="$2" '
    $0 == section { inside = 1; next }
    inside && /^##+ / { exit }
    inside && /^```/ { if (fenced) { fenced = 0; if (n == want) exit; next } fenced = 1; n++; next }
    inside && fenced && n == want { print }
  ' "$repo/README.md"
}

# The machine's paths, moved into the scratch directory.
root="$scratch/root"
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/opt" "$root/home"
relocate() { sed -e "s#/usr/local/bin#$root/usr/local/bin#g" -e "s#/etc/onfail.env#$root/etc/onfail.env#g" \
  -e "s#/opt/#$root/opt/#g" -e "s#/tmp/onfail-install.sh#$scratch/onfail-install.sh#g"; }

# The local release: this build as the asset for this machine, with its SHA256SUMS.
case "$(uname -m)" in
  x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
  *) echo "recipes.sh: no release target for $(uname -m)" >&2; exit 1 ;;
esac
release="$scratch/release"
mkdir -p "$release" "$scratch/pack"
cp "$binary" "$scratch/pack/onfail"
tar -czf "$release/onfail-$target.tar.gz" -C "$scratch/pack" onfail
(cd "$release" && sha256sum "onfail-$target.tar.gz" >SHA256SUMS)

# Stand-ins for what the recipes take from the machine: `sudo` runs the command as is, and curl
# serves install.sh from this checkout when asked for the published one.
shims="$scratch/shims"
mkdir -p "$shims"
printf '#!/bin/sh\nexec "$@"\n' >"$shims/sudo"
cat >"$shims/curl" <<EOF
#!/bin/sh
for arg in "\$@"; do
  case "\$arg" in https://raw.githubusercontent.com/*/onfail/v$version/action/install.sh) published=1 ;; esac
  [ "\$previous" = -o ] && out=\$arg
  previous=\$arg
done
if [ -n "\$published" ]; then cp "$repo/action/install.sh" "\$out"; exit; fi
exec $(command -v curl) "\$@"
EOF
chmod +x "$shims/sudo" "$shims/curl"

# The jobs the crontab lines wrap: each fails, so each must page.
for job in usr/local/bin/disk-check usr/local/bin/backup opt/backup.sh; do
  printf '#!/bin/sh\necho "disk usage on /: 97%%"\nexit 1\n' >"$root/$job"
  chmod +x "$root/$job"
done

# The fake Alertalk.
python3 "$repo/tests/action/fake_alertalk.py" "$scratch/port" "$scratch/requests" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done
alertalk="http://127.0.0.1:$(cat "$scratch/port")/webhook/receive"
touch "$scratch/requests"
calls() { wc -l <"$scratch/requests" | tr -d ' '; }

echo "== README, Quick start: a cron host"

# 1. Install, as pasted (the release is the local one).
install_script=$(block "Quick start: a cron host" 1 | relocate)
if PATH="$shims:$PATH" ONFAIL_RELEASE_BASE_URL="file://$release" bash -euc "$install_script" >"$scratch/install.log" 2>&1 &&
  "$root/usr/local/bin/onfail" --version | grep -q "onfail $version"; then
  pass "action/install.sh put onfail $version into /usr/local/bin"
else
  fail "the install recipe: $(cat "$scratch/install.log")"
fi

# 2. The env file, as pasted; then this test's own line pointing Alertalk at the fake.
env_script=$(block "Quick start: a cron host" 2 | relocate)
if PATH="$shims:$PATH" sh -euc "$env_script" 2>"$scratch/env.log"; then
  pass "the env file is written"
else
  fail "the env file recipe: $(cat "$scratch/env.log")"
fi
expect_eq "the env file is root-only" "$(stat -c %a "$root/etc/onfail.env")" 600
echo "ONFAIL_ALERTALK_URL=$alertalk" >>"$root/etc/onfail.env"

# As cron runs a command: sh, a bare environment, cron's PATH.
as_cron() { env -i HOME="$root/home" LOGNAME=root SHELL=/bin/sh PATH=/usr/bin:/bin sh -c "$1"; }

# 3. The test page: the command runs, the alert is only printed.
test_line=$(block "Quick start: a cron host" 4 | relocate | sed 's/^.*sh -c '"'"'\(.*\)'"'"'$/\1/')
before=$(calls)
set +e
as_cron "$test_line" >"$scratch/dry.out" 2>"$scratch/dry.err"
code=$?
set -e
expect_eq "the test page exits with the command's code (false: 1)" "$code" 1
expect_eq "the test page sends nothing" "$(calls)" "$before"
if grep -q "POST $alertalk" "$scratch/dry.out" && grep -q "dry-run" "$scratch/dry.err"; then
  pass "the test page prints the call it would place"
else
  fail "the test page printed: $(cat "$scratch/dry.out" "$scratch/dry.err")"
fi
if grep -q "your-alertalk-webhook-key\|532 123 45 67\|5321234567" "$scratch/dry.out" "$scratch/dry.err"; then
  fail "the test page shows the key or a number"
else
  pass "the test page shows no key and no number"
fi

# 4. The service of "Jobs that never ran", on the README's own check file, and the two lines the
# README adds to the env file: the crontab line with --check pings it.
echo "== README, Jobs that never ran"
block "Jobs that never ran" 1 "###" >"$scratch/checks.toml"
api_token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
ONFAIL_RECEIVE_TOKEN="$api_token-receive" ONFAIL_API_TOKEN=$api_token XDG_STATE_HOME="$scratch/state" \
  "$root/usr/local/bin/onfail" serve --listen 127.0.0.1:0 --config "$scratch/checks.toml" 2>"$scratch/serve.log" &
serve_pid=$!
cleanup_more() { kill "$serve_pid" 2>/dev/null || true; }
for _ in $(seq 1 100); do grep -q 'serving on' "$scratch/serve.log" && break; sleep 0.1; done
service=$(grep -o 'http://127.0.0.1:[0-9]*' "$scratch/serve.log" | head -n 1)
if [ -n "$service" ]; then
  pass "onfail serve started on the README's check file"
else
  fail "onfail serve did not start: $(cat "$scratch/serve.log")"
fi
printf 'ONFAIL_SERVER=%s\nONFAIL_SERVER_TOKEN=%s\n' "$service" "$api_token" >>"$root/etc/onfail.env"

# 5. Every crontab line of the README and the manual, as cron runs it: the page arrives.
echo "== every crontab line of README.md and docs/*.md"
for page in "$repo/README.md" "$repo"/docs/*.md; do
  while IFS= read -r line; do
    command=$(printf '%s\n' "$line" | cut -d ' ' -f 6- | relocate)
    before=$(calls)
    set +e
    as_cron "$command" >"$scratch/cron.out" 2>"$scratch/cron.err"
    code=$?
    set -e
    shown="${page#"$repo/"}: $(printf '%s' "$line" | cut -c1-60)..."
    if [ "$code" -ne 1 ]; then
      fail "$shown: exit $code, not the job's 1: $(cat "$scratch/cron.err")"
    elif [ "$(calls)" -ne $((before + 1)) ]; then
      fail "$shown: no call arrived: $(cat "$scratch/cron.err")"
    elif ! tail -n 1 "$scratch/requests" | grep -q '5321234567,5331112233'; then
      fail "$shown: the call did not go to the env file's numbers: $(tail -n 1 "$scratch/requests")"
    elif ! tail -n 1 "$scratch/requests" | grep -q '"x-webhook-key": "your-alertalk-webhook-key"'; then
      fail "$shown: the call did not carry the env file's key"
    else
      pass "$shown: the page arrived"
    fi
  done < <(awk '/^```cron/ { fenced = 1; next } fenced && /^```/ { fenced = 0 } fenced && !/^#/ && NF { print }' "$page")
done

checks=$(curl -fsS -H "Authorization: Bearer $api_token" "$service/v1/checks" || true)
if printf '%s' "$checks" | python3 -c 'import json, sys
checks = {c["name"]: c for c in json.load(sys.stdin)["checks"]}
backup = checks["nightly-backup"]
sys.exit(0 if backup["last_ping_kind"] == "exit 1" and backup["state"] == "down" else 1)'; then
  pass "the --check line pinged the service with the job's exit code (1): nightly-backup is down"
else
  fail "the service's checks after the --check line: $checks"
fi

# The old recipe, for the record: without `set -a` and the full path, cron pages nobody.
old=". $root/etc/onfail.env && onfail run -- $root/usr/local/bin/disk-check"
before=$(calls)
as_cron "$old" >/dev/null 2>&1 || true
expect_eq "the old recipe (plain . and a bare onfail) pages nobody, which is why it changed" "$(calls)" "$before"

echo "recipes: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
