#!/usr/bin/env bash
# Action tests: runs the workflows in tests/action/workflows/ under nektos/act in host mode (no
# Docker), with `uses: ./` and `install: source`, against a fake server on 127.0.0.1 that stands
# in for Alertalk, Temperstack and PagerDuty.
# Each scenario asserts what the server received, what the action output, and what act's log
# shows, and fails loudly.
#
# Usage: tests/action/run.sh          (needs act, python3 and cargo on PATH)
# ONFAIL_ACT_TARGET_DIR: cargo target dir for the action's source build (default target/act), so
# the release build happens once and later runs reuse it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. "$repo/tests/lib.sh"
make_scratch

# Sentinels: if any shows up in act's log unmasked, the action leaked it.
key="ak-act-SENTINEL-5f1e2d9c"
phone_one="5321234567"
phones="+90 532 123 45 67, 05339876543"
temperstack_key="ts-act-SENTINEL-8a3c7b1e"
pagerduty_key="pdactSENTINEL0123456789abcdef012"

# rustup and cargo must keep finding the real toolchain once HOME points at the scratch dir.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
target_dir="${ONFAIL_ACT_TARGET_DIR:-$repo/target/act}"
mkdir -p "$target_dir" "$scratch/home"

# act copies the working tree for actions/checkout; give it the project's files only (no target/),
# in a fresh git repository so the run has a commit and a ref.
stage="$scratch/repo"
mkdir -p "$stage"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - ) | tar -xf - -C "$stage"
git -C "$stage" init -q -b main
git -C "$stage" add -A
git -C "$stage" -c user.name=onfail-test -c user.email=test@example.invalid commit -qm "action test"

echo "== starting the fake Alertalk server on 127.0.0.1"
python3 "$repo/tests/action/fake_alertalk.py" "$scratch/port" "$scratch/requests.jsonl" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done
[ -s "$scratch/port" ] || { echo "the fake server did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$scratch/port")/webhook/receive"
temperstack_path="/api/integration/webhook/$temperstack_key"
temperstack_url="http://127.0.0.1:$(cat "$scratch/port")$temperstack_path"
pagerduty_url="http://127.0.0.1:$(cat "$scratch/port")/v2/enqueue"
echo "   listening: $url (pid $server_pid)"

# run_act NAME: runs tests/action/workflows/NAME.yml; its log goes to $scratch/NAME.log, and
# its exit code is printed.
run_act() {
  local name=$1 out="$scratch/out-$1"
  mkdir -p "$out"
  : >"$scratch/requests.jsonl"
  local rc=0
  (cd "$stage" && HOME="$scratch/home" act push \
    -W "tests/action/workflows/$name.yml" \
    -P ubuntu-latest=-self-hosted \
    --action-cache-path "$scratch/home/act-cache" \
    --no-cache-server \
    --env "TEST_ALERTALK_KEY=$key" \
    --env "TEST_PHONES=$phones" \
    --env "TEST_PHONE_ONE=$phone_one" \
    --env "TEST_ALERTALK_URL=$url" \
    --env "TEST_TEMPERSTACK_URL=$temperstack_url" \
    --env "TEST_PAGERDUTY_KEY=$pagerduty_key" \
    --env "TEST_PAGERDUTY_URL=$pagerduty_url" \
    --env "ONFAIL_TEST_OUT=$out" \
    --env "CARGO_TARGET_DIR=$target_dir" \
    --env "RUSTUP_HOME=$RUSTUP_HOME" \
    --env "CARGO_HOME=$CARGO_HOME" \
    >"$scratch/$name.log" 2>&1) || rc=$?
  echo "$rc"
}

