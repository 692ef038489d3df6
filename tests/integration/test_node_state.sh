#!/usr/bin/env bash
# Node state by anti-entropy over real CURVE links: each node's health actor puts its profile
# into its state map; every node learns every other's, and `members --json` shows them as
# resources. A restarted gossip actor (empty state) gets them all back.
. "$(dirname "$0")/lib.sh"
ARGS=(--open --set state/interval_ms=300 --set health/bench_budget_ms=50)
zm_start s1 "${ARGS[@]}"
zm_start s2 "${ARGS[@]}" --seed "$(zm_contact s1)"
zm_start s3 "${ARGS[@]}" --seed "$(zm_contact s1)"

with_resources () {  # with_resources NODE COUNT: members listing resources
    [ "$(zm_ctl "$1" members --json | jq '[.[] | select(.resources.cpu_cores >= 1 and .resources.bench != null)] | length')" = "$2" ]
}
for n in s1 s2 s3; do
    zm_wait 15 with_resources "$n" 3 || zm_fail "$n lists resources for $(zm_ctl "$n" members --json | jq '[.[] | select(.resources)] | length') of 3 members"
done
zm_ok "every node knows every node's resources (cores, memory, benchmark) by gossip state"

for n in s1 s2 s3; do
    [ "$(zm_metric "$n" zmesh_state_changes_total)" -ge 3 ] || zm_fail "$n applied fewer than 3 state writes"
    [ "$(zm_metric "$n" zmesh_state_dropped_total)" = 0 ] || zm_fail "$n dropped state input"
done
zm_ok "state changes counted, nothing dropped"

# Keys people set: on one node, read on another, watched on a third, deleted.
"$ZMESHCTL" --data "$ZM_TMP/s3" --json watch --count 2 > "$ZM_TMP/watch.out" 2>&1 &
watch_pid=$!
ZM_PIDS+=("$watch_pid")
sleep 0.3
zm_ctl s1 state set colour blue >/dev/null || zm_fail "state set"
zm_wait 10 bash -c "[ \"\$('$ZMESHCTL' --data '$ZM_TMP/s2' state get colour s1 2>/dev/null)\" = blue ]" \
    || zm_fail "s2 does not read s1's colour"
zm_ctl s2 state keys s1 | grep -q '^colour ' || zm_fail "state keys lacks colour"
# (s3 too, before the delete: anti-entropy may skip a value that is already deleted)
zm_wait 10 bash -c "[ \"\$('$ZMESHCTL' --data '$ZM_TMP/s3' state get colour s1 2>/dev/null)\" = blue ]" \
    || zm_fail "s3 does not read s1's colour"
zm_ctl s1 state del colour >/dev/null || zm_fail "state del"
zm_wait 10 bash -c "! '$ZMESHCTL' --data '$ZM_TMP/s2' state get colour s1 >/dev/null 2>&1" \
    || zm_fail "the delete did not reach s2"
zm_wait 10 bash -c "! kill -0 $watch_pid 2>/dev/null" || zm_fail "watch on s3 did not see 2 state events"
jq -e -s 'map(.type) == ["set", "delete"] and .[0].key == "colour" and .[0].value == "blue" and .[0].name == "s1"' \
    "$ZM_TMP/watch.out" >/dev/null || zm_fail "watch: $(cat "$ZM_TMP/watch.out")"
zm_ok "state set on s1, get on s2, watched on s3 (set, delete), deleted everywhere"

out=$(zm_ctl s1 state set zmesh.profile x 2>&1) && zm_fail "a reserved key was accepted"
echo "$out" | grep -q "zmesh's own" || zm_fail "reserved key: $out"
big=$(head -c 300 /dev/zero | tr '\0' 'k')
out=$(zm_ctl s1 state set "$big" v 2>&1) && zm_fail "a 300-byte key was accepted"
zm_ctl s1 state get nosuchkey >/dev/null 2>&1 && zm_fail "a missing key was found"
zm_ok "reserved, oversized and missing keys: refused with exit 1"

zm_ctl s2 fault gossip >/dev/null || zm_fail "fault gossip on s2"
zm_wait 15 with_resources s2 3 || zm_fail "s2's restarted gossip did not get the state back"
zm_wait 15 with_resources s1 3 || zm_fail "s1 lost s2's resources"
zm_ok "a restarted gossip actor gets every node's state back"
zm_done
