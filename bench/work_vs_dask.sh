#!/usr/bin/env bash
# work_vs_dask.sh: issue 4's floors, zmesh and Dask distributed side by side in one run.
#
#   bench/work_vs_dask.sh [SCENARIO...]     (default: noop rtt sleep steal mixed kill stop)
#
# For each scenario, bench_work (real zmeshd workers, CURVE tcp on 127.0.0.1) then Dask
# (Debian's python3-distributed on Debian's /usr/bin/python3, a LocalCluster of worker processes
# shaped the same way). Dask's no-op run uses 10,000 tasks (it manages about a thousand a
# second), zmesh's 200,000. Needs: apt-get install python3-distributed; a built tree
# (ZMESH_BUILD, default build/).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${ZMESH_BUILD:-$here/build}
bench=$build/bench/bench_work
[ -x "$bench" ] || { echo "work_vs_dask: no $bench (build first)" >&2; exit 1; }
/usr/bin/python3 -c 'import distributed' 2>/dev/null \
    || { echo "work_vs_dask: no Dask (apt-get install python3-distributed)" >&2; exit 1; }
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(noop rtt sleep steal mixed kill stop)
echo "work_vs_dask: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), zmesh $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'), dask $(/usr/bin/python3 -c 'import distributed; print(distributed.__version__)')"
# The floor of a round trip on this machine now: raw libzmq CURVE over loopback (bench_link).
link=$build/bench/bench_link
[ -x "$link" ] && printf 'raw    %s\n' "$("$link" 2>/dev/null | awk '/^raw libzmq CURVE/ { printf "libzmq CURVE round trip, no zmesh: p50 %s us, p99 %s us", $5, $6 }')"
# run_zmesh ARGS...: one bench_work run; its figures, or the line that says why it failed (the
# submitter's log goes to a scratch file, not the screen).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_zmesh () {
    local out
    out=$("$bench" -z "$build/zmeshd" "$@" 2>"$log" | grep -v '^bench_work: ok$') || true
    [ -n "$out" ] && echo "$out" \
        || echo "(bench_work $* failed: $(grep -E '^bench_work|Assertion' "$log" | tail -n 1))"
}
for s in "${scenarios[@]}"; do
    n=200000; dn=10000
    [ "$s" = rtt ] && { n=10000; dn=2000; }
    printf 'zmesh  '; run_zmesh -s "$s" -n "$n"
    if [ "$s" = rtt ]; then
        # The round trip again with threads that sleep at once (node/spin_us=0), then the same
        # tasks run by the submitting node's own worker (strategy local), with and without.
        printf 'zmesh  spin 0: '
        run_zmesh -s rtt -n "$n" -S 0
        for spin in 200 0; do
            printf 'zmesh  spin %s: ' "$spin"
            run_zmesh -s rtt-local -n "$n" -S "$spin"
        done
    fi
    printf 'dask   '; timeout 600 /usr/bin/python3 "$here/bench/dask_work.py" "$s" "$dn" 2>/dev/null || echo "(dask run failed)"
done
