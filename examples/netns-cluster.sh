#!/usr/bin/env bash
# netns-cluster.sh: N zmesh nodes as N separate hosts, each in its own network namespace, on
# one LAN (a bridge), in trusted mode, finding each other by UDP beacon only (no seeds).
#
#   examples/netns-cluster.sh start N     create the LAN and N nodes (node1..nodeN), exchange
#                                         their keys, start them, and wait (20 s at most)
#                                         until every node lists all N alive
#   examples/netns-cluster.sh status      each node's address, link and view of the members
#   examples/netns-cluster.sh kill NAME [SIGNAL]   signal one node (default KILL; TERM = leave)
#   examples/netns-cluster.sh partition NAME       unplug NAME from the LAN (its bridge port down)
#   examples/netns-cluster.sh heal NAME            plug it back in
#   examples/netns-cluster.sh split NAME...        move these nodes to a second LAN of their
#                                                  own: the cluster is cut in two halves
#   examples/netns-cluster.sh unsplit              one LAN again
#   examples/netns-cluster.sh stop        stop every node (SIGTERM: they announce LEAVE; then
#                                         SIGKILL after 5 s) and delete the namespaces
#
# Needs root. Namespaces PREFIX-hub (holds the bridge) and PREFIX-nodeI (node I: veth0 with
# 10.77.0.(I+10)/24, CURVE on tcp port 7000, beacons on UDP 5670); the host's own interfaces
# and routes are never touched. Environment: ZMESH_NETNS_PREFIX (default zm), ZMESH_NETNS_DIR
# (default ./zmesh-netns: one data directory per node, its log NAME.log and pid NAME.pid);
# ZMESHD / ZMESHCTL name the binaries (default: found in PATH, else in build/); ZMESHD_ARGS
# adds flags to every node.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${ZMESH_NETNS_DIR:-$PWD/zmesh-netns}
find_bin () {
    if command -v "$1" >/dev/null; then command -v "$1"; else echo "$here/build/$1"; fi
}
ZMESHD=${ZMESHD:-$(find_bin zmeshd)}
ZMESHCTL=${ZMESHCTL:-$(find_bin zmeshctl)}
net=10.77.0             # the LAN: 10.77.0.0/24, node I at .(I+10)
port=7000               # every node's CURVE port (each node is a host of its own)
beacon_port=5670
veth=veth0              # a node's interface, inside its namespace
bridge=br0              # the LAN's bridge, inside the hub namespace
split_bridge=br1        # the second LAN of `split`, also inside the hub namespace

die () { echo "netns-cluster.sh: $*" >&2; exit 1; }

preflight () {
    [ "$(id -u)" -eq 0 ] || { echo "netns-cluster.sh: needs root (network namespaces)" >&2; exit 2; }
    command -v ip >/dev/null || die "no 'ip' command (install iproute2)"
    ip netns list >/dev/null 2>&1 || die "'ip netns' is unavailable here (no network namespace support)"
}

