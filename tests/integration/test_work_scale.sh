#!/usr/bin/env bash
# The scaling decision, per node and mesh-wide, on 3 real nodes with scale/interval_ms = 200
# and scale/cooldown_ms = 1000: each publishes its figures (zmesh.scale); every node computes
# the mesh's decision from all three, and only the one with the lowest id runs scale/exec for
# it ("DECISION mesh"). Idle, every node and the mesh say scale_down (D = 0). Then 240 sleep
# tasks of 2 s submitted on a (3 slots in all) keep a's queue deep: a's own decision and the
# mesh's (mean queue about 80 per node, D > 1) turn to scale_up.
. "$(dirname "$0")/lib.sh"

for n in a b c; do
    printf '#!/bin/sh\necho "$1 $2" >> "%s/%s.scaled"\n' "$ZM_TMP" "$n" > "$ZM_TMP/$n.scale.sh"
    chmod +x "$ZM_TMP/$n.scale.sh"
done
args () {
    echo --open --set scale/interval_ms=200 --set scale/cooldown_ms=1000 \
        --set "scale/exec=$ZM_TMP/$1.scale.sh" \
        --set worker/slots=1 --set worker/critical_reserve=0
}
# shellcheck disable=SC2046  # args are words without spaces
zm_start a $(args a)
# shellcheck disable=SC2046
zm_start b $(args b) --seed "$(zm_contact a)"
# shellcheck disable=SC2046
zm_start c $(args c) --seed "$(zm_contact a)"
for n in a b c; do
    zm_wait 15 zm_has_count "$n" alive 3 || zm_fail "$n does not see 3 nodes alive"
done
# Every node counts the 3 in the mesh's decision; one of them decides for the mesh.
for n in a b c; do
    zm_wait 15 zm_metric_ge "$n" zmesh_scaling_mesh_nodes "" 3 \
        || zm_fail "$n's mesh decision counts $(zm_metric "$n" zmesh_scaling_mesh_nodes) nodes"
done
decider=$(for n in a b c; do echo "$(zm_id "$n") $n"; done | sort | head -n 1 | cut -d' ' -f2)
for n in a b c; do
    want=0
    [ "$n" = "$decider" ] && want=1
    [ "$(zm_metric "$n" zmesh_scaling_mesh_decider "")" = "$want" ] \
        || zm_fail "$n: zmesh_scaling_mesh_decider is not $want (lowest id: $decider)"
done
zm_ok "each node computes the mesh decision over 3 nodes; $decider (lowest id) acts on it"

# Idle: D = 0, so scale_down, for each node and (from the decider only) for the mesh.
for n in a b c; do
    zm_wait 15 grep -q '^scale_down node$' "$ZM_TMP/$n.scaled" \
        || zm_fail "$n (idle) did not decide scale_down for itself: $(cat "$ZM_TMP/$n.scaled" 2>&1)"
done
zm_wait 15 grep -q '^scale_down mesh$' "$ZM_TMP/$decider.scaled" \
    || zm_fail "$decider did not decide scale_down for the idle mesh"
zm_ok "an idle mesh: each node and the mesh decide scale_down"

yes 2000 | head -n 240 > "$ZM_TMP/sleeps"
"$ZMESHCTL" --data "$ZM_TMP/a" --timeout 600000 map sleep < "$ZM_TMP/sleeps" \
    > "$ZM_TMP/map.out" 2>&1 &
ZM_PIDS+=("$!")
zm_wait 30 grep -q '^scale_up node$' "$ZM_TMP/a.scaled" \
    || zm_fail "a (240 tasks queued) did not decide scale_up for itself: $(cat "$ZM_TMP/a.scaled" 2>&1)"
zm_wait 30 grep -q '^scale_up mesh$' "$ZM_TMP/$decider.scaled" \
    || zm_fail "$decider did not decide scale_up for the mesh: $(cat "$ZM_TMP/$decider.scaled" 2>&1)"
for n in a b c; do
    [ "$n" = "$decider" ] && continue
    ! grep -q 'mesh$' "$ZM_TMP/$n.scaled" 2>/dev/null \
        || zm_fail "$n acted on the mesh's decision, which is $decider's to act on"
done
for n in a b c; do
    [ "$(zm_metric "$n" zmesh_scaling_mesh_d "" | cut -d. -f1)" -ge 1 ] \
        || zm_fail "mesh D on $n is $(zm_metric "$n" zmesh_scaling_mesh_d "") with 240 tasks queued"
done
zm_ok "240 tasks queued on a: a decides scale_up for itself, $decider for the mesh (D $(zm_metric "$decider" zmesh_scaling_mesh_d ""))"
zm_done
