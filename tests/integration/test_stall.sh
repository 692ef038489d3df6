#!/usr/bin/env bash
# A node frozen with SIGSTOP: a short stall (shorter than the suspicion timeout) never makes it
# dead anywhere; a long one does, and once it runs again it refutes and is alive everywhere.
. "$(dirname "$0")/lib.sh"
N=5
ARGS=(--open --set health/bench_budget_ms=0)
zm_start n1 "${ARGS[@]}"
for i in $(seq 2 $N); do zm_start "n$i" "${ARGS[@]}" --seed "$(zm_contact n1)"; done
for i in $(seq 1 $N); do
    zm_wait 10 zm_has_count "n$i" alive $N || zm_fail "n$i sees $(zm_count "n$i" alive) alive, not $N"
done
zm_ok "$N nodes converge"

others=(n1 n2 n4 n5)
id3=$(zm_id n3)
dead_events () {  # dead events counted by the nodes other than n3
    local n total=0
    for n in "${others[@]}"; do total=$((total + $(zm_metric "$n" zmesh_peer_events_total 'event="dead"'))); done
    echo "$total"
}

# 2.5 s frozen: less than gossip/suspicion_min_ms (4.2 s). It may be suspected, never dead.
kill -STOP "$(zm_pid n3)"
sleep 2.5
kill -CONT "$(zm_pid n3)"
for n in "${others[@]}"; do
    zm_wait 10 zm_has_state "$n" "$id3" alive || zm_fail "$n: n3 is $(zm_state "$n" "$id3") after a 2.5 s stall"
done
sleep 6   # past the longest suspicion timeout: a death would have been declared by now
[ "$(dead_events)" = 0 ] || zm_fail "a 2.5 s stall made n3 dead somewhere ($(dead_events) dead events)"
for n in "${others[@]}"; do
    zm_has_state "$n" "$id3" alive || zm_fail "$n: n3 is $(zm_state "$n" "$id3") 6 s after a 2.5 s stall"
done
zm_ok "a 2.5 s stall: n3 never dead, alive everywhere"

# 12 s frozen: dead on every other node; then it runs again and refutes.
kill -STOP "$(zm_pid n3)"
for n in "${others[@]}"; do
    zm_wait 15 zm_has_state "$n" "$id3" dead || { kill -CONT "$(zm_pid n3)"; zm_fail "$n: n3 is $(zm_state "$n" "$id3") during a long stall"; }
done
zm_ok "a long stall: n3 dead on every other node"
kill -CONT "$(zm_pid n3)"
for n in "${others[@]}"; do
    zm_wait 15 zm_has_state "$n" "$id3" alive || zm_fail "$n: n3 is $(zm_state "$n" "$id3") after it resumed"
done
refuted=$(zm_metric n3 zmesh_swim_refutations_total)
[ "$refuted" -ge 1 ] || zm_fail "n3 counted no refutation"
zm_wait 10 zm_has_count n3 alive $N || zm_fail "resumed n3 sees $(zm_count n3 alive) alive, not $N"
zm_ok "resumed: n3 refuted its death ($refuted refutations) and is alive everywhere"
zm_done