# The prefix is fixed when a cluster starts, so stop/partition/heal find its namespaces
# whatever the environment says later.
prefix () {
    if [ -s "$dir/prefix" ]; then cat "$dir/prefix"; else echo "${ZMESH_NETNS_PREFIX:-zm}"; fi
}
hub () { echo "$(prefix)-hub"; }
node_ns () { echo "$(prefix)-$1"; }       # node_ns NAME
hub_port () { echo "v$1"; }               # hub_port NAME: the bridge side of NAME's veth
names () {  # the nodes with a pid file, in order
    local file
    for file in "$dir"/*.pid; do
        if [ -e "$file" ]; then basename "$file" .pid; fi
    done | sort -V
}
ns_exists () { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }

alive_count () {  # alive_count NAME: members NAME lists as alive
    "$ZMESHCTL" --data "$dir/$1" --timeout 1000 members --json 2>/dev/null \
        | grep -o '"state": *"alive"' | wc -l
}

wait_converged () {  # wait_converged N TIMEOUT_S: every running node sees N alive
    local n=$1 deadline=$((SECONDS + $2)) name ok
    while [ $SECONDS -lt $deadline ]; do
        ok=1
        for name in $(names); do
            [ "$(alive_count "$name")" -eq "$n" ] || { ok=0; break; }
        done
        [ $ok -eq 1 ] && return 0
        sleep 0.2
    done
    return 1
}

add_ns () {  # add_ns NS: create a namespace (recorded first, so stop removes it) with lo up
    echo "$1" >> "$dir/namespaces"
    ip netns add "$1"
    ip -n "$1" link set lo up
}

make_lan () {  # make_lan N: hub namespace with the bridge; node namespaces plugged into it
    local n=$1 i name ns
    add_ns "$(hub)"
    ip -n "$(hub)" link add "$bridge" type bridge
    ip -n "$(hub)" link set "$bridge" up
    for i in $(seq 1 "$n"); do
        name=node$i ns=$(node_ns "node$i")
        add_ns "$ns"
        # Both ends are created inside the namespaces: nothing appears on the host.
        ip -n "$(hub)" link add "$(hub_port "$name")" type veth peer name "$veth" netns "$ns"
        ip -n "$(hub)" link set "$(hub_port "$name")" master "$bridge" up
        ip -n "$ns" addr add "$net.$((i + 10))/24" broadcast + dev "$veth"
        ip -n "$ns" link set "$veth" up
    done
}

on_start_exit () {
    local status=$?
    [ $status -eq 0 ] || echo "netns-cluster.sh: start failed; netns-cluster.sh stop removes what it made" >&2
}

start () {
    local n=${1:?usage: netns-cluster.sh start N} i j name ns
    if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 240 ]; then
        echo "netns-cluster.sh: N must be 1..240" >&2; exit 2
    fi
    [ -x "$ZMESHD" ] || die "no zmeshd at $ZMESHD (build first, or set ZMESHD)"
    [ -x "$ZMESHCTL" ] || die "no zmeshctl at $ZMESHCTL (build first, or set ZMESHCTL)"
    if [ -n "$(names)" ] || [ -s "$dir/namespaces" ]; then
        die "a cluster is set up in $dir (netns-cluster.sh stop first)"
    fi
    ZMESH_NETNS_PREFIX=${ZMESH_NETNS_PREFIX:-zm}
    [[ $ZMESH_NETNS_PREFIX =~ ^[A-Za-z0-9_.]{1,20}$ ]] \
        || { echo "netns-cluster.sh: ZMESH_NETNS_PREFIX must be 1..20 of [A-Za-z0-9_.]" >&2; exit 2; }
    for ns in "$ZMESH_NETNS_PREFIX-hub" $(seq -f "$ZMESH_NETNS_PREFIX-node%g" 1 "$n"); do
        ! ns_exists "$ns" || die "namespace $ns exists already (another cluster? set ZMESH_NETNS_PREFIX)"
    done
    mkdir -p "$dir"
    rm -f "$dir/namespaces"
    trap on_start_exit EXIT
    echo "$ZMESH_NETNS_PREFIX" > "$dir/prefix"
    make_lan "$n"
    # Identities first, so every node can trust every other before any starts.
    for i in $(seq 1 "$n"); do
        "$ZMESHD" --data "$dir/node$i" --init > "$dir/node$i.key"
    done
    for i in $(seq 1 "$n"); do
        mkdir -p "$dir/node$i/trusted"
        for j in $(seq 1 "$n"); do
            [ "$i" -eq "$j" ] || cp "$dir/node$j.key" "$dir/node$i/trusted/node$j.key"
        done
    done
    for i in $(seq 1 "$n"); do start_node "$i"; done
    if wait_converged "$n" 20; then
        echo "netns-cluster.sh: $n nodes running in namespaces $(prefix)-node1..$n, found by beacon, all alive on every node"
    else
        echo "netns-cluster.sh: $n nodes started but not converged after 20 s; see $dir/*.log" >&2
        exit 1
    fi
}

start_node () {  # start_node I: no seeds; the node must find the others by beacon
    local i=$1 name="node$1" deadline pid
    rm -f "$dir/$name/contact"
    # `ip netns exec` execs zmeshd in place, so $! is the node's pid.
    # shellcheck disable=SC2086
    ip netns exec "$(node_ns "$name")" "$ZMESHD" --data "$dir/$name" --name "$name" \
        --bind "tcp://$net.$((i + 10)):$port" --set beacon/interface="$veth" \
        --beacon-port "$beacon_port" ${ZMESHD_ARGS:-} >"$dir/$name.log" 2>&1 &
    pid=$!
    echo "$pid" > "$dir/$name.pid"
    deadline=$((SECONDS + 10))
    until [ -s "$dir/$name/contact" ]; do
        kill -0 "$pid" 2>/dev/null || die "$name exited; see $dir/$name.log"
        [ $SECONDS -lt $deadline ] || die "$name did not start in 10 s; see $dir/$name.log"
        sleep 0.05
    done
}

link_state () {  # link_state NAME: up, split (on the second LAN), or partitioned (port down)
    local link
    link=$(ip -n "$(hub)" -o link show "$(hub_port "$1")" 2>/dev/null || true)
    if ! echo "$link" | grep -q '[<,]UP[,>]'; then
        echo partitioned
    elif echo "$link" | grep -q "master $split_bridge "; then
        echo split
    else
        echo up
    fi
}

status () {  # never fails: a node that just died shows as such
    local name i
    for name in $(names); do
        i=${name#node}
        printf '%-8s %-13s %-11s ' "$name" "$net.$((i + 10))" "$(link_state "$name")"
        if kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
            "$ZMESHCTL" --data "$dir/$name" --timeout 1000 members 2>&1 | tail -n 1 || true
        else
            echo "not running"
        fi
    done
}

check_node () {  # check_node NAME: NAME is a node of this cluster
    [ -f "$dir/${1:?}.pid" ] || die "no node $1 in $dir"
}

kill_node () {
    local name=${1:?usage: netns-cluster.sh kill NAME [SIGNAL]} sig=${2:-KILL}
    check_node "$name"
    kill -s "$sig" "$(cat "$dir/$name.pid")"
    echo "netns-cluster.sh: sent SIG${sig#SIG} to $name"
}

set_link () {  # set_link NAME up|down: NAME's port on the bridge
    local name=$1 state=$2
    check_node "$name"
    ip -n "$(hub)" link set "$(hub_port "$name")" "$state"
}

partition () {
    local name=${1:?usage: netns-cluster.sh partition NAME}
    set_link "$name" down
    echo "netns-cluster.sh: $name cut off the LAN"
}

heal () {
    local name=${1:?usage: netns-cluster.sh heal NAME}
    set_link "$name" up
    echo "netns-cluster.sh: $name back on the LAN"
}

split () {
    local name
    [ $# -ge 1 ] || die "usage: netns-cluster.sh split NAME..."
    for name in "$@"; do check_node "$name"; done
    if ! ip -n "$(hub)" link show "$split_bridge" >/dev/null 2>&1; then
        ip -n "$(hub)" link add "$split_bridge" type bridge
        ip -n "$(hub)" link set "$split_bridge" up
    fi
    for name in "$@"; do ip -n "$(hub)" link set "$(hub_port "$name")" master "$split_bridge"; done
    echo "netns-cluster.sh: $* on a LAN of their own"
}

unsplit () {
    local name
    for name in $(names); do
        ip -n "$(hub)" link set "$(hub_port "$name")" master "$bridge"
    done
    echo "netns-cluster.sh: one LAN again"
}

stop () {
    local name pid deadline ns pids
    for name in $(names); do
        kill -TERM "$(cat "$dir/$name.pid")" 2>/dev/null || true
    done
    deadline=$((SECONDS + 5))
    for name in $(names); do
        pid=$(cat "$dir/$name.pid")
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$dir/$name.pid"
    done
    # Deleting a node's namespace deletes its veth pair; the hub's deletes the bridge.
    if [ -s "$dir/namespaces" ]; then
        while read -r ns; do
            ns_exists "$ns" || continue
            # Anything else still running in our namespaces (a probe) would keep it alive.
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            # shellcheck disable=SC2086
            [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
            ip netns delete "$ns" || echo "netns-cluster.sh: could not delete namespace $ns" >&2
        done < "$dir/namespaces"
    fi
    rm -f "$dir/namespaces" "$dir/prefix"
    echo "netns-cluster.sh: stopped"
}

case "${1:-}" in
    start) preflight; shift; start "$@" ;;
    status) preflight; status ;;
    kill) preflight; shift; kill_node "$@" ;;
    partition) preflight; shift; partition "$@" ;;
    heal) preflight; shift; heal "$@" ;;
    split) preflight; shift; split "$@" ;;
    unsplit) preflight; unsplit ;;
    stop) preflight; stop ;;
    *) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 2 ;;
esac
