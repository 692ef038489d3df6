#!/usr/bin/env bash
# The README's main job, smaller: examples/demo.sh with 4 nodes and 400 tasks, in trusted mode,
# one node SIGKILLed half-way. It must end with "demo: ok": every task ended exactly once,
# successfully (the script checks that itself, from the results zmeshctl map printed).
. "$(dirname "$0")/lib.sh"
src=${ZMESH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
out=$ZM_TMP/demo.out
TMPDIR=$ZM_TMP ZMESHD=$ZMESHD ZMESHCTL=$ZMESHCTL timeout 240 bash "$src/examples/demo.sh" 4 400 \
    > "$out" 2>&1 &
demo=$!
ZM_PIDS+=("$demo")
wait "$demo"
rc=$?
sed 's/^/    /' "$out"
[ $rc -eq 0 ] || zm_fail "demo.sh exited $rc"
grep -q '^demo: ok$' "$out" || zm_fail "demo.sh did not say ok"
grep -q 'tasks: *400 submitted, 400 results, 400 succeeded, 0 failed' "$out" \
    || zm_fail "not every task succeeded once"
zm_ok "the main job: 400 tasks, a node killed half-way, every task ended exactly once"
zm_done
