#!/usr/bin/env bash
# zmeshctl's work commands on 3 real nodes: submit (fields, text and binary output), map
# (input order, count), a task no node can run (fails after balancer/place_timeout_ms), usage
# errors, tasks while sleep tasks run, the balancer's gauges in metrics, a node without a
# balancer, a balancer that restarts under a waiting submit. Then every node stops cleanly
# (exit 0: under AddressSanitizer, nothing leaked).
. "$(dirname "$0")/lib.sh"

PLACE_MS=1500
node_args=(--open --set "balancer/place_timeout_ms=$PLACE_MS")
zm_start a "${node_args[@]}"
zm_start b "${node_args[@]}" --seed "$(zm_contact a)"
zm_start c "${node_args[@]}" --seed "$(zm_contact a)"
for n in a b c; do
    zm_wait 15 zm_has_count "$n" alive 3 || zm_fail "$n does not see 3 nodes alive"
done
# Each balancer places on the nodes whose zmesh.work value reached it.
for n in a b c; do
    zm_wait 15 zm_metric_ge "$n" zmesh_nodes_active "" 3 \
        || zm_fail "$n's balancer sees $(zm_metric "$n" zmesh_nodes_active) nodes offering work"
done
ids=" $(zm_id a) $(zm_id b) $(zm_id c) "
zm_ok "3 nodes meshed; each balancer sees 3 workers"

# zmeshctl with a bounded wait for results (the default is 60 s).
ctl () { local name=$1; shift; "$ZMESHCTL" --data "$ZM_TMP/$name" --timeout 15000 "$@"; }

expect_exit () {  # expect_exit CODE PATTERN COMMAND...: exit code and a message naming the problem
    local code=$1 pattern=$2; shift 2
    local out rc
    out=$("$@" 2>&1); rc=$?
    [ "$rc" -eq "$code" ] || zm_fail "'$*' exited $rc, expected $code: $out"
    echo "$out" | grep -q -- "$pattern" || zm_fail "'$*' said '$out', expected '$pattern'"
}

# submit: the result's fields.
out=$(ctl a --json submit echo --payload hello) || zm_fail "submit echo exited $?: $out"
echo "$out" | jq -e '.success == true and .status == "ok" and .output == "hello"
        and .task_type == "echo" and (.task_id | test("^[0-9a-f]{32}$"))
        and (.dispatched_to | test("^[0-9a-f]{32}$")) and .circuit_state == "CLOSED"
        and .error == "" and .attempts >= 1 and .disagreements == 0 and .latency_ms >= 0
        and has("selected_node") and has("cost_optimal_node") and (has("output_b64") | not)' \
    >/dev/null || zm_fail "submit --json: $out"
dispatched=$(echo "$out" | jq -r .dispatched_to)
[[ "$ids" == *" $dispatched "* ]] || zm_fail "dispatched_to $dispatched is none of the nodes"
out=$(ctl b submit echo --payload 'two words') || zm_fail "submit (text) exited $?: $out"
echo "$out" | grep -q '^output: *two words$' || zm_fail "submit text: no output line: $out"
echo "$out" | grep -q '^success: *yes$' || zm_fail "submit text: no success line: $out"
for field in task_id task_type selected_node cost_optimal_node dispatched_to circuit_state \
             status error latency_ms attempts disagreements; do
    echo "$out" | grep -q "^$field:" || zm_fail "submit text lacks $field: $out"
done
zm_ok "submit echo: output and every field, in text and JSON"

# Binary payloads (a file, stdin) come back in base64.
head -c 3000 /dev/urandom > "$ZM_TMP/blob"
ctl c --json submit echo --payload "@$ZM_TMP/blob" | jq -r .output_b64 | base64 -d \
    | cmp -s - "$ZM_TMP/blob" || zm_fail "a binary payload from a file did not come back whole"
out=$(printf 'a\0b' | ctl a submit echo -) || zm_fail "submit - exited $?"
echo "$out" | grep -q '^output_base64: *YQBi$' || zm_fail "binary output not in base64: $out"
out=$(printf 'from stdin' | ctl a --json submit echo -)
[ "$(echo "$out" | jq -r .output)" = "from stdin" ] || zm_fail "submit -: $out"
zm_ok "payloads from --payload @FILE and stdin; binary output in base64"

