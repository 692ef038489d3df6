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

zm_ctl s2 fault gossip >/dev/null || zm_fail "fault gossip on s2"
zm_wait 15 with_resources s2 3 || zm_fail "s2's restarted gossip did not get the state back"
zm_wait 15 with_resources s1 3 || zm_fail "s1 lost s2's resources"
zm_ok "a restarted gossip actor gets every node's state back"
zm_done
