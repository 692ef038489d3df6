#!/usr/bin/env bash
# mesh_floors.sh: the foundation's membership figures with real zmeshd processes on 127.0.0.1.
#
#   bench/mesh_floors.sh [N] [ROUNDS]      (defaults 10 nodes, 3 rounds)
#
# Each round starts N nodes (open trust, no beacon, one seed, default settings) and measures:
#   converge  from the start of the last node until every node lists all N alive
#   dead      from SIGKILL of one node until every other node lists it dead
#   left      from SIGTERM of one node until every other node lists it left
# Polling every node's `zmeshctl members --json` costs a few ms per node, so the figures are
# upper bounds with that resolution. Binaries: ZMESHD / ZMESHCTL, else build/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10}
rounds=${2:-3}
ZMESHD=${ZMESHD:-$here/build/zmeshd}
ZMESHCTL=${ZMESHCTL:-$here/build/zmeshctl}
dir=$(mktemp -d "${TMPDIR:-/tmp}/zmesh-bench.XXXXXX")
pids=()
cleanup () { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
now_ms () { date +%s%3N; }
count () { "$ZMESHCTL" --data "$dir/$1" --timeout 1000 members --json 2>/dev/null | grep -o "\"state\": *\"$2\"" | wc -l; }
wait_all () {  # wait_all STATE COUNT NODES...: 30 s at most
    local state=$1 want=$2; shift 2
    local deadline=$(( $(now_ms) + 30000 )) node ok
    while [ "$(now_ms)" -lt "$deadline" ]; do
        ok=1
        for node in "$@"; do [ "$(count "$node" "$state")" -ge "$want" ] || { ok=0; break; }; done
        [ $ok -eq 1 ] && return 0
    done
    echo "mesh_floors: timed out waiting for $want $state" >&2
    exit 1
}
start () {  # start NAME [SEED]
    "$ZMESHD" --data "$dir/$1" --name "$1" --bind 'tcp://127.0.0.1:*' --no-beacon --open \
        ${2:+--seed "$2"} >"$dir/$1.log" 2>&1 &
    pids+=($!)
    echo $! > "$dir/$1.pid"
    until [ -s "$dir/$1/contact" ]; do sleep 0.005; done
}

printf 'mesh_floors: %d nodes, %d rounds, default settings (probe 1000 ms, suspicion 4200..6000 ms)\n' "$n" "$rounds"
printf '%-6s %12s %10s %10s\n' round converge_ms dead_ms left_ms
for r in $(seq 1 "$rounds"); do
    rm -rf "${dir:?}"/*
    pids=()
    start n1
    seed=$(cat "$dir/n1/contact")
    for i in $(seq 2 $((n - 1))); do start "n$i" "$seed"; done
    t0=$(now_ms)
    start "n$n" "$seed"
    all=(); for i in $(seq 1 "$n"); do all+=("n$i"); done
    wait_all alive "$n" "${all[@]}"
    converge=$(( $(now_ms) - t0 ))
    sleep 1
    others=("${all[@]:0:$((n - 1))}")   # all but the last node
    t0=$(now_ms)
    kill -KILL "$(cat "$dir/n$n.pid")"; { wait "$(cat "$dir/n$n.pid")"; } 2>/dev/null || true
    wait_all dead 1 "${others[@]}"
    dead=$(( $(now_ms) - t0 ))
    rest=("${others[@]:0:$((n - 2))}")
    t0=$(now_ms)
    kill -TERM "$(cat "$dir/n$((n - 1)).pid")"
    wait_all left 1 "${rest[@]}"
    left=$(( $(now_ms) - t0 ))
    printf '%-6s %12s %10s %10s\n' "$r" "$converge" "$dead" "$left"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do { wait "$p"; } 2>/dev/null || true; done
done
