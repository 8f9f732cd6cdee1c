#!/usr/bin/env bash
# Runs the integration suite N times in a row while a release build loops beside it, and
# prints each run's result: a flaky test (a race with other threads' children, a timing
# assumption) shows up here long before it shows up in CI.
#
#   scripts/stress-tests.sh [N]      (default 30)
set -u
cd "$(dirname "$0")/.."
n=${1:-30}
bin=$(cargo test --locked --test integration --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*integration-[^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "stress-tests: cannot build the integration tests" >&2; exit 2; }
scratch=$(mktemp -d)
( while true; do CARGO_TARGET_DIR="$scratch" cargo build --release --locked -q >/dev/null 2>&1; rm -rf "$scratch"/release; done ) &
load=$!
trap 'kill $load 2>/dev/null; pkill -P $load 2>/dev/null; rm -rf "$scratch"' EXIT
fails=0
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  if out=$("$bin" 2>&1); then r=pass; else r=FAIL; fails=$((fails + 1)); echo "$out" | grep -E "FAILED|panicked|busy" | head -5; fi
  echo "run $i: $r ($(( $(date +%s) - start )) s, load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "$fails failures in $n runs"
[ "$fails" -eq 0 ]