requests() { grep -c . "$scratch/requests.jsonl" || true; }
field() { python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(eval(sys.argv[2]), end="")' "$scratch/requests.jsonl" "$1"; }

check_log_clean() {
  local log="$scratch/$1.log"
  for secret in "$key" "$temperstack_key" "$pagerduty_key" "$phone_one" "0$phone_one" "90$phone_one" "5339876543"; do
    if grep -qF -- "$secret" "$log"; then fail "$1: act's log shows $secret unmasked"; else pass "$1: act's log never shows $secret"; fi
  done
}

echo "== scenario 1: a step fails, the action runs under if: failure() (builds onfail from source the first time)"
rc=$(run_act failing)
out="$scratch/out-failing"
expect_eq "act exits non-zero because the job failed" "$([ "$rc" -ne 0 ] && echo yes)" "yes"
expect_eq "the server received one call" "$(requests)" "1"
if [ "$(requests)" = 1 ]; then
  expect_eq "the key went in X-Webhook-Key" "$(field 'r[0]["headers"].get("x-webhook-key")')" "$key"
  expect_eq "the numbers arrived normalised" "$(field 'json.loads(r[0]["body"])["phone_number"]')" "5321234567,5339876543"
  echo "== scenario 3: a message with \$(...), backticks and quotes is delivered verbatim and runs nothing"
  expect_eq "the message arrived byte for byte" "$(field 'json.loads(r[0]["body"])["error_message"]')" "$(cat "$out/expected-message")"
fi
for marker in pwned-dollar pwned-backtick; do
  if [ -e "$out/$marker" ]; then fail "the message ran a command (found $marker)"; else pass "no $marker: nothing in the message ran"; fi
done
# shellcheck disable=SC2016 # the literal, unexpanded text is the point
case "$(cat "$out/expected-message")" in
  *'$(touch'*'`touch'*\"double\"*"'single'"*) pass "the hostile message reached the workflow intact" ;;
  *) fail "the workflow's HOSTILE message is not what this test expects" ;;
esac
if grep -qE '🚧 +::warning::injected|Warning: injected' "$scratch/failing.log"; then
  fail "text in the message became a workflow command"
fi
echo "   a later step reads the action's outputs"
expect_eq "outputs.result" "$(cat "$out/result")" "sent"
expect_eq "outputs.sent-channels" "$(cat "$out/sent-channels")" "voice"
expect_eq "outputs.failed-channels" "$(cat "$out/failed-channels")" ""
expect_eq "outputs.json has the result" \
  "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], d["channels"][0]["recipients"][0], end="")' "$out/json")" \
  "sent 5*******67"
echo "== scenario 4: the step summary is written and the key is masked in act's log"
if grep -qF 'Summary - ### onfail: sent' "$scratch/failing.log"; then pass "the step summary was written"; else fail "no step summary in act's log"; fi
if grep -qF '| voice | alertalk | ✅ sent | 1 | 200 |' "$scratch/failing.log"; then pass "the summary has the delivery table"; else fail "the summary has no delivery row"; fi
if grep -qF 'key=*** phone=***' "$scratch/failing.log"; then pass "a later step's echo of the key and a number shows ***"; else fail "the key or number was not masked in a later step"; fi
check_log_clean failing

echo "== scenario 2: a passing job sends nothing"
rc=$(run_act passing)
out="$scratch/out-passing"
expect_eq "act exits 0" "$rc" "0"
expect_eq "the server received nothing" "$(requests)" "0"
expect_eq "the if: failure() step did not run" "$(cat "$out/never-result" 2>/dev/null)" ""
expect_eq "the if: always() step saw success and skipped" "$(cat "$out/result" 2>/dev/null)" "skipped"
check_log_clean passing

echo "== scenario 5: one run, two jobs, if: always() with the default status: red raises the incident, green clears one (Temperstack and PagerDuty)"
rc=$(run_act incident)
out="$scratch/out-incident"
expect_eq "act exits non-zero because the red job failed" "$([ "$rc" -ne 0 ] && echo yes)" "yes"
expect_eq "the server received four calls, Temperstack and PagerDuty for each job" "$(requests)" "4"
# by_id ID EXPR [KEY]: EXPR of each request whose JSON body has KEY (default alert_id) ID (b: the
# body, x: the record), comma-joined. ID is an onfail-<hex> id from default_id, so it is safe to quote.
by_id() { field "','.join(str($2) for x in r for b in [json.loads(x['body'])] if b.get('${3:-alert_id}') == '$1')"; }
# default_id CONTEXT_FILE: the default alert_id (docs/incidents.md, "Incidents (Temperstack)"; src/channels/incident.rs) of the
# repository, workflow, job and branch a job recorded, one per line: onfail- and the first 16
# hex digits of the SHA-256 of the four joined by NUL.
default_id() { python3 -c 'import hashlib,sys; p=open(sys.argv[1]).read().split("\n")[:4]; print("onfail-" + hashlib.sha256("\0".join(p).encode()).hexdigest()[:16], end="")' "$1"; }
for triple in red:Alarm:trigger green:OK:resolve; do
  IFS=: read -r job state action <<<"$triple"
  if [ ! -s "$out/$job/context" ]; then fail "$job: the job recorded no context (did it run?)"; continue; fi
  expect_eq "$job: the run has a repository (else the id falls back to the hostname)" "$([ -n "$(sed -n 1p "$out/$job/context")" ] && echo yes)" "yes"
  expect_eq "$job: the job name in the id is the job's" "$(sed -n 3p "$out/$job/context")" "$job"
  id=$(default_id "$out/$job/context")
  expect_eq "$job: outputs.alert-id is onfail- and SHA-256 of repository, workflow, job, branch" "$(cat "$out/$job/alert-id")" "$id"
  expect_eq "$job: the server received status $state under that alert_id" "$(by_id "$id" "b['status']")" "$state"
  expect_eq "$job: it went to the integration URL, key in the path" "$(by_id "$id" "x['path']")" "$temperstack_path"
  expect_eq "$job: PagerDuty received event_action $action under dedup_key = that id" \
    "$(by_id "$id" "b['event_action']" dedup_key)" "$action"
  expect_eq "$job: with the routing key in the body, at the Events API path" \
    "$(by_id "$id" "b['routing_key'] == '$pagerduty_key' and x['path']" dedup_key)" "/v2/enqueue"
  expect_eq "$job: outputs.result" "$(cat "$out/$job/result")" "sent"
  expect_eq "$job: outputs.sent-channels" "$(cat "$out/$job/sent-channels")" "temperstack,pagerduty"
