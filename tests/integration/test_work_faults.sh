#!/usr/bin/env bash
# The work plane when workers fail, with real processes: bench_work's scenarios in test mode
# (-t: no figure that depends on the machine's speed is checked). A submitter (embedded node)
# sends 2000 sleep tasks to 4 zmeshd workers; one is SIGKILLed, then (another run) SIGSTOPped,
# a quarter of the way through. Every task must end exactly once at its owner, successfully:
# the lost worker's tasks are re-dispatched (membership, or the lease) and run elsewhere. Then
# the same tasks aimed at one worker (strategy hash): the others steal, and none runs twice.
# Last, kill again with node/spin_us=0 (threads that sleep at once), rtt, and rtt-local (tasks
# run by the submitter's own worker, over inproc) with and without looking.
. "$(dirname "$0")/lib.sh"
bench=${ZMESH_BENCH_WORK:-$ZM_BIN/bench/bench_work}
[ -x "$bench" ] || zm_fail "no bench_work at $bench"

for run in kill stop steal sleep "kill -S 0" "rtt -n 2000" "rtt-local -n 2000" \
    "rtt-local -n 2000 -S 0"; do
    read -r scenario options <<<"$run"
    # shellcheck disable=SC2086  # options are words
    out=$(TMPDIR=$ZM_TMP timeout 240 "$bench" -t -z "$ZMESHD" -s $scenario $options \
        2>"$ZM_TMP/$scenario.log")
    rc=$?
    echo "$out" | sed 's/^/    /'
    [ $rc -eq 0 ] || zm_fail "$run: bench_work exited $rc"
    echo "$out" | grep -q '^bench_work: ok$' || zm_fail "$run: not every check held"
    zm_ok "$run: every task ended exactly once, successfully"
done
zm_done
