#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with warnings as errors, runs all test projects
# against real PostgreSQL (and, as later issues add them, sshd, dockerd, btrfs and rsync), then prints
# one line with the real counts: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 2

if ! dotnet build OpenSvc.sln -nologo -v quiet -warnaserror; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

results=$(mktemp -d)
cleanup() {
  # Test processes start private PostgreSQL clusters under /tmp (named after their pid); make sure none outlives
  # the run, but leave those of test processes still running (another checkout's tests on this machine).
  for data in /tmp/opensvc-tests-pg-*/pgdata; do
    [ -d "$data" ] || continue
    owner="${data%/pgdata}"
    owner="${owner##*-}"
    if [[ $owner =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null; then continue; fi
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl stop -D "$data" -m immediate >/dev/null 2>&1 || true
    rm -rf "$(dirname "$data")"
  done
  rm -rf "$results"
}
trap cleanup EXIT
# The suite starts hundreds of short-lived agents (tests, benchmarks, the demo) on a 2-core machine: their background
# warm-up is left out, except in the tests that turn it on (AgentWarmUpTests).
export OPENSVC_AGENT_WARMUP=off
dotnet test OpenSvc.sln --no-build -nologo --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" 2>&1 \
  | grep -E -A30 "^\s*(Failed|Skipped) [A-Za-z]|Failed!|Passed!|Error Message" | grep -vE "^\s+at |^--$" || true
status=${PIPESTATUS[0]}

passed=0; failed=0; skipped=0; failed_names=''
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # xUnit's skipped tests are results with outcome NotExecuted; the Counters element does not count them.
  skipped=$((skipped + $(grep -o '<UnitTestResult [^>]*>' "$trx" | grep -c 'outcome="NotExecuted"')))
  failed_names+=$(grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" | sed -E 's/.*testName="([^"]*)".*/  failed: \1/')$'\n'
done
if [ -n "${failed_names//[[:space:]]/}" ]; then
  echo "tests that failed:"
  printf '%s' "$failed_names" | grep -v '^$'
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the runner failed without a recorded test failure (crash, hang): never report green
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
