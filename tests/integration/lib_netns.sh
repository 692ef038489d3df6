# lib_netns.sh: helpers for tests across network namespaces made by examples/netns-cluster.sh.
# Source it after setting `name` (the test's name) and `nodes` (the node names, for views and
# all_running). It skips (exit 77) without root or `ip netns`; it gives the cluster a prefix
# and a directory of its own, and an EXIT trap stops the cluster and removes both. Every wait
# is bounded. Binaries: ZMESHD, ZMESHCTL, ZMESH_PROBE (set by ctest), else in ZMESH_BIN_DIR
# or build/.
src=${ZMESH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${ZMESH_BIN_DIR:-$src/build}
export ZMESHD=${ZMESHD:-$bin/zmeshd}
export ZMESHCTL=${ZMESHCTL:-$bin/zmeshctl}
ZMESH_PROBE=${ZMESH_PROBE:-$bin/tests/zmesh_probe}
launcher=$src/examples/netns-cluster.sh

if [ "$(id -u)" -ne 0 ]; then echo "skip - $name needs root (network namespaces)"; exit 77; fi
if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
    echo "skip - $name: 'ip netns' is unavailable"; exit 77
fi
for tool in "$ZMESHD" "$ZMESHCTL" "$ZMESH_PROBE"; do
    [ -x "$tool" ] || { echo "not ok - no executable $tool (build first)"; exit 1; }
done
command -v jq >/dev/null || { echo "not ok - $name needs jq"; exit 1; }

# A prefix of its own, so parallel runs cannot collide on namespace names.
export ZMESH_NETNS_PREFIX=zmt$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zmesh-netns.XXXXXX")
export ZMESH_NETNS_DIR=$tmp/cluster
passed=0

cleanup () {
    "$launcher" stop >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "not ok - interrupted"; echo "$name: $passed passed, 1 failed"; exit 1' INT TERM HUP

# Can this root make namespaces at all (not in every container)? If not, skip.
if ! ip netns add "$ZMESH_NETNS_PREFIX-check" 2>/dev/null; then
    echo "skip - $name: cannot create network namespaces here"; exit 77
fi
ip netns delete "$ZMESH_NETNS_PREFIX-check"

fail () {
    echo "not ok - $*"
    local log
    for log in "$ZMESH_NETNS_DIR"/*.log; do
        [ -f "$log" ] && { echo "--- $log"; tail -n 25 "$log"; }
    done
    "$launcher" status 2>&1 | sed 's/^/# /'
    echo "$name: $passed passed, 1 failed"
    exit 1
}

ok () {
    passed=$((passed + 1))
    echo "ok - $*"
}

now_ms () { date +%s%3N; }

# wait_for MS COMMAND...: run COMMAND until it succeeds, for at most MS milliseconds.
wait_for () {
    local deadline=$(($(now_ms) + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

ctl () { local node=$1; shift; "$ZMESHCTL" --data "$ZMESH_NETNS_DIR/$node" --timeout 1000 "$@"; }
ns () { echo "$ZMESH_NETNS_PREFIX-$1"; }
pid () { cat "$ZMESH_NETNS_DIR/$1.pid"; }

# alive NODE: how many members NODE lists as alive
alive () { ctl "$1" members --json 2>/dev/null | jq '[.[] | select(.state == "alive")] | length'; }
# state NODE OTHER: the state NODE gives to the member named OTHER ("none" if not listed)
state () {
    ctl "$1" members --json 2>/dev/null \
        | jq -r --arg n "$2" '[.[] | select(.name == $n) | .state] | first // "none"'
}
# metric NODE METRIC [LABELS]: one counter from `metrics --json` (-1 if unreadable)
metric () {
    local value
    value=$(ctl "$1" metrics --json 2>/dev/null \
        | jq -r --arg n "$2" --arg l "${3:-}" \
             '[.[] | select(.name == $n and .labels == $l) | .value] | add // -1' 2>/dev/null)
    echo "${value:--1}"
}
all_alive () {  # all_alive COUNT NODE...: each NODE lists COUNT members alive
    local count=$1 node; shift
    for node in "$@"; do [ "$(alive "$node")" = "$count" ] || return 1; done
}
all_see () {  # all_see OTHER STATE NODE...: each NODE gives OTHER that STATE
    local other=$1 want=$2 node; shift 2
    for node in "$@"; do [ "$(state "$node" "$other")" = "$want" ] || return 1; done
}
all_running () {
    local node
    for node in "${nodes[@]}"; do kill -0 "$(pid "$node")" 2>/dev/null || return 1; done
}
views () {  # for failure messages: each node's members
    local node
    for node in "${nodes[@]}"; do
        printf '%s: %s; ' "$node" \
            "$(ctl "$node" members --json 2>/dev/null | jq -c 'map({name, state})' || echo '?')"
    done
}
