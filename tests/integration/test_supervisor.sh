#!/usr/bin/env bash
# The supervisor restarts an actor that dies, with back-off, logs and counts it; the node
# keeps its membership through the restart.
. "$(dirname "$0")/lib.sh"
ARGS=(--open --set supervisor/restart_backoff_ms=200 --set supervisor/restart_backoff_max_ms=800)
zm_start s1 "${ARGS[@]}"
zm_start s2 "${ARGS[@]}" --seed "$(zm_contact s1)"
zm_wait 10 zm_has_count s1 alive 2 || zm_fail "s1 and s2 did not meet"

restarts () { zm_ctl s1 status --json | jq -r --arg a "$1" '.actors[] | select(.name == $a) | .restarts'; }
actor_state () { zm_ctl s1 status --json | jq -r --arg a "$1" '.actors[] | select(.name == $a) | .state'; }
has_restarts () { [ "$(restarts "$1")" = "$2" ] && [ "$(actor_state "$1")" = running ]; }

sleep 3   # steady state: both sides' HELLOs long acknowledged
zm_ctl s1 fault gossip >/dev/null || zm_fail "fault gossip"
zm_wait 5 has_restarts gossip 1 || zm_fail "gossip restarts $(restarts gossip), state $(actor_state gossip)"
grep -q "actor gossip died; restart 1 in 200 ms" "$ZM_TMP/s1.log" || zm_fail "restart not logged"
[ "$(zm_metric s1 zmesh_actor_restarts_total 'actor="gossip"')" = 1 ] || zm_fail "restart not counted"
zm_ok "gossip died: restarted after 200 ms, logged, counted"
# The restarted gossip has an empty table; it relinks from the last snapshot and asks s2 for
# its HELLO again (s2 never saw it go silent, so would not resend it on its own).
zm_wait 10 zm_has_count s1 alive 2 || zm_fail "restarted gossip on s1 does not list s2 again"
zm_ok "after a restart in steady state, s1 lists s2 again"

zm_ctl s1 fault gossip >/dev/null || zm_fail "fault gossip (2)"
zm_wait 5 has_restarts gossip 2 || zm_fail "second restart: $(restarts gossip)"
grep -q "actor gossip died; restart 2 in 400 ms" "$ZM_TMP/s1.log" || zm_fail "back-off did not double"
zm_ok "a second death backs off twice as long (400 ms)"

zm_wait 10 zm_has_count s1 alive 2 || zm_fail "s1 lost s2 after gossip restarts"
zm_wait 10 zm_has_state s2 "$(zm_id s1)" alive || zm_fail "s2 lost s1"
zm_ok "membership survives gossip restarts (same port, peers relearned)"

# The control actor can die too; zmeshctl works again after its restart.
zm_ctl s1 fault control >/dev/null || zm_fail "fault control"
zm_wait 5 has_restarts control 1 || zm_fail "control not restarted"
zm_ok "control restarted; zmeshctl answers"
zm_done
