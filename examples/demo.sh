#!/usr/bin/env bash
# demo.sh: zmesh's main job: a local mesh doing real work. N nodes (default 5) find each other
# over CURVE in trusted mode; node1 submits a few thousand tasks of mixed durations and
# priorities; one node is killed (SIGKILL) half-way; every task still ends exactly once; and
# a summary a person can read: tasks per node, utilisation, steals, retries, latencies.
#
#   examples/demo.sh [N] [TASKS]     (defaults 5 and 3000; binaries from PATH or build/,
#                                     ZMESHD / ZMESHCTL override)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-5}
tasks=${2:-3000}
[ "$n" -ge 3 ] || { echo "demo.sh: N must be at least 3" >&2; exit 2; }
[ "$tasks" -ge 100 ] || { echo "demo.sh: TASKS must be at least 100" >&2; exit 2; }
export ZMESH_CLUSTER_DIR=${ZMESH_CLUSTER_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/zmesh-demo.XXXXXX")}
cluster="$here/examples/cluster.sh"
find_bin () { if command -v "$1" >/dev/null; then command -v "$1"; else echo "$here/build/$1"; fi; }
ZMESHCTL=${ZMESHCTL:-$(find_bin zmeshctl)}
export ZMESHCTL ZMESHD=${ZMESHD:-$(find_bin zmeshd)}
slots=2
export ZMESHD_ARGS="${ZMESHD_ARGS:-} --set worker/slots=$slots --set health/bench_budget_ms=0"
dir=$ZMESH_CLUSTER_DIR
maps=()
cleanup () {
    local pid
    for pid in "${maps[@]}"; do kill "$pid" 2>/dev/null || true; done
    "$cluster" stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

now_ms () { date +%s%3N; }
ctl () { local node=$1; shift; "$ZMESHCTL" --data "$dir/$node" --timeout 2000 "$@"; }
count_state () {  # count_state NODE STATE
    "$ZMESHCTL" --data "$dir/$1" --timeout 1000 members --json 2>/dev/null \
        | grep -o "\"state\": *\"$2\"" | wc -l
}
metric () { ctl "$1" metrics 2>/dev/null | awk -v m="$2" '$1 == m { print $2 }'; }

echo "== zmesh demo: $n nodes on 127.0.0.1, CURVE links, trusted keys only, $slots task slots each"
t0=$(now_ms)
"$cluster" start "$n" >/dev/null
echo "   meshed in $(( $(now_ms) - t0 )) ms: every node lists all $n alive"
echo

# The work: TASKS sleep tasks of 5..60 ms, one in ten CRITICAL, two HIGH, five NORMAL, two LOW;
# one input file per priority (a line is a task's payload: its milliseconds).
work=$dir/work
mkdir -p "$work"
awk -v tasks="$tasks" -v dir="$work" 'BEGIN {
    srand(7);
    for (i = 0; i < tasks; i++) {
        r = i % 10;
        p = r == 0 ? "critical" : r <= 2 ? "high" : r <= 7 ? "normal" : "low";
        print 5 + int(rand() * 56) > (dir "/" p ".in");
    }
}'
total_ms=$(cat "$work"/*.in | awk '{ s += $1 } END { print s }')
printf -- '-- node1 submits %d tasks (sleep 5..60 ms, %d s of work in all) at four priorities:\n' \
    "$tasks" $(( total_ms / 1000 ))
for p in critical high normal low; do
    printf '     %-8s %5d tasks\n' "$p" "$(wc -l < "$work/$p.in")"
done
start=$(now_ms)
for p in critical high normal low; do
    "$ZMESHCTL" --data "$dir/node1" --timeout 120000 map sleep --priority "$p" --json \
        < "$work/$p.in" > "$work/$p.out" 2>"$work/$p.err" &
    maps+=("$!")
done
done_count () { cat "$work"/*.out 2>/dev/null | wc -l; }
victim=node3
while [ "$(done_count)" -lt $(( tasks / 2 )) ]; do
    sleep 0.05
    [ $(( $(now_ms) - start )) -lt 120000 ] || { echo "demo.sh: the work stalled" >&2; exit 1; }
done
t_kill=$(now_ms)
printf -- '-- %d of %d done after %.1f s: SIGKILL %s (no goodbye; it holds running and queued tasks)\n' \
    "$(done_count)" "$tasks" "$(echo "$(( t_kill - start ))" | awk '{ print $1 / 1000 }')" "$victim"
"$cluster" kill "$victim" KILL >/dev/null
others=()
for i in $(seq 1 "$n"); do [ "node$i" = "$victim" ] || others+=("node$i"); done
rc=0
for pid in "${maps[@]}"; do wait "$pid" || rc=1; done
maps=()
makespan=$(( $(now_ms) - start ))
# When did the survivors see the victim dead? (SWIM: a few seconds; the owner did not wait for
# that: the victim's leases expired after 2 s and its tasks went elsewhere.)
t_dead=""
deadline=$(( $(now_ms) + 15000 ))
while [ "$(now_ms)" -lt "$deadline" ]; do
    ok=1
    for node in "${others[@]}"; do [ "$(count_state "$node" dead)" -ge 1 ] || { ok=0; break; }; done
    [ $ok -eq 1 ] && { t_dead=$(( $(now_ms) - t_kill )); break; }
    sleep 0.05
done
echo "   all maps returned after $(echo "$makespan" | awk '{ print $1 / 1000 }') s"
echo

# Who is who: node ids to names (the results name nodes by id).
names=$work/names
for i in $(seq 1 "$n"); do
    [ -s "$dir/node$i.key" ] || continue
    id=$("$ZMESHCTL" --data "$dir/node1" members --json 2>/dev/null | tr '{' '\n' \
        | grep "\"name\": *\"node$i\"" | grep -o '"id": *"[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}' | head -1)
    [ -n "$id" ] && echo "$id node$i"
done > "$names"

# Every result, one line each: priority, node, ms of work, latency, attempts, success, task id.
for p in critical high normal low; do
    awk -v p="$p" -v input="$work/$p.in" '
        BEGIN { while ((getline line < input) > 0) ms[++k] = line }
        {
            match($0, /"line":[0-9]+/); l = substr($0, RSTART + 7, RLENGTH - 7);
            match($0, /"dispatched_to":"[0-9a-f]*"/); node = substr($0, RSTART + 17, RLENGTH - 18);
            match($0, /"latency_ms":[0-9]+/); lat = substr($0, RSTART + 13, RLENGTH - 13);
            match($0, /"attempts":[0-9]+/); att = substr($0, RSTART + 11, RLENGTH - 11);
            match($0, /"task_id":"[0-9a-f]*"/); id = substr($0, RSTART + 11, RLENGTH - 12);
            ok = index($0, "\"success\":true") ? 1 : 0;
            print p, (node == "" ? "-" : node), ms[l], lat, att, ok, id
        }' "$work/$p.out"
done > "$work/results"

results=$(wc -l < "$work/results")
succeeded=$(awk '$6 == 1' "$work/results" | wc -l)
unique=$(awk '{ print $7 }' "$work/results" | sort -u | wc -l)
retried=$(awk '$5 > 1' "$work/results" | wc -l)
echo "== summary"
printf '  %-34s %s\n' "tasks:" "$tasks submitted, $results results, $succeeded succeeded, $((results - succeeded)) failed"
printf '  %-34s %s\n' "exactly once at the owner:" "$unique distinct task ids in $results results"
printf '  %-34s %s\n' "$victim killed half-way:" "$(metric node1 zmesh_tasks_lost_total) attempts lost with it, $retried tasks re-run elsewhere; dead on all ${#others[@]} others after ${t_dead:-?} ms"
printf '  %-34s %s\n' "makespan:" "$(echo "$makespan $total_ms $((n * slots))" | awk '{ printf "%.2f s for %.1f s of work on %d slots (ideal %.2f s)", $1 / 1000, $2 / 1000, $3, $2 / 1000 / $3 }')"
echo
printf '  %-7s %6s %9s %7s %8s %8s\n' NODE TASKS BUSY_S UTIL STOLE GAVE
for i in $(seq 1 "$n"); do
    node=node$i
    id=$(awk -v name="$node" '$2 == name { print $1 }' "$names")
    count=$(awk -v id="$id" '$2 == id' "$work/results" | wc -l)
    busy=$(awk -v id="$id" '$2 == id { s += $3 } END { printf "%.1f", s / 1000 }' "$work/results")
    util=$(echo "$busy $makespan $slots" | awk '{ printf "%.0f%%", 100 * $1 / ($2 / 1000 * $3) }')
    if [ "$node" = "$victim" ]; then
        stole="(killed)"; gave=""
        util=$(echo "$busy $(( t_kill - start )) $slots" | awk '{ printf "%.0f%%*", 100 * $1 / ($2 / 1000 * $3) }')
    else
        stole=$(ctl "$node" metrics | awk '/^zmesh_tasks_stolen_total\{direction="in"\}/ { print $2 }')
        gave=$(ctl "$node" metrics | awk '/^zmesh_tasks_stolen_total\{direction="out"\}/ { print $2 }')
    fi
    printf '  %-7s %6s %9s %7s %8s %8s\n' "$node" "$count" "$busy" "$util" "$stole" "$gave"
done
echo "  (busy: the work of the tasks each node's results came from; utilisation against the"
echo "   makespan, and for $victim* against its time alive)"
echo
printf '  %-9s %6s %8s %8s %8s %8s\n' PRIORITY TASKS P50_MS P95_MS P99_MS MAX_MS
for p in critical high normal low; do
    awk -v p="$p" '$1 == p { print $4 }' "$work/results" | sort -n | awk -v p="$p" '
        { v[NR] = $1 }
        END {
            if (!NR) exit;
            q50 = v[int(NR * 0.50) + (NR * 0.50 > int(NR * 0.50))]; if (!q50) q50 = v[1];
            q95 = v[int(NR * 0.95) + (NR * 0.95 > int(NR * 0.95))];
            q99 = v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))];
            printf "  %-9s %6d %8d %8d %8d %8d\n", p, NR, q50, q95, q99, v[NR]
        }'
done
echo "  (latency: submit to result at the owner; all tasks were submitted at once, so it is"
echo "   mostly the wait for a slot, and CRITICAL and HIGH go first)"
echo
if [ "$rc" -ne 0 ] || [ "$results" -ne "$tasks" ] || [ "$succeeded" -ne "$tasks" ] || [ "$unique" -ne "$tasks" ]; then
    echo "demo: FAILED (see $work; kept)"; trap - EXIT; "$cluster" stop >/dev/null 2>&1 || true
    exit 1
fi
echo "demo: ok"
