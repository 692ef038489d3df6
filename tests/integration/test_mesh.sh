#!/usr/bin/env bash
# Ten real zmeshd processes on 127.0.0.1 find each other from one seed, see a SIGKILLed node
# dead and a SIGTERMed node left, and log each state change once, never repeated.
. "$(dirname "$0")/lib.sh"
N=10
ARGS=(--open --set gossip/suspicion_min_ms=2000 --set gossip/suspicion_max_ms=3000)
zm_start n1 "${ARGS[@]}"
seed=$(zm_contact n1)
for i in $(seq 2 $N); do zm_start "n$i" "${ARGS[@]}" --seed "$seed"; done
for i in $(seq 1 $N); do
    zm_wait 10 zm_has_count "n$i" alive $N || zm_fail "n$i sees $(zm_count "n$i" alive) alive, not $N"
done
zm_ok "$N nodes: every node lists all $N alive (one seed, SWIM join and gossip)"

# A watcher on n1 sees the kill and the leave below as events, each once.
"$ZMESHCTL" --data "$ZM_TMP/n1" --json watch --count 3 > "$ZM_TMP/watch.out" 2>&1 &
watch_pid=$!
ZM_PIDS+=("$watch_pid")
sleep 0.3
victim=$(zm_id n5)
kill -KILL "$(zm_pid n5)"
for i in 1 2 3 4 6 7 8 9 10; do
    zm_wait 15 zm_has_state "n$i" "$victim" dead || zm_fail "n$i: n5 is $(zm_state "n$i" "$victim"), not dead"
done
zm_ok "SIGKILL: n5 is dead on every other node"

leaver=$(zm_id n7)
kill -TERM "$(zm_pid n7)"
for i in 1 2 3 4 6 8 9 10; do
    zm_wait 5 zm_has_state "n$i" "$leaver" left || zm_fail "n$i: n7 is $(zm_state "n$i" "$leaver"), not left"
done
zm_ok "SIGTERM: n7 is left on every other node"
zm_wait 5 bash -c "! kill -0 $watch_pid 2>/dev/null" || zm_fail "zmeshctl watch did not get 3 events"
wait "$watch_pid" || zm_fail "zmeshctl watch exited $?"
jq -e --arg v "$victim" -s \
    'map(select(.id == $v)) | map(.to) == ["suspect", "dead"]' "$ZM_TMP/watch.out" >/dev/null \
    || zm_fail "watch events: $(cat "$ZM_TMP/watch.out")"
jq -e --arg id "$leaver" -s 'map(select(.id == $id and .type == "left")) | length == 1' \
    "$ZM_TMP/watch.out" >/dev/null || zm_fail "watch: no left event for n7: $(cat "$ZM_TMP/watch.out")"
zm_ok "zmeshctl watch: suspect, dead and left, each once, as JSON lines"

# One log line per transition: on n1, n5 went alive->suspect->dead exactly once each, even
# though it has now been silent for several heartbeats and dead-timeouts.
sleep 1
for t in "joined (${victim:0:12}) none -> alive" "(${victim:0:12}) alive -> suspect" \
         "(${victim:0:12}) suspect -> dead" "(${leaver:0:12}) alive -> left"; do
    c=$(grep -cF "$t" "$ZM_TMP/n1.log")
    [ "$c" -eq 1 ] || zm_fail "n1 logged '$t' $c times"
done
zm_ok "each state change is one event, not repeated"

# n5 comes back with the same identity: alive again everywhere.
zm_start n5 "${ARGS[@]}" --seed "$seed"
for i in 1 2 3 4 6 8 9 10; do
    zm_wait 10 zm_has_state "n$i" "$victim" alive || zm_fail "n$i: restarted n5 is $(zm_state "n$i" "$victim")"
done
zm_ok "a restarted node is alive again on every node"

# A node started with no seed joins later through `zmeshctl join`, and meets everyone.
zm_start loner "${ARGS[@]}"
zm_ctl loner join "$(zm_contact n2)" >/dev/null || zm_fail "zmeshctl join"
zm_wait 10 zm_has_count loner alive $N || zm_fail "loner sees $(zm_count loner alive) alive after join"
zm_wait 10 zm_has_state n1 "$(zm_id loner)" alive || zm_fail "n1 does not see the loner"
zm_ok "zmeshctl join: a seedless node meets the whole mesh through one contact"

alive_gauge_is () { [ "$(zm_metric "$1" zmesh_members 'state="alive"')" = "$2" ]; }
for i in 1 2 3; do
    zm_wait 10 alive_gauge_is "n$i" 10 \
        || zm_fail "n$i metrics say $(zm_metric "n$i" zmesh_members 'state="alive"') alive members, expected 10"
done
zm_ok "metrics gauge members by state"
zm_done
