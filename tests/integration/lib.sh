# lib.sh: helpers for integration tests with real zmeshd processes on 127.0.0.1.
# Source it; it makes a scratch dir, and an EXIT trap kills every process started through it
# and removes the dir. Every wait is bounded. Binaries: ZMESHD, ZMESHCTL, ZMESH_PROBE (set by
# ctest), else looked up in ZMESH_BIN_DIR or build/.
set -u
ZM_BIN=${ZMESH_BIN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
ZMESHD=${ZMESHD:-$ZM_BIN/zmeshd}
ZMESHCTL=${ZMESHCTL:-$ZM_BIN/zmeshctl}
ZMESH_PROBE=${ZMESH_PROBE:-$ZM_BIN/tests/zmesh_probe}
ZM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/zmesh-test.XXXXXX")
ZM_PIDS=()
ZM_PASSED=0
ZM_NAME=$(basename "$0" .sh)

zm_cleanup () {
    local pid
    for pid in "${ZM_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${ZM_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$ZM_TMP"
}
trap zm_cleanup EXIT

zm_fail () {
    echo "not ok - $*"
    local log
    for log in "$ZM_TMP"/*.log; do
        [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }
    done
    echo "$ZM_NAME: $ZM_PASSED passed, 1 failed"
    exit 1
}

zm_ok () {
    ZM_PASSED=$((ZM_PASSED + 1))
    echo "ok - $*"
}

zm_done () {
    echo "$ZM_NAME: $ZM_PASSED passed, 0 failed"
}

zm_now_ms () { date +%s%3N; }

# zm_wait SECONDS COMMAND...: run COMMAND until it succeeds, at most SECONDS.
zm_wait () {
    local limit=$1; shift
    local deadline=$(( $(zm_now_ms) + limit * 1000 ))
    until "$@" >/dev/null 2>&1; do
        [ "$(zm_now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# zm_start NAME [ZMESHD ARGS...]: start a node on 127.0.0.1 (no beacon), wait for it to run.
# The node is named NAME unless ZM_NAMELESS=1 (to test a name from a config file).
zm_start () {
    local name=$1; shift
    local name_flag=(--name "$name")
    [ "${ZM_NAMELESS:-0}" = 1 ] && name_flag=()
    rm -f "$ZM_TMP/$name/contact"
    "$ZMESHD" --data "$ZM_TMP/$name" "${name_flag[@]}" --bind 'tcp://127.0.0.1:*' --no-beacon "$@" \
        >>"$ZM_TMP/$name.log" 2>&1 &
    local pid=$!
    ZM_PIDS+=("$pid")
    echo "$pid" > "$ZM_TMP/$name.pid"
    zm_wait 10 test -s "$ZM_TMP/$name/contact" || zm_fail "$name did not start"
}

zm_pid () { cat "$ZM_TMP/$1.pid"; }
zm_contact () { cat "$ZM_TMP/$1/contact"; }
zm_key () { "$ZMESHCTL" --data "$ZM_TMP/$1" keys --json | jq -r .public_key; }
zm_id () { "$ZMESHCTL" --data "$ZM_TMP/$1" keys --json | jq -r .id; }
zm_ctl () { local name=$1; shift; "$ZMESHCTL" --data "$ZM_TMP/$name" --timeout 2000 "$@"; }

# zm_count NAME STATE: how many members NAME lists in STATE
zm_count () {
    zm_ctl "$1" members --json 2>/dev/null | jq --arg s "$2" '[.[] | select(.state == $s)] | length'
}
# zm_state NAME ID: the state NAME gives to member ID ("none" if not listed)
zm_state () {
    zm_ctl "$1" members --json 2>/dev/null \
        | jq -r --arg id "$2" '(.[] | select(.id == $id) | .state) // "none"'
}
zm_has_count () { [ "$(zm_count "$1" "$2")" = "$3" ]; }
zm_has_state () { [ "$(zm_state "$1" "$2")" = "$3" ]; }
# zm_metric NAME METRIC [LABELS]: value of one counter from `metrics --json`
zm_metric () {
    zm_ctl "$1" metrics --json \
        | jq -r --arg n "$2" --arg l "${3:-}" '[.[] | select(.name == $n and .labels == $l) | .value] | add // 0'
}
# zm_metric_ge NAME METRIC LABELS MIN: the counter is at least MIN (for zm_wait)
zm_metric_ge () { [ "$(zm_metric "$1" "$2" "$3")" -ge "$4" ]; }
