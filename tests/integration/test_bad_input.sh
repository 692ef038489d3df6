#!/usr/bin/env bash
# Garbage, plaintext, oversized and forged input sent to a node's port: the node stays up,
# keeps its membership, and counts every piece in its metrics.
. "$(dirname "$0")/lib.sh"
zm_start target --open
zm_start peer --open --seed "$(zm_contact target)"
zm_wait 10 zm_has_count target alive 2 || zm_fail "target and peer did not meet"
contact=$(zm_contact target)
endpoint=${contact%%#*}

check () {  # check METRIC LABELS MIN: counter at least MIN
    local v
    v=$(zm_metric target "$1" "$2")
    [ "$v" -ge "$3" ] || zm_fail "$1{$2} is $v, expected >= $3"
}

for _ in 1 2 3; do "$ZMESH_PROBE" garbage "$endpoint" || zm_fail "probe garbage"; done
zm_wait 5 zm_metric_ge target zmesh_connections_refused_total 'reason="dropped"' 3 \
    || zm_fail "garbage: connections closed before a handshake not counted"
zm_ok "raw garbage on the tcp port: connection dropped and counted"

before=$(zm_metric target zmesh_connections_refused_total 'reason="handshake"')
"$ZMESH_PROBE" plaintext "$endpoint" || zm_fail "probe plaintext"
zm_wait 5 zm_metric_ge target zmesh_connections_refused_total 'reason="handshake"' $((before + 1)) \
    || zm_fail "plaintext ZMTP not refused"
zm_ok "plaintext (NULL mechanism) ZMTP: refused at the handshake"

received=$(zm_metric target zmesh_messages_received_total)
for kind in garbage oversized wrong-sender unknown-type bad-version multipart; do
    "$ZMESH_PROBE" curve "$contact" "$kind" 5 || zm_fail "probe curve $kind"
done
zm_wait 5 zm_metric_ge target zmesh_dropped_total 'reason="unknown_type"' 5 \
    || zm_fail "unknown types not counted"
check zmesh_dropped_total 'reason="malformed"' 10      # garbage + multipart
check zmesh_dropped_total 'reason="oversized"' 5
check zmesh_dropped_total 'reason="sender_mismatch"' 5
check zmesh_dropped_total 'reason="version"' 5
zm_ok "bad envelopes over CURVE: dropped by reason and counted"

"$ZMESH_PROBE" curve "$contact" huge 1 || true   # past MAXMSGSIZE: libzmq drops the link
"$ZMESH_PROBE" curve "$contact" valid-ping 3 || zm_fail "probe valid-ping"
kill -0 "$(zm_pid target)" || zm_fail "target died"
zm_ctl target status >/dev/null || zm_fail "target does not answer zmeshctl"
zm_wait 5 zm_has_count target alive 2 || zm_fail "target lost its peer"
zm_wait 5 zm_has_count peer alive 2 || zm_fail "peer lost the target"
now=$(zm_metric target zmesh_messages_received_total)
[ "$now" -gt "$received" ] || zm_fail "target stopped receiving valid messages"
zm_ok "after all that: target runs, answers, keeps its peer"
zm_done
