#!/usr/bin/env bash
# cluster.sh: N zmesh nodes on this machine, on 127.0.0.1, in trusted mode.
#
#   examples/cluster.sh start N     create N nodes (node1..nodeN), exchange their keys, start
#                                   them (node1 first, the others seeded with node1), and wait
#                                   until every node lists all N alive
#   examples/cluster.sh status      each node's view: members alive/suspect/dead/left
#   examples/cluster.sh kill NAME [SIGNAL]   signal one node (default KILL; TERM = leave)
#   examples/cluster.sh stop        stop every node (SIGTERM: they announce LEAVE)
#
# Environment: ZMESH_CLUSTER_DIR (default ./zmesh-cluster) holds one data directory per node,
# its log (NAME.log) and pid (NAME.pid); ZMESHD / ZMESHCTL name the binaries (default: found
# in PATH, else in build/); ZMESHD_ARGS adds flags to every node. No beacon: loopback only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${ZMESH_CLUSTER_DIR:-$PWD/zmesh-cluster}
find_bin () {
    if command -v "$1" >/dev/null; then command -v "$1"; else echo "$here/build/$1"; fi
}
ZMESHD=${ZMESHD:-$(find_bin zmeshd)}
ZMESHCTL=${ZMESHCTL:-$(find_bin zmeshctl)}
[ -x "$ZMESHD" ] || { echo "cluster.sh: no zmeshd at $ZMESHD (build first, or set ZMESHD)" >&2; exit 1; }

names () { ls "$dir"/*.pid 2>/dev/null | xargs -r -n1 basename | sed 's/\.pid$//' | sort -V; }

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
        sleep 0.1
    done
    return 1
}

start () {
    local n=${1:?usage: cluster.sh start N} i j
    [ "$n" -ge 1 ] || { echo "cluster.sh: N must be at least 1" >&2; exit 2; }
    if [ -n "$(names)" ]; then echo "cluster.sh: a cluster is running in $dir (stop it first)" >&2; exit 1; fi
    mkdir -p "$dir"
    # Identities first, so every node can trust every other before any starts.
    for i in $(seq 1 "$n"); do
        "$ZMESHD" --data "$dir/node$i" --init > "$dir/node$i.key" 2>>"$dir/node$i.log" \
            || { echo "cluster.sh: cannot create node$i; see $dir/node$i.log" >&2; exit 1; }
    done
    for i in $(seq 1 "$n"); do
        mkdir -p "$dir/node$i/trusted"
        for j in $(seq 1 "$n"); do
            [ "$i" -eq "$j" ] || cp "$dir/node$j.key" "$dir/node$i/trusted/node$j.key"
        done
    done
    start_node 1 ""
    local seed
    seed=$(cat "$dir/node1/contact")
    for i in $(seq 2 "$n"); do start_node "$i" "$seed"; done
    local t0=$SECONDS
    if wait_converged "$n" 20; then
        echo "cluster.sh: $n nodes running in $dir, all alive on every node"
    else
        echo "cluster.sh: $n nodes started but not converged after 20 s; see $dir/*.log" >&2
        exit 1
    fi
}

start_node () {  # start_node I SEED
    local i=$1 seed=$2 name="node$1" deadline
    rm -f "$dir/$name/contact"
    # shellcheck disable=SC2086
    "$ZMESHD" --data "$dir/$name" --name "$name" --bind tcp://127.0.0.1:* --no-beacon \
        ${seed:+--seed "$seed"} ${ZMESHD_ARGS:-} >"$dir/$name.log" 2>&1 &
    echo $! > "$dir/$name.pid"
    deadline=$((SECONDS + 10))
    until [ -s "$dir/$name/contact" ]; do
        kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null || { echo "cluster.sh: $name exited; see $dir/$name.log" >&2; exit 1; }
        [ $SECONDS -lt $deadline ] || { echo "cluster.sh: $name did not start in 10 s" >&2; exit 1; }
        sleep 0.05
    done
}

status () {  # never fails: a node that just died shows as such
    local name
    for name in $(names); do
        if kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
            printf '%-8s ' "$name"
            "$ZMESHCTL" --data "$dir/$name" --timeout 1000 members 2>&1 | tail -n 1 || true
        else
            printf '%-8s not running\n' "$name"
        fi
    done
}

kill_node () {
    local name=${1:?usage: cluster.sh kill NAME [SIGNAL]} sig=${2:-KILL}
    [ -f "$dir/$name.pid" ] || { echo "cluster.sh: no node $name" >&2; exit 1; }
    kill -s "$sig" "$(cat "$dir/$name.pid")"
    echo "cluster.sh: sent SIG$sig to $name"
}

stop () {
    local name pid deadline
    for name in $(names); do
        pid=$(cat "$dir/$name.pid")
        kill -TERM "$pid" 2>/dev/null || true
    done
    for name in $(names); do
        pid=$(cat "$dir/$name.pid")
        deadline=$((SECONDS + 5))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$dir/$name.pid"
    done
    echo "cluster.sh: stopped"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    status) status ;;
    kill) shift; kill_node "$@" ;;
    stop) stop ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