# A sleep task: it takes the time it says.
out=$(ctl b --json submit sleep --payload 400 --priority high --timeout-task 5000) \
    || zm_fail "submit sleep exited $?: $out"
echo "$out" | jq -e '.success and .task_type == "sleep" and .latency_ms >= 400' >/dev/null \
    || zm_fail "submit sleep: $out"
zm_ok "submit sleep: succeeds after the time it sleeps"

# map: 200 lines through echo, output in input order; JSON, one document per line.
seq 1 200 > "$ZM_TMP/inputs"
ctl a map echo < "$ZM_TMP/inputs" > "$ZM_TMP/outputs" 2> "$ZM_TMP/map.err" \
    || zm_fail "map exited $?: $(cat "$ZM_TMP/map.err")"
cmp -s "$ZM_TMP/inputs" "$ZM_TMP/outputs" \
    || zm_fail "map output differs from its input ($(wc -l < "$ZM_TMP/outputs") lines)"
[ ! -s "$ZM_TMP/map.err" ] || zm_fail "map wrote to stderr: $(head -n 3 "$ZM_TMP/map.err")"
ctl c --json map echo < "$ZM_TMP/inputs" > "$ZM_TMP/outputs.json" || zm_fail "map --json exited $?"
[ "$(wc -l < "$ZM_TMP/outputs.json")" -eq 200 ] || zm_fail "map --json: not 200 lines"
jq -s -e 'length == 200 and all(.[]; .success and .output == (.line | tostring))
          and ([.[].line] == [range(1; 201)])' "$ZM_TMP/outputs.json" >/dev/null \
    || zm_fail "map --json: lines out of order or outputs wrong: $(head -n 2 "$ZM_TMP/outputs.json")"
used=$(jq -r .dispatched_to "$ZM_TMP/outputs.json" | sort -u | wc -l)
zm_ok "map: 200 lines through echo, in input order (JSON too; tasks ran on $used nodes)"

# A handler no node has: the task fails once balancer/place_timeout_ms has passed.
start=$(zm_now_ms)
out=$(ctl a --json submit no-such-handler --payload x); rc=$?
took=$(( $(zm_now_ms) - start ))
[ "$rc" -eq 1 ] || zm_fail "a task for an unknown handler exited $rc: $out"
echo "$out" | jq -e --argjson p $PLACE_MS '.success == false and .status != "ok"
        and .error != "" and .latency_ms >= $p - 100' >/dev/null \
    || zm_fail "unknown handler: $out"
[ "$took" -lt 10000 ] || zm_fail "unknown handler: took $took ms"
out=$(printf 'x\ny\n' | ctl b map no-such-handler 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 1 ] || zm_fail "map of an unknown handler exited $rc"
[ "$(echo "$out" | grep -c 'line [12]: task .* failed')" -eq 2 ] \
    || zm_fail "map of an unknown handler: expected an error line per input: $out"
zm_ok "a task for a handler no node has fails after balancer/place_timeout_ms ($took ms); exit 1"

# Usage errors: exit 2, naming the problem.
expect_exit 2 "priority" ctl a submit echo --priority urgent
expect_exit 2 "unknown option" ctl a submit echo --no-such-option
expect_exit 2 "usage" ctl a submit
expect_exit 2 "redundancy" ctl a submit echo --redundancy 0
expect_exit 2 "cpu" ctl a submit echo --cpu lots
expect_exit 2 "memory" ctl a submit echo --memory 1X
expect_exit 2 "require" ctl a submit echo --require 'two words'
expect_exit 2 "strategy" ctl a submit echo --strategy random
expect_exit 2 "retries" ctl a submit echo --retries 101
expect_exit 2 "not both" ctl a submit echo --payload x -
expect_exit 2 "map" ctl a map echo --payload x
expect_exit 2 "submit and map" ctl a status --priority high
expect_exit 2 "usage" ctl a tasks extra
zm_ok "bad task options and arguments exit 2 with a usage message"

