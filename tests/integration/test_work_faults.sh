#!/usr/bin/env bash
# The work plane when workers fail, with real processes: bench_work's scenarios in test mode
# (-t: no figure that depends on the machine's speed is checked). A submitter (embedded node)
# sends 2000 sleep tasks to 4 zmeshd workers; one is SIGKILLed, then (another run) SIGSTOPped,
# a quarter of the way through. Every task must end exactly once at its owner, successfully:
# the lost worker's tasks are re-dispatched (membership, or the lease) and run elsewhere. Then
# the same tasks aimed at one worker (strategy hash): the others steal, and none runs twice.
. "$(dirname "$0")/lib.sh"
bench=${ZMESH_BENCH_WORK:-$ZM_BIN/bench/bench_work}
[ -x "$bench" ] || zm_fail "no bench_work at $bench"

for scenario in kill stop steal sleep; do
    out=$(TMPDIR=$ZM_TMP timeout 240 "$bench" -t -z "$ZMESHD" -s "$scenario" 2>"$ZM_TMP/$scenario.log")
    rc=$?
    echo "$out" | sed 's/^/    /'
    [ $rc -eq 0 ] || zm_fail "$scenario: bench_work exited $rc"
    echo "$out" | grep -q '^bench_work: ok$' || zm_fail "$scenario: not every check held"
    zm_ok "$scenario: every task ended exactly once, successfully"
done
zm_done
