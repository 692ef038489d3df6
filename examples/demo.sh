#!/usr/bin/env bash
# demo.sh: zmesh's main job, for now: a local mesh of N nodes (default 5) that find each other
# over CURVE in trusted mode, one node killed (SIGKILL) and seen dead by all the others, one
# stopped (SIGTERM) and seen left, and a summary a person can read.
#
#   examples/demo.sh [N]        binaries from PATH or build/ (ZMESHD / ZMESHCTL override)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-5}
[ "$n" -ge 3 ] || { echo "demo.sh: N must be at least 3" >&2; exit 2; }
export ZMESH_CLUSTER_DIR=${ZMESH_CLUSTER_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/zmesh-demo.XXXXXX")}
cluster="$here/examples/cluster.sh"
find_bin () { if command -v "$1" >/dev/null; then command -v "$1"; else echo "$here/build/$1"; fi; }
ZMESHCTL=${ZMESHCTL:-$(find_bin zmeshctl)}
export ZMESHCTL ZMESHD=${ZMESHD:-$(find_bin zmeshd)}
dir=$ZMESH_CLUSTER_DIR
trap '"$cluster" stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

now_ms () { date +%s%3N; }
ctl () { local node=$1; shift; "$ZMESHCTL" --data "$dir/$node" --timeout 1000 "$@"; }
json_count () {  # json_count NODE STATE
    "$ZMESHCTL" --data "$dir/$1" --timeout 1000 members --json 2>/dev/null \
        | grep -o "\"state\": *\"$2\"" | wc -l
}
id_of () { "$ZMESHCTL" --data "$dir/$1" keys --json | grep -o '"id": *"[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}'; }
# wait_all STATE COUNT NODES...: until each node lists COUNT members in STATE (20 s at most)
wait_all () {
    local state=$1 count=$2; shift 2
    local deadline=$(( $(now_ms) + 20000 )) node ok
    while [ "$(now_ms)" -lt "$deadline" ]; do
        ok=1
        for node in "$@"; do [ "$(json_count "$node" "$state")" -ge "$count" ] || { ok=0; break; }; done
        [ $ok -eq 1 ] && return 0
        sleep 0.02
    done
    return 1
}

echo "== zmesh demo: $n nodes on 127.0.0.1, CURVE links, trusted keys only"
t0=$(now_ms)
"$cluster" start "$n" >/dev/null
t_converged=$(( $(now_ms) - t0 ))
echo
echo "-- node1's view of the mesh:"
ctl node1 members
echo
others=()
for i in $(seq 1 "$n"); do [ "$i" -ne 3 ] && others+=("node$i"); done
echo "-- SIGKILL node3 (no goodbye): the others must notice the silence"
t0=$(now_ms)
"$cluster" kill node3 KILL >/dev/null
wait_all dead 1 "${others[@]}" || { echo "demo.sh: node3 not seen dead" >&2; exit 1; }
t_dead=$(( $(now_ms) - t0 ))
echo "-- SIGTERM node$n (it announces LEAVE)"
rest=()
for i in $(seq 1 $((n - 1))); do [ "$i" -ne 3 ] && rest+=("node$i"); done
t0=$(now_ms)
"$cluster" kill "node$n" TERM >/dev/null
wait_all left 1 "${rest[@]}" || { echo "demo.sh: node$n not seen left" >&2; exit 1; }
t_left=$(( $(now_ms) - t0 ))
echo
echo "-- node1's view now:"
ctl node1 members
echo
metric () { ctl "$1" metrics | awk -v m="$2" '$1 == m { print $2 }'; }
echo "== summary"
printf '  %-30s %s\n' "start + key exchange + mesh:" "$n nodes, all alive on every node in $t_converged ms"
printf '  %-30s %s\n' "node3 killed (SIGKILL):" "dead on all ${#others[@]} others in $t_dead ms (suspicion 4200..6000 ms)"
printf '  %-30s %s\n' "node$n stopped (SIGTERM):" "left on all ${#rest[@]} others in $t_left ms"
echo
printf '  %-7s %6s %5s %5s %10s %10s %12s %9s\n' NODE ALIVE DEAD LEFT MSGS_IN MSGS_OUT BYTES_IN REFUSED
for node in "${rest[@]}"; do
    printf '  %-7s %6s %5s %5s %10s %10s %12s %9s\n' "$node" "$(json_count "$node" alive)" \
        "$(json_count "$node" dead)" "$(json_count "$node" left)" \
        "$(metric "$node" zmesh_messages_received_total)" "$(metric "$node" zmesh_messages_sent_total)" \
        "$(metric "$node" zmesh_bytes_received_total)" \
        "$(ctl "$node" metrics | awk '/^zmesh_connections_refused_total/ { s += $2 } END { print s + 0 }')"
done
echo
echo "demo: ok"