# tasks: what the node owns while sleep tasks run.
printf '3000\n3000\n3000\n3000\n' > "$ZM_TMP/sleeps"
ctl a map sleep --priority low < "$ZM_TMP/sleeps" > "$ZM_TMP/sleeps.out" 2>&1 &
map_pid=$!
ZM_PIDS+=("$map_pid")
zm_wait 5 bash -c "'$ZMESHCTL' --data '$ZM_TMP/a' --json tasks | jq -e '.owned == 4 and (.tasks | length) == 4'" \
    || zm_fail "tasks does not show the 4 sleep tasks: $(ctl a --json tasks)"
ctl a --json tasks | jq -e '.pending + .in_flight >= 4 and all(.tasks[]; .handler == "sleep"
        and .priority == 0 and .attempts >= 1 and (.id | test("^[0-9a-f]{32}$"))
        and (.pending or (.node | test("^[0-9a-f]{32}$"))))' >/dev/null \
    || zm_fail "tasks --json: $(ctl a --json tasks)"
out=$(ctl a tasks) || zm_fail "tasks exited $?"
echo "$out" | head -n 1 | grep -q 'ID *HANDLER *PRIORITY *ATTEMPTS *AGE *NODE' || zm_fail "tasks: $out"
[ "$(echo "$out" | grep -c ' sleep  *low ')" -eq 4 ] || zm_fail "tasks: not 4 sleep rows: $out"
echo "$out" | tail -n 1 | grep -q '^4 owned, [0-9]* pending, [0-9]* in flight$' \
    || zm_fail "tasks: no summary line: $out"
zm_ok "tasks lists the sleep tasks while they run, with a summary line"

# metrics: the balancer's gauges, while the sleep tasks still run.
metrics=$(ctl a metrics) || zm_fail "metrics exited $?"
for gauge in zmesh_nodes_active zmesh_circuit_breakers_open zmesh_queue_depth \
             zmesh_tasks_in_flight zmesh_avg_latency_ms zmesh_scaling_d; do
    echo "$metrics" | grep -q "^# TYPE $gauge gauge$" || zm_fail "metrics: no gauge $gauge"
    echo "$metrics" | grep -Eq "^$gauge [0-9.e+-]+$" || zm_fail "metrics: no sample of $gauge"
done
echo "$metrics" | grep -q '^zmesh_nodes_active 3$' || zm_fail "metrics: zmesh_nodes_active is not 3"
[ "$(echo "$metrics" | grep -Ec '^zmesh_scaling_decision\{decision="(hold|scale_up|scale_down)"\} 1$')" -eq 1 ] \
    || zm_fail "metrics: not exactly one scaling decision in force: $(echo "$metrics" | grep decision)"
[ "$(echo "$metrics" | grep -c '^zmesh_scaling_decision{')" -eq 3 ] \
    || zm_fail "metrics: not 3 zmesh_scaling_decision samples"
done=$(echo "$metrics" | sed -n 's/^zmesh_tasks_done_total{result="success"} //p')
[ "${done:-0}" -ge 203 ] || zm_fail "metrics: zmesh_tasks_done_total{result=\"success\"} is ${done:-none}"
ctl a metrics --json | jq -e '[.[] | select(.name == "zmesh_tasks_in_flight")][0].value >= 1
        and ([.[] | select(.name == "zmesh_scaling_decision")] | length) == 3
        and ([.[] | select(.name == "zmesh_avg_latency_ms")][0].value > 0)' >/dev/null \
    || zm_fail "metrics --json: gauges missing or wrong"
zm_ok "metrics: the balancer's gauges (text and JSON) and zmesh_tasks_done_total"

deadline=$(( $(zm_now_ms) + 20000 ))
while kill -0 "$map_pid" 2>/dev/null && [ "$(zm_now_ms)" -lt "$deadline" ]; do sleep 0.1; done
wait "$map_pid" || zm_fail "map of sleep tasks exited $?: $(cat "$ZM_TMP/sleeps.out")"
[ "$(grep -c '^slept' "$ZM_TMP/sleeps.out")" -eq 4 ] || zm_fail "sleep map: $(cat "$ZM_TMP/sleeps.out")"
zm_wait 5 bash -c "'$ZMESHCTL' --data '$ZM_TMP/a' --json tasks | jq -e '.owned == 0 and .tasks == []'" \
    || zm_fail "tasks still listed after their results: $(ctl a --json tasks)"
