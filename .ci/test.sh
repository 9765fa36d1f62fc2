#!/usr/bin/env bash
# The one test command (README): bash .ci/test.sh [extra jest args, e.g. --selectProjects unit]
#   1. scripts/test-setup.sh: Debian packages, node_modules, a throwaway PostgreSQL;
#   2. type check: tsc -p tsconfig.test.json --noEmit (a failure fails the run);
#   3. jest once over all projects (unit, integration, e2e) with TEST_DATABASE_URL set,
#      so the integration tier also runs against PostgreSQL; JSON in .test-artifacts/jest.json;
#   4. the door benchmark in a short mode (bench/doors.ts; prints its table, asserts no threshold);
#   5. stops PostgreSQL and the libvirt services setup started (also on failure or interrupt, via the trap);
#   6. prints 'N passed, N failed[, N skipped]' as the last line.
# Exits non-zero if the type check, jest or the bench failed, the JSON is missing, or no test ran.
# Env: SKIP_TYPECHECK=1 skips step 2, SKIP_BENCH=1 step 4 (local use only, e.g. while others' files are
# mid-edit; CI never sets it). SKIP_APT=1 / SKIP_PG=1 are passed on to test-setup.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
art=.test-artifacts
mkdir -p "$art"
rm -f "$art/jest.json"

stop_pg() { bash scripts/pg-stop.sh || true; bash scripts/libvirt-down.sh >/dev/null 2>&1 || true; }
trap stop_pg EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/test-setup.sh
if [ -f "$art/pg-url" ]; then
  TEST_DATABASE_URL=$(cat "$art/pg-url")
  export TEST_DATABASE_URL
fi

tsc_rc=0
if [ "${SKIP_TYPECHECK:-0}" = 1 ]; then
  echo "typecheck: skipped (SKIP_TYPECHECK=1)"
else
  echo "typecheck: tsc -p tsconfig.test.json --noEmit"
  node_modules/.bin/tsc -p tsconfig.test.json --noEmit || tsc_rc=$?
  [ $tsc_rc = 0 ] || echo "typecheck: FAILED (exit $tsc_rc)"
  # the lint rules guard the architecture (src/model imports no transport or ORM code)
  echo "lint: eslint src test bench"
  node_modules/.bin/eslint src test bench || { tsc_rc=1; echo "lint: FAILED"; }
fi

# (Local bins rather than npx: npx adds npm config warnings to the log.)
# --forceExit: a leaked DB handle must not hang CI; find leaks locally with
# `npx jest --detectOpenHandles`.
jest_rc=0
node_modules/.bin/jest --ci --forceExit --json --outputFile="$art/jest.json" "$@" || jest_rc=$?

# The door benchmark in a short mode (issue 13): it must run and print its table; its thresholds are judged on the
# full run on a quiet machine (bench/README.md), never here. A bench that crashes fails the run.
bench_rc=0
if [ "${SKIP_BENCH:-0}" = 1 ] || [ $# -gt 0 ]; then
  echo "bench: skipped (SKIP_BENCH=1, or a partial run with jest arguments)"
else
  echo "bench: npm run bench:doors (short mode: 300 machines, one round of 1 s per case)"
  BENCH_DOORS_MACHINES=300 BENCH_DOORS_ROUNDS=1 BENCH_DOORS_S=1 BENCH_DOORS_CONNECTIONS=10 \
    timeout 900 node_modules/.bin/ts-node --transpile-only bench/doors.ts 2>&1 | tee "$art/bench-doors.txt" || bench_rc=$?
  [ $bench_rc = 0 ] || echo "bench: FAILED (exit $bench_rc; output in $art/bench-doors.txt)"
fi

# Stop now (the trap then finds nothing) so that the summary is the last line.
trap - EXIT
stop_pg

sum_rc=0
summary=$(node -e '
  const fs = require("fs");
  const file = process.argv[1];
  if (!fs.existsSync(file)) {
    console.error("jest: " + file + " is missing (jest did not finish)");
    console.log("0 passed, 0 failed"); process.exit(2);
  }
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  const broken = r.numRuntimeErrorTestSuites || 0;
  if (broken) console.error("jest: " + broken + " test suite(s) failed to run");
  let line = r.numPassedTests + " passed, " + r.numFailedTests + " failed";
  if (r.numPendingTests > 0) line += ", " + r.numPendingTests + " skipped";
  console.log(line);
  if (r.numTotalTests === 0) { console.error("jest: no test ran"); process.exit(3); }
' "$art/jest.json") || sum_rc=$?

rc=0
[ $tsc_rc = 0 ] || rc=1
[ $jest_rc = 0 ] || rc=1
[ $bench_rc = 0 ] || rc=1
[ $sum_rc = 0 ] || rc=1
printf '%s\n' "$summary"
exit $rc