done
expect_eq "every request carries an alert_id or dedup_key starting with onfail-" \
  "$(field "sum(str(b.get('alert_id', b.get('dedup_key'))).startswith('onfail-') for x in r for b in [json.loads(x['body'])])")" "4"
expect_eq "the two jobs' ids differ (the job name is part of the id)" \
  "$(field "len({b.get('alert_id', b.get('dedup_key')) for x in r for b in [json.loads(x['body'])]})")" "2"
if grep -qE 'temperstack=http://127\.0\.0\.1:[0-9]+/\*\*\*$' "$scratch/incident.log"; then
  pass "a later step's echo of the URL shows its path as ***"
else
  fail "a later step's echo of the URL is not masked as expected"
fi
check_log_clean incident

echo "== scenario 6: one alert for a whole workflow: a notify job reads toJSON(needs) of a failing and a passing job"
rc=$(run_act needs)
out="$scratch/out-needs"
expect_eq "act exits non-zero because job build failed" "$([ "$rc" -ne 0 ] && echo yes)" "yes"
# needs.json: what toJSON(needs) gave the notify job; results: "id=result" pairs in its order.
results=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(k + "=" + v["result"] for k, v in d.items()), end="")' "$out/needs.json" 2>/dev/null || true)
expect_eq "the notify job ran and saw both jobs' results" "$results" "build=failure lint=success"
expect_eq "toJSON(needs) is pretty-printed over several lines" "$([ "$(grep -c . "$out/needs.json" 2>/dev/null)" -gt 1 ] && echo yes)" "yes"
expect_eq "the server received one call for the whole workflow" "$(requests)" "1"
if [ "$(requests)" = 1 ]; then
  case "$(field 'json.loads(r[0]["body"])["error_message"]')" in
    # Calls are in Turkish by default (docs/language.md, "Language"): the key sentence, the job, the repeat.
    "CI alarmı. "*"action test, needs iş akışı "*"başarısız oldu. Başarısız iş: build. Tekrar ediyorum: "*) pass "the call says the workflow failed and names job build" ;;
    *) fail "the call does not name the failed job: $(field 'json.loads(r[0]["body"])["error_message"]')" ;;
  esac
fi
expect_eq "outputs.result" "$(cat "$out/result" 2>/dev/null)" "sent"
expect_eq "outputs.sent-channels" "$(cat "$out/sent-channels" 2>/dev/null)" "voice"
if grep -qF 'status from --needs: failure (failed jobs: build)' "$scratch/needs.log"; then
  pass "the log says the status came from needs"
else
  fail "the log does not say the status came from needs"
fi
check_log_clean needs

if [ "$failures" -ne 0 ]; then
  for log in "$scratch"/*.log; do
    echo "---- $(basename "$log") (last 60 lines)" >&2
    tail -n 60 "$log" >&2
  done
  echo "action-tests: $passes passed, $failures failed" >&2
  exit 1
fi
echo "action-tests: $passes passed, $failures failed"
