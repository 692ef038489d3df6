#!/usr/bin/env bash
# netns_partition.sh: a mesh cut in two halves, across network namespaces, and healed.
#
# Six nodes started by examples/netns-cluster.sh (beacons only, trusted mode). The launcher's
# `split` moves three of them to a second LAN: each half must declare the other half dead
# and keep its own members alive; after `unsplit` every node must list all six alive again,
# one membership. A node killed meanwhile stays dead. Needs root and `ip netns`: otherwise it
# skips (exit 77).
set -u
name=netns_partition
nodes=(node1 node2 node3 node4 node5 node6)
left_half=(node1 node2 node3)
right_half=(node4 node5 node6)
. "$(dirname "$0")/lib_netns.sh"

out=$("$launcher" start 6 2>&1) || { echo "$out"; fail "netns-cluster.sh start 6"; }
all_alive 6 "${nodes[@]}" || fail "not every node lists 6 alive: $(views)"
ok "6 nodes in namespaces found each other by beacon"

half_sees () {  # half_sees STATE OBSERVERS... -- OTHERS...: each observer gives each other STATE
    local want=$1 observers=() other; shift
    while [ "$1" != -- ]; do observers+=("$1"); shift; done
    shift
    for other in "$@"; do all_see "$other" "$want" "${observers[@]}" || return 1; done
}

t0=$(now_ms)
"$launcher" split "${right_half[@]}" >/dev/null || fail "netns-cluster.sh split"
wait_for 20000 half_sees dead "${left_half[@]}" -- "${right_half[@]}" \
    || fail "left half does not see the right half dead 20 s after the split: $(views)"
wait_for 20000 half_sees dead "${right_half[@]}" -- "${left_half[@]}" \
    || fail "right half does not see the left half dead 20 s after the split: $(views)"
took=$(($(now_ms) - t0))
half_sees alive "${left_half[@]}" -- "${left_half[@]:1}" && half_sees alive "${right_half[@]}" -- "${right_half[@]:1}" \
    || fail "a half lost one of its own members: $(views)"
ok "split in two halves: each declares the other dead ($took ms), keeps its own alive"

t0=$(now_ms)
"$launcher" unsplit >/dev/null || fail "netns-cluster.sh unsplit"
wait_for 20000 all_alive 6 "${nodes[@]}" || fail "not one membership 20 s after the heal: $(views)"
ok "healed: every node lists all 6 alive again (took $(($(now_ms) - t0)) ms)"

# A node killed after the heal is dead everywhere and stays dead.
"$launcher" kill node6 KILL >/dev/null || fail "kill node6"
rest=("${nodes[@]:0:5}")
wait_for 15000 all_see node6 dead "${rest[@]}" || fail "node6 not dead everywhere: $(views)"
sleep 3
all_see node6 dead "${rest[@]}" || fail "killed node6 came back: $(views)"
all_alive 5 "${rest[@]}" || fail "the five others do not all list 5 alive: $(views)"
nodes=("${rest[@]}")
ok "a node killed after the heal is dead on every other node, and stays dead"
echo "$name: $passed passed, 0 failed"
