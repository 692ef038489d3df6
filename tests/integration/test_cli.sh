#!/usr/bin/env bash
# zmeshd and zmeshctl as an operator meets them: flags, config errors, identity, exit codes.
. "$(dirname "$0")/lib.sh"

expect_exit () {  # expect_exit CODE PATTERN COMMAND...: exit code and a message naming the problem
    local code=$1 pattern=$2; shift 2
    local out rc
    out=$("$@" 2>&1); rc=$?
    [ "$rc" -eq "$code" ] || zm_fail "'$*' exited $rc, expected $code: $out"
    echo "$out" | grep -q -- "$pattern" || zm_fail "'$*' said '$out', expected it to mention '$pattern'"
}

expect_exit 0 "zmeshd" "$ZMESHD" --version
expect_exit 0 "usage" "$ZMESHD" --help
expect_exit 2 "node/data" "$ZMESHD" --no-beacon
expect_exit 2 "unrecognized option\|usage" "$ZMESHD" --data "$ZM_TMP/x" --no-such-flag
expect_exit 2 "\-\-bind" "$ZMESHD" --data "$ZM_TMP/x" --bind udp://nowhere
expect_exit 2 "\-\-seed" "$ZMESHD" --data "$ZM_TMP/x" --seed tcp://127.0.0.1:1
expect_exit 2 "beacon/port" "$ZMESHD" --data "$ZM_TMP/x" --beacon-port 70000
expect_exit 2 "gossip/suspicion_min_ms" "$ZMESHD" --data "$ZM_TMP/x" --no-beacon \
    --set gossip/suspicion_max_ms=1000 --set gossip/suspicion_min_ms=2000
expect_exit 2 "unknown key 'gossip/nonsense'" "$ZMESHD" --data "$ZM_TMP/x" --set gossip/nonsense=1
zm_ok "zmeshd flags: bad ones exit 2 naming the flag or key"

cat > "$ZM_TMP/bad.cfg" <<CFG
node
    name = alpha
gossip
    probe_interval_ms = 200
    suspicion_max_ms = soon
CFG
expect_exit 2 "bad.cfg:5: gossip/suspicion_max_ms" "$ZMESHD" --data "$ZM_TMP/x" -c "$ZM_TMP/bad.cfg"
printf 'beacon\n    colour = blue\n' > "$ZM_TMP/unknown.cfg"
expect_exit 2 "unknown.cfg:2: unknown key 'beacon/colour'" "$ZMESHD" --data "$ZM_TMP/x" -c "$ZM_TMP/unknown.cfg"
expect_exit 2 "cannot read config" "$ZMESHD" --data "$ZM_TMP/x" -c "$ZM_TMP/missing.cfg"
zm_ok "config file errors name the file, line and key"

cat > "$ZM_TMP/good.cfg" <<CFG
node
    name = from-file
gossip
    probe_interval_ms = 800
CFG
ZM_NAMELESS=1 zm_start cfgnode -c "$ZM_TMP/good.cfg"
[ "$(zm_ctl cfgnode status --json | jq -r .name)" = "from-file" ] || zm_fail "config file name not used"
zm_start flagnode -c "$ZM_TMP/good.cfg" --name from-flag
[ "$(zm_ctl flagnode status --json | jq -r .name)" = "from-flag" ] || zm_fail "flag does not override file"
zm_ok "config file applies, flags override it"

mode=$(stat -c %a "$ZM_TMP/cfgnode/identity")
[ "$mode" = "600" ] || zm_fail "identity mode is $mode"
id=$(zm_ctl cfgnode keys --json | jq -r .id)
key=$(zm_ctl cfgnode keys --json | jq -r .public_key)
[ ${#id} -eq 32 ] && [ ${#key} -eq 64 ] || zm_fail "keys: id '$id' key '$key'"
status=$(zm_ctl cfgnode status --json)
for field in id name version endpoint uptime_s actors; do
    echo "$status" | jq -e "has(\"$field\")" >/dev/null || zm_fail "status --json lacks $field"
done
echo "$status" | jq -e '.actors | map(select(.name == "gossip" and .state == "running" and .restarts == 0)) | length == 1' >/dev/null \
    || zm_fail "status actors: $(echo "$status" | jq -c .actors)"
[ "$(echo "$status" | jq -r .id)" = "$id" ] || zm_fail "status id differs from keys id"
members=$(zm_ctl cfgnode members --json)
echo "$members" | jq -e 'length == 1 and .[0].self == true and .[0].state == "alive" and (.[0] | has("id") and has("name") and has("endpoint"))' >/dev/null \
    || zm_fail "members --json: $members"
zm_wait 5 bash -c "'$ZMESHCTL' --data '$ZM_TMP/cfgnode' status --json | jq -e '.resources.cpu_cores >= 1 and .resources.mem_total_bytes > 0' >/dev/null" \
    || zm_fail "status --json lacks the health actor's resources"
zm_ctl cfgnode members --json | jq -e '.[0].resources.cpu_cores >= 1' >/dev/null \
    || zm_fail "members --json: the self row lacks resources"
zm_ok "identity 0600; status, keys, members --json have the documented fields (and resources)"

# The same identity after a restart.
kill -TERM "$(zm_pid cfgnode)"
zm_wait 5 bash -c "! kill -0 $(zm_pid cfgnode) 2>/dev/null" || zm_fail "cfgnode did not stop on SIGTERM"
wait "$(zm_pid cfgnode)"; rc=$?
[ "$rc" -eq 0 ] || zm_fail "zmeshd exit status $rc after SIGTERM"
ZM_NAMELESS=1 zm_start cfgnode -c "$ZM_TMP/good.cfg"
[ "$(zm_ctl cfgnode keys --json | jq -r .id)" = "$id" ] || zm_fail "id changed across restart"
zm_ok "SIGTERM exits 0; the id survives a restart"

chmod 644 "$ZM_TMP/flagnode/identity"
kill -TERM "$(zm_pid flagnode)"
zm_wait 5 bash -c "! kill -0 $(zm_pid flagnode) 2>/dev/null" || zm_fail "flagnode did not stop"
expect_exit 1 "chmod 600" "$ZMESHD" --data "$ZM_TMP/flagnode" --no-beacon
zm_ok "an identity readable by others is refused"

# zmeshctl: usage 2, unreachable node 1, errors from the node 1.
expect_exit 2 "usage" "$ZMESHCTL" --data "$ZM_TMP/cfgnode" no-such-command
expect_exit 2 "usage" "$ZMESHCTL" --data "$ZM_TMP/cfgnode" join
expect_exit 1 "control" "$ZMESHCTL" --data "$ZM_TMP/nobody" status
expect_exit 1 "" "$ZMESHCTL" --data "$ZM_TMP/cfgnode" join tcp://127.0.0.1:1
expect_exit 1 "" "$ZMESHCTL" --data "$ZM_TMP/cfgnode" trust add 1234
zm_ok "zmeshctl: usage exits 2, errors exit 1"

metrics=$(zm_ctl cfgnode metrics)
echo "$metrics" | grep -q '^# TYPE zmesh_control_requests_total counter' || zm_fail "metrics text: no TYPE line"
echo "$metrics" | grep -q '^zmesh_control_errors_total [1-9]' || zm_fail "control errors not counted"
zm_ok "metrics in Prometheus text; bad requests counted"
zm_done
