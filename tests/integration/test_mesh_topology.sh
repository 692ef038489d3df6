#!/usr/bin/env bash
# zmeshctl topology draws the mesh from every node's published links (node state key
# zmesh.links): trust shapes a chain a - b - c, whose middle node is a cut point.
. "$(dirname "$0")/lib.sh"
for n in a b c; do "$ZMESHD" --data "$ZM_TMP/$n" --init > "$ZM_TMP/$n.key" 2>/dev/null || zm_fail "init $n"; done
trust () { mkdir -p "$ZM_TMP/$1/trusted"; cp "$ZM_TMP/$2.key" "$ZM_TMP/$1/trusted/$2.key"; }
trust a b; trust b a; trust b c; trust c b   # a and c do not trust each other
ARGS=(--set state/interval_ms=300 --set health/bench_budget_ms=0)
zm_start a "${ARGS[@]}"
zm_start b "${ARGS[@]}" --seed "$(zm_contact a)"
zm_start c "${ARGS[@]}" --seed "$(zm_contact b)"
zm_wait 10 zm_has_count b alive 3 || zm_fail "b does not see a and c"

chain () {
    zm_ctl b --json topology | jq -e '.edges | length == 2' >/dev/null
}
zm_wait 15 chain || zm_fail "topology on b: $(zm_ctl b --json topology | jq -c .)"
t=$(zm_ctl b --json topology)
echo "$t" | jq -e '.diameter == 2 and .components == 1 and .articulation_points == 1
                   and .partition_risk == 0.5 and .degree_max == 2 and .degree_min == 1' >/dev/null \
    || zm_fail "figures: $(echo "$t" | jq -c 'del(.nodes, .edges)')"
echo "$t" | jq -e '[.nodes[] | select(.articulation) | .name] == ["b"]' >/dev/null \
    || zm_fail "cut point is not b: $(echo "$t" | jq -c .nodes)"
zm_ok "a - b - c: diameter 2, b the one cut point, partition risk 50%"

dot=$(zm_ctl b topology --dot)
[ "$(echo "$dot" | grep -c -- ' -- ')" = 2 ] && echo "$dot" | head -1 | grep -q '^graph zmesh {' \
    || zm_fail "--dot: $dot"
zm_ctl b topology | grep -q '^partition risk: *50.0%' || zm_fail "table: $(zm_ctl b topology)"
zm_ok "topology as a table and as Graphviz DOT"
zm_done