zm_ok "the sleep tasks all ended; tasks is empty again"

# A client that goes away: its tasks run on, their results are dropped (and freed).
printf '1500\n1500\n1500\n' | "$ZMESHCTL" --data "$ZM_TMP/b" map sleep > /dev/null 2>&1 &
gone_pid=$!
ZM_PIDS+=("$gone_pid")
zm_wait 5 bash -c "'$ZMESHCTL' --data '$ZM_TMP/b' --json tasks | jq -e '.owned == 3'" \
    || zm_fail "b does not list the 3 sleep tasks"
kill -KILL "$gone_pid"
wait "$gone_pid" 2>/dev/null
zm_wait 10 bash -c "'$ZMESHCTL' --data '$ZM_TMP/b' --json tasks | jq -e '.owned == 0'" \
    || zm_fail "the tasks of a client that went away did not end"
[ "$(ctl b --json submit echo --payload still | jq -r .output)" = "still" ] \
    || zm_fail "b does not answer submit after its client went away"
zm_ok "a client killed mid-map: its tasks end, the node serves the next one"

# A node without a balancer: submit and tasks say so; metrics has no work gauges.
zm_start d --open --seed "$(zm_contact a)" --set node/actors=gossip,health,worker,control
expect_exit 1 "runs no balancer (node/actors)" ctl d submit echo --payload x
expect_exit 1 "runs no balancer (node/actors)" ctl d tasks
out=$(ctl d metrics) || zm_fail "metrics on a node without a balancer exited $?"
echo "$out" | grep -q '^zmesh_uptime_seconds ' || zm_fail "metrics without a balancer: $out"
! echo "$out" | grep -q zmesh_nodes_active || zm_fail "metrics without a balancer has its gauges"
zm_ok "a node without a balancer: a clear error for submit and tasks; metrics still answers"

# The balancer restarts under a waiting submit: the submit is answered (lost), not left hanging.
ctl c --json submit sleep --payload 5000 > "$ZM_TMP/lost.json" &
lost_pid=$!
ZM_PIDS+=("$lost_pid")
zm_wait 5 bash -c "'$ZMESHCTL' --data '$ZM_TMP/c' --json tasks | jq -e '.owned == 1'" \
    || zm_fail "the sleep task of c is not listed"
ctl c fault balancer >/dev/null || zm_fail "fault balancer"
deadline=$(( $(zm_now_ms) + 10000 ))
while kill -0 "$lost_pid" 2>/dev/null && [ "$(zm_now_ms)" -lt "$deadline" ]; do sleep 0.1; done
wait "$lost_pid"; rc=$?
[ "$rc" -eq 1 ] || zm_fail "the submit under a restarted balancer exited $rc: $(cat "$ZM_TMP/lost.json")"
jq -e '.success == false and .status == "lost"' "$ZM_TMP/lost.json" >/dev/null \
    || zm_fail "the submit under a restarted balancer: $(cat "$ZM_TMP/lost.json")"
zm_wait 10 bash -c "'$ZMESHCTL' --data '$ZM_TMP/c' --json submit echo --payload back | jq -e '.output == \"back\"'" \
    || zm_fail "no submit works after the balancer restarted"
zm_ok "a balancer restart answers the waiting submit as lost; later submits work"

# Everything stops cleanly: exit 0 (with AddressSanitizer, a leak would make it fail).
for n in a b c d; do kill -TERM "$(zm_pid "$n")"; done
for n in a b c d; do
    pid=$(zm_pid "$n")
    zm_wait 10 bash -c "! kill -0 $pid 2>/dev/null" || zm_fail "$n did not stop on SIGTERM"
    wait "$pid"; rc=$?
    [ "$rc" -eq 0 ] || zm_fail "$n exited $rc after SIGTERM"
    ! grep -q 'Sanitizer' "$ZM_TMP/$n.log" || zm_fail "$n: a sanitizer report in its log"
done
zm_ok "every node stops with exit 0, no sanitizer report"
zm_done
