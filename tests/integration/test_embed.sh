#!/usr/bin/env bash
# The C API: examples/embed runs a node inside its own process, joins a zmeshd node, and
# prints membership events from the event socket: joined, then left when zmeshd stops.
. "$(dirname "$0")/lib.sh"
zm_start daemon --open
"$ZMESH_EMBED" "$ZM_TMP/embedded" "$(zm_contact daemon)" 12 > "$ZM_TMP/embed.out" 2>"$ZM_TMP/embed.log" &
ZM_PIDS+=("$!")
embed_pid=$!
zm_wait 10 grep -q "event daemon .* none -> alive" "$ZM_TMP/embed.out" || zm_fail "no joined event"
zm_wait 10 zm_has_count daemon alive 2 || zm_fail "zmeshd does not see the embedded node"
zm_ok "embedded node joins a zmeshd node; joined event on the API"
zm_wait 15 grep -q "^task upper HELLO MESH on " "$ZM_TMP/embed.out" \
    || zm_fail "the embedded node's own task (its registered handler) did not run"
zm_ok "a C handler registered with zmesh_node_handler runs a task submitted with zmesh_node_submit"
zm_wait 10 bash -c "[ \"\$('$ZMESHCTL' --data '$ZM_TMP/daemon' state get role embedded 2>/dev/null)\" = embedded ]" \
    || zm_fail "zmeshd does not see the embedded node's role (zmesh_node_state_set)"
zm_ctl daemon state set color teal >/dev/null || zm_fail "state set on the daemon"
zm_wait 10 grep -q "state daemon color = teal" "$ZM_TMP/embed.out" || zm_fail "no state event on the API"
zm_ok "node state both ways: C API set seen by zmeshctl, zmeshctl set seen as an API event"
kill -TERM "$(zm_pid daemon)"
zm_wait 5 grep -q "event daemon .* alive -> left" "$ZM_TMP/embed.out" || zm_fail "no left event"
zm_ok "zmeshd stops: left event on the API"
wait "$embed_pid"; rc=$?
[ "$rc" -eq 0 ] || zm_fail "embed exited $rc"
grep -q "member embedded .* alive (self)" "$ZM_TMP/embed.out" || zm_fail "member list lacks self"
grep -q "member daemon .* left color=teal" "$ZM_TMP/embed.out" \
    || zm_fail "member list lacks the left daemon with its color (zmesh_node_state_get)"
zm_ok "zmesh_node_members lists self and the left peer"
zm_done
