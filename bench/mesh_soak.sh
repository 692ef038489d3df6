#!/usr/bin/env bash
# mesh_soak.sh: many real zmeshd processes on 127.0.0.1, left alone: do they converge, stay
# converged without a false suspicion or death, and how much CPU does the idle set use?
#
#   bench/mesh_soak.sh [N] [SECONDS] [SETTINGS...]   (defaults: 50 nodes, 300 s)
#
# Starts N nodes (open trust, no beacon, each seeded with a random earlier node, default
# settings unless --set KEY=VALUE arguments follow), waits until every node lists all N
# alive (converge_ms, from the start of the last node), then for SECONDS:
#   - every 30 s checks that every node still lists N alive (a check that fails is reported);
#   - adds up the CPU time (user + system, from /proc/PID/stat) of all N processes.
# At the end it prints CPU as a share of one core for the whole set, and the sums of every
# node's suspect, dead and alive_again events (any of them is false: no node failed). Then,
# the idle part over, it sets a node-state key on n1 and measures how long until every node
# returns it (state_ms; each node is polled in turn, every 10 ms, for at most 60 s).
# Binaries: ZMESHD / ZMESHCTL, else build/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-50}
seconds=${2:-300}
shift $(( $# >= 2 ? 2 : $# ))
settings=("$@")
ZMESHD=${ZMESHD:-$here/build/zmeshd}
ZMESHCTL=${ZMESHCTL:-$here/build/zmeshctl}
dir=$(mktemp -d "${TMPDIR:-/tmp}/zmesh-soak.XXXXXX")
pids=()
cleanup () {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
now_ms () { date +%s%3N; }
ticks_hz=$(getconf CLK_TCK)
alive () { "$ZMESHCTL" --data "$dir/$1" --timeout 2000 members --json 2>/dev/null | grep -o '"state": *"alive"' | wc -l; }
all_alive () { local i; for i in $(seq 1 "$n"); do [ "$(alive "n$i")" -eq "$n" ] || return 1; done; }
metric () {  # metric NODE NAME LABELS
    "$ZMESHCTL" --data "$dir/$1" --timeout 2000 metrics --json 2>/dev/null \
        | jq -r --arg n "$2" --arg l "$3" '[.[] | select(.name == $n and .labels == $l) | .value] | add // 0'
}
cpu_ticks () {  # user + system ticks of all nodes
    local total=0 p fields
    for p in "${pids[@]}"; do
        read -r -a fields < <(sed 's/^.*) //' "/proc/$p/stat")
        total=$((total + fields[11] + fields[12]))   # utime, stime (fields 14, 15 of stat)
    done
    echo "$total"
}
start () {  # start NAME [SEED]
    "$ZMESHD" --data "$dir/$1" --name "$1" --bind 'tcp://127.0.0.1:*' --no-beacon --open \
        ${2:+--seed "$2"} "${settings[@]}" >"$dir/$1.log" 2>&1 &
    pids+=($!)
    until [ -s "$dir/$1/contact" ]; do sleep 0.01; done
}

echo "mesh_soak: $n nodes, $seconds s idle, settings: ${settings[*]:-defaults}"
start n1
for i in $(seq 2 "$n"); do
    [ "$i" -eq "$n" ] && t0=$(now_ms)
    start "n$i" "$(cat "$dir/n$(( RANDOM % (i - 1) + 1 ))/contact")"
done
deadline=$(( $(now_ms) + 120000 ))
until all_alive; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "mesh_soak: no convergence in 120 s" >&2; exit 1; }
    sleep 0.2
done
echo "converge_ms $(( $(now_ms) - t0 ))"
sleep 5   # let the joins' work settle before measuring idle
c0=$(cpu_ticks); w0=$(now_ms); checks=0; failed=0
end=$(( w0 + seconds * 1000 ))
while [ "$(now_ms)" -lt "$end" ]; do
    left=$(( (end - $(now_ms)) / 1000 ))
    sleep $(( left < 30 ? (left > 0 ? left : 1) : 30 ))
    checks=$((checks + 1))
    all_alive || { failed=$((failed + 1)); echo "check $checks: not every node lists $n alive" >&2; }
done
c1=$(cpu_ticks); w1=$(now_ms)
cpu=$(awk -v t=$((c1 - c0)) -v hz="$ticks_hz" -v ms=$((w1 - w0)) 'BEGIN { printf "%.2f", 100 * t / hz / (ms / 1000) }')
suspect=0; dead=0; again=0
for i in $(seq 1 "$n"); do
    suspect=$((suspect + $(metric "n$i" zmesh_peer_events_total 'event="suspect"')))
    dead=$((dead + $(metric "n$i" zmesh_peer_events_total 'event="dead"')))
    again=$((again + $(metric "n$i" zmesh_peer_events_total 'event="alive_again"')))
done
echo "idle_s $(( (w1 - w0) / 1000 )) cpu_ticks $((c1 - c0)) cpu_percent_of_one_core $cpu"
echo "checks $checks failed $failed suspect_events $suspect dead_events $dead alive_again_events $again"
owner=$("$ZMESHCTL" --data "$dir/n1" --json status | jq -r .id)
value="soak-$RANDOM"
s0=$(now_ms)
"$ZMESHCTL" --data "$dir/n1" state set soak.key "$value" >/dev/null
for i in $(seq 1 "$n"); do
    until [ "$("$ZMESHCTL" --data "$dir/n$i" state get soak.key "$owner" 2>/dev/null)" = "$value" ]; do
        [ $(( $(now_ms) - s0 )) -lt 60000 ] || { echo "mesh_soak: n$i lacks the key after 60 s" >&2; exit 1; }
        sleep 0.01
    done
done
echo "state_ms $(( $(now_ms) - s0 )) (a key set on n1, returned by all $n nodes)"
