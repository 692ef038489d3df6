#!/usr/bin/env bash
# Trusted mode: nodes that do not trust each other never connect; `zmeshctl trust add` on
# both admits the keys without a restart, and they become members of each other.
. "$(dirname "$0")/lib.sh"
zm_start a
zm_start b --seed "$(zm_contact a)"
key_a=$(zm_key a)
key_b=$(zm_key b)
id_a=$(zm_id a)
id_b=$(zm_id b)
sleep 2
[ "$(zm_state a "$id_b")" = none ] && [ "$(zm_state b "$id_a")" = none ] \
    || zm_fail "untrusted nodes are members: a sees b $(zm_state a "$id_b"), b sees a $(zm_state b "$id_a")"
[ "$(zm_metric a zmesh_connections_accepted_total)" = 0 ] || zm_fail "a accepted a connection"
[ "$(zm_metric b zmesh_peers_not_connected_total 'reason="untrusted"')" -ge 1 ] \
    || zm_fail "b did not count its untrusted seed"
zm_ok "untrusted: no connection either way for 2 s"

# b trusts a: b now connects to a, but a refuses b's key at the CURVE handshake (ZAP).
zm_ctl b trust add "$key_a" >/dev/null || zm_fail "trust add on b"
[ -f "$ZM_TMP/b/trusted/$id_a.key" ] || zm_fail "trust add did not write b/trusted/$id_a.key"
zm_wait 5 zm_metric_ge a zmesh_connections_refused_total 'reason="untrusted"' 1
refused=$(zm_metric a zmesh_connections_refused_total 'reason="untrusted"')
[ "$refused" -ge 1 ] || zm_fail "a did not refuse (and count) b's untrusted key: $refused"
[ "$(zm_state a "$id_b")" = none ] || zm_fail "a lists b although it does not trust it"
zm_ok "one-sided trust: a refuses b's handshake and counts it ($refused)"

zm_ctl a trust add "$key_b" >/dev/null || zm_fail "trust add on a"
zm_wait 10 zm_has_state a "$id_b" alive || zm_fail "a does not see b alive after trust add: $(zm_state a "$id_b")"
zm_wait 10 zm_has_state b "$id_a" alive || zm_fail "b does not see a alive after trust add: $(zm_state b "$id_a")"
zm_ok "after trust add on both, without restart: members of each other"

# The trust persists: after a restart of a (at the same address), b is still admitted.
endpoint_a=$(zm_contact a)
endpoint_a=${endpoint_a%%#*}
kill -TERM "$(zm_pid a)"
zm_wait 5 zm_has_state b "$id_a" left || zm_fail "b does not see a left"
zm_start a --bind "$endpoint_a" --seed "$(zm_contact b)"
zm_wait 10 zm_has_state b "$id_a" alive || zm_fail "b does not see a alive after a restarted"
zm_wait 10 zm_has_state a "$id_b" alive || zm_fail "restarted a does not see b"
zm_ok "trusted keys persist across restart (DATA/trusted/)"
zm_done
