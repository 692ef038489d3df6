#!/usr/bin/env bash
# The exec handler on a real node: a command from worker/exec_allow gets the payload (after its
# first line, the command's name) on stdin and its stdout is the result. 400 KB through cat
# (a child that writes while it reads: both pipes fill), a command that exits before reading
# its input, a failing command, one past its time limit, a name not allowed, and a node where
# exec is off. Then the node stops at once (exit 0: no executor left stuck).
. "$(dirname "$0")/lib.sh"

ctl () { local name=$1; shift; "$ZMESHCTL" --data "$ZM_TMP/$name" --timeout 20000 "$@"; }

# Commands of the test's own: one that reads a line and exits, one that takes 30 s.
printf '#!/bin/sh\nread line\necho "first: $line"\n' > "$ZM_TMP/first"
printf '#!/bin/sh\nexec sleep 30\n' > "$ZM_TMP/slow"
chmod +x "$ZM_TMP/first" "$ZM_TMP/slow"
allow="cat=$(command -v cat) false=$(command -v false) first=$ZM_TMP/first slow=$ZM_TMP/slow"
zm_start a --open --set "worker/exec_allow=$allow"
zm_start b --open --set node/actors='gossip balancer control' --seed "$(zm_contact a)"
zm_wait 15 zm_metric_ge b zmesh_nodes_active "" 1 || zm_fail "b's balancer does not see a"

# 400 KB through cat: the output is the input, byte for byte.
{ echo cat; head -c 300000 /dev/urandom | base64 -w 100; } > "$ZM_TMP/big"
tail -n +2 "$ZM_TMP/big" > "$ZM_TMP/big.expected"
out=$(ctl b --json submit exec --payload "@$ZM_TMP/big" --timeout-task 10000) \
    || zm_fail "exec cat with 400 KB exited $?: $(echo "$out" | head -c 300)"
echo "$out" | jq -j .output | cmp -s - "$ZM_TMP/big.expected" \
    || zm_fail "exec cat: the output is not the input ($(echo "$out" | jq -r .error))"
zm_ok "exec cat: $(wc -c < "$ZM_TMP/big.expected") bytes in, the same bytes out"

# A command that exits after one line of a large input: its output, no hang, no crash.
{ echo first; echo hello; head -c 300000 /dev/zero | tr '\0' 'x'; } > "$ZM_TMP/early"
out=$(ctl b --json submit exec --payload "@$ZM_TMP/early" --timeout-task 10000) \
    || zm_fail "exec first exited $?: $out"
[ "$(echo "$out" | jq -r .output)" = "first: hello" ] \
    || zm_fail "exec of a command that stops reading early: $out"
zm_ok "exec of a command that exits before reading its input: its output"

# A failing command, one past its time limit, a name not allowed: errors that say why.
out=$(printf 'false\n' | ctl b --json submit exec -)
echo "$out" | jq -e '.success == false and (.error | test("false exited with status 1"))' \
    >/dev/null || zm_fail "exec false: $out"
start=$(zm_now_ms)
out=$(printf 'slow\n' | ctl b --json submit exec - --timeout-task 500)
echo "$out" | jq -e '.success == false and (.error | test("killed at the time limit"))' \
    >/dev/null || zm_fail "exec slow with a 500 ms limit: $out"
[ $(( $(zm_now_ms) - start )) -lt 10000 ] || zm_fail "exec slow took $(( $(zm_now_ms) - start )) ms"
out=$(printf 'rm\n/\n' | ctl b --json submit exec -)
echo "$out" | jq -e '.success == false and (.error | test("not in worker/exec_allow"))' \
    >/dev/null || zm_fail "exec of a name not allowed: $out"
zm_ok "exec: a failing command, the time limit, a name not allowed"

# exec is off where worker/exec_allow is empty.
zm_start c --open --set balancer/place_timeout_ms=1500
out=$(printf 'cat\nx\n' | ctl c --json submit exec - 2>&1)
echo "$out" | jq -e '.success == false and (.error | test("no node has the handler"))' >/dev/null \
    || zm_fail "exec on a node where it is off: $out"
zm_ok "exec is off unless worker/exec_allow names commands"

# The node stops promptly: no executor is stuck in a write.
kill -TERM "$(zm_pid a)"
zm_wait 10 bash -c "! kill -0 $(zm_pid a) 2>/dev/null" || zm_fail "a did not stop within 10 s"
wait "$(zm_pid a)"; rc=$?
[ "$rc" -eq 0 ] || zm_fail "a exited $rc"
zm_ok "the node stops at once after its exec tasks, exit 0"
zm_done
