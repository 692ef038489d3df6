#!/usr/bin/env bash
# netns_beacon.sh: beacon discovery between hosts, as network namespaces on one bridge.
#
# Three nodes started by examples/netns-cluster.sh, with no seeds, must find each other by
# signed UDP beacon alone; garbage and mis-signed beacons are dropped and counted and harm
# nothing; a node cut off the LAN is declared dead within the dead timeout, and alive again
# once plugged back in. Needs root and `ip netns`: otherwise it skips (exit 77). Binaries:
# ZMESHD, ZMESHCTL, ZMESH_PROBE (set by ctest), else looked up in ZMESH_BIN_DIR or build/.
set -u
name=netns_beacon
broadcast=10.77.0.255      # the launcher's LAN is 10.77.0.0/24
beacon_port=5670
dead_timeout_ms=8000       # a probe round (1 s) + its timeouts + suspicion_max_ms (6 s), defaults
nodes=(node1 node2 node3)
. "$(dirname "$0")/lib_netns.sh"

# 1. Discovery: no seeds anywhere, so every member was found by a beacon across the bridge.
out=$("$launcher" start 3 2>&1) || { echo "$out"; fail "netns-cluster.sh start 3"; }
all_alive 3 "${nodes[@]}" || fail "not every node lists 3 alive: $(views)"
for node in "${nodes[@]}"; do
    members=$(ctl "$node" members --json) || fail "$node: zmeshctl members"
    for i in 1 2 3; do
        endpoint=$(echo "$members" | jq -r --arg n "node$i" '.[] | select(.name == $n) | .endpoint')
        [ "$endpoint" = "tcp://10.77.0.$((i + 10)):7000" ] \
            || fail "$node lists node$i at '$endpoint', not its LAN address"
    done
done
ok "3 nodes in 3 namespaces, no seeds: each lists all 3 alive at their LAN addresses"

# The last node up may have joined through the others' HELLOs before their next beacon: give
# it two beacon intervals (beacon/interval_ms, 1000 by default) to hear one.
received () { [ "$(metric "$1" zmesh_beacons_received_total)" -gt 0 ]; }
for node in "${nodes[@]}"; do
    wait_for 3000 received "$node" \
        || fail "$node: zmesh_beacons_received_total is $(metric "$node" zmesh_beacons_received_total)"
done
ok "each node counts valid beacons received (zmesh_beacons_received_total > 0)"

# 2. Bad beacons, broadcast from inside node1's namespace: dropped and counted elsewhere.
malformed0=$(metric node2 zmesh_dropped_total 'reason="beacon_malformed"')
signature0=$(metric node2 zmesh_dropped_total 'reason="beacon_signature"')
restarts0=$(metric node2 zmesh_actor_restarts_total 'actor="beacon"')
if [ "$malformed0" -lt 0 ] || [ "$signature0" -lt 0 ] || [ "$restarts0" -lt 0 ]; then
    fail "node2: beacon drop or restart counters not in metrics --json"
fi
probe () { ip netns exec "$(ns node1)" "$ZMESH_PROBE" beacon "$1" "$beacon_port" "$broadcast"; }
increased () { [ "$(metric node2 zmesh_dropped_total "reason=\"$1\"")" -gt "$2" ]; }
# expect_drop KIND REASON BEFORE: broadcast a KIND beacon until node2's REASON count passes
# BEFORE, 3 tries of 1 s (UDP; and 1 garbage datagram in 32768 parses as mis-signed instead).
expect_drop () {
    local try
    for try in 1 2 3; do
        probe "$1" || fail "zmesh_probe beacon $1 from node1's namespace (try $try)"
        wait_for 1000 increased "$2" "$3" && return 0
    done
    fail "node2: $2 drops still $(metric node2 zmesh_dropped_total "reason=\"$2\"") after 3 $1 beacons (was $3)"
}
expect_drop garbage beacon_malformed "$malformed0"
expect_drop bad-signature beacon_signature "$signature0"
ok "node2 dropped and counted the garbage beacon (beacon_malformed) and the mis-signed one (beacon_signature)"

all_running || fail "a node exited after the bad beacons"
[ "$(metric node2 zmesh_actor_restarts_total 'actor="beacon"')" = "$restarts0" ] \
    || fail "node2's beacon actor restarted after the bad beacons"
wait_for 3000 all_alive 3 "${nodes[@]}" || fail "after bad beacons: $(views)"
ok "after the bad beacons every node still runs (beacon actor not restarted) and lists 3 alive"

# 3. Partition: node3's bridge port down; node1 and node2 must declare it dead in time.
t0=$(now_ms)
"$launcher" partition node3 >/dev/null || fail "netns-cluster.sh partition node3"
bound=$((dead_timeout_ms + 2000))
wait_for "$bound" all_see node3 dead node1 node2 \
    || fail "node3 not dead on node1 and node2 within $bound ms of the partition: $(views)"
took=$(($(now_ms) - t0))
if ! all_see node1 alive node2 || ! all_see node2 alive node1; then
    fail "node1 and node2 lost each other during node3's partition: $(views)"
fi
ok "node3 partitioned: node1 and node2 see it dead within $bound ms (took $took ms)"

# 4. Heal: node3 back on the LAN; all three see all three alive again.
t0=$(now_ms)
"$launcher" heal node3 >/dev/null || fail "netns-cluster.sh heal node3"
wait_for 15000 all_alive 3 "${nodes[@]}" || fail "not all alive 15 s after the heal: $(views)"
ok "node3 healed: every node lists 3 alive again (took $(($(now_ms) - t0)) ms)"

# 5. Stop leaves nothing behind: no node process, no namespace, no link.
pids=$(for node in "${nodes[@]}"; do pid "$node"; done)
"$launcher" stop >/dev/null || fail "netns-cluster.sh stop"
for p in $pids; do
    ! kill -0 "$p" 2>/dev/null || fail "zmeshd $p still runs after stop"
done
left=$(ip netns list | awk '{print $1}' | grep -- "^$ZMESH_NETNS_PREFIX-" || true)
[ -z "$left" ] || fail "namespaces left after stop: $left"
ok "stop ends every node and deletes every namespace"

echo "$name: $passed passed, 0 failed"
