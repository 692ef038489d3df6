#!/usr/bin/env bash
# The auction strategy on 3 real nodes: the owner sends a CALL to every eligible worker, each
# bids from its own state (BID), the highest bid wins. One task: 3 calls, 3 bids, the winner
# is one of the nodes. 100 tasks alike share rounds (a round serves 500 ms): far fewer calls
# than tasks, every result once and successful. A task with needs no node meets is never
# called for: it fails after balancer/place_timeout_ms.
. "$(dirname "$0")/lib.sh"

args=(--open --set balancer/place_timeout_ms=1500)
zm_start a "${args[@]}"
zm_start b "${args[@]}" --seed "$(zm_contact a)"
zm_start c "${args[@]}" --seed "$(zm_contact a)"
for n in a b c; do
    zm_wait 15 zm_metric_ge "$n" zmesh_nodes_active "" 3 \
        || zm_fail "$n's balancer sees $(zm_metric "$n" zmesh_nodes_active) nodes offering work"
done
ids=" $(zm_id a) $(zm_id b) $(zm_id c) "
ctl () { local name=$1; shift; "$ZMESHCTL" --data "$ZM_TMP/$name" --timeout 15000 "$@"; }
bids () { echo $(( $(zm_metric a zmesh_task_bids_total) + $(zm_metric b zmesh_task_bids_total) + $(zm_metric c zmesh_task_bids_total) )); }

out=$(ctl a --json submit echo --payload bid --strategy auction) || zm_fail "submit exited $?: $out"
echo "$out" | jq -e '.success and .output == "bid"' >/dev/null || zm_fail "auction task: $out"
winner=$(echo "$out" | jq -r .dispatched_to)
[[ "$ids" == *" $winner "* ]] || zm_fail "the auction's winner $winner is none of the nodes"
[ "$(zm_metric a zmesh_task_calls_total)" -eq 3 ] \
    || zm_fail "a sent $(zm_metric a zmesh_task_calls_total) calls for one task, not 3"
zm_wait 5 bash -c "[ \$(( $(zm_metric a zmesh_task_bids_total) + $(zm_metric b zmesh_task_bids_total) + $(zm_metric c zmesh_task_bids_total) )) -eq 3 ]" \
    || zm_fail "the 3 nodes sent $(bids) bids, not 3"
zm_ok "one auction task: 3 calls, 3 bids, won by one of the nodes"

seq 1 100 > "$ZM_TMP/inputs"
ctl b --json map echo --strategy auction < "$ZM_TMP/inputs" > "$ZM_TMP/out.json" \
    || zm_fail "map --strategy auction exited $?"
jq -s -e 'length == 100 and all(.[]; .success and .output == (.line | tostring))' \
    "$ZM_TMP/out.json" >/dev/null || zm_fail "auction map: $(head -n 2 "$ZM_TMP/out.json")"
calls=$(zm_metric b zmesh_task_calls_total)
[ "$calls" -ge 3 ] && [ "$calls" -lt 100 ] \
    || zm_fail "100 tasks alike took $calls calls (rounds are not shared, or none was sent)"
zm_ok "100 auction tasks, each once and right, with $calls calls (rounds shared)"

# Rounds that open while every node has its window full (late binding) still call all 3:
# 40 tasks of 300 ms keep the nodes full across several rounds of 500 ms.
before=$(zm_metric a zmesh_task_calls_total)
yes 300 | head -n 40 > "$ZM_TMP/sleeps"
ctl a --json map sleep --strategy auction < "$ZM_TMP/sleeps" > "$ZM_TMP/sleeps.json" \
    || zm_fail "map sleep --strategy auction exited $?"
jq -s -e 'length == 40 and all(.[]; .success)' "$ZM_TMP/sleeps.json" >/dev/null \
    || zm_fail "auction sleeps: $(head -n 2 "$ZM_TMP/sleeps.json")"
calls=$(( $(zm_metric a zmesh_task_calls_total) - before ))
[ "$calls" -ge 6 ] && [ $(( calls % 3 )) -eq 0 ] \
    || zm_fail "40 sleeps took $calls calls: a round did not call every node"
zm_ok "rounds opened while the nodes were full still called all 3 ($calls calls)"

out=$(ctl c --json submit echo --strategy auction --require no-such-tag); rc=$?
[ "$rc" -eq 1 ] || zm_fail "a task no node can take exited $rc: $out"
echo "$out" | jq -e '.success == false' >/dev/null || zm_fail "unplaceable auction task: $out"
[ "$(zm_metric c zmesh_task_calls_total)" -eq 0 ] \
    || zm_fail "c called for bids on a task no node can take"
zm_ok "an auction task no node can take fails without calls"
zm_done
