#!/usr/bin/env bash
# docs/config.md's Keys table is what `zmeshd --config-help` prints: a key added, removed or
# redescribed in actors/zmesh_config.c fails here until the table is pasted again.
. "$(dirname "$0")/lib.sh"

src=${ZMESH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
doc="$src/docs/config.md"
[ -f "$doc" ] || zm_fail "no $doc"

"$ZMESHD" --config-help > "$ZM_TMP/generated.md" 2>&1 || zm_fail "zmeshd --config-help failed"
grep -q '^| key | default | unit | meaning |$' "$ZM_TMP/generated.md" \
    || zm_fail "zmeshd --config-help printed no table header: $(head -n 3 "$ZM_TMP/generated.md")"

# The table of the "## Keys" section: its first run of lines starting with '|' (the sentence
# before it, which names the version, is not part of it).
awk '
    /^## / { in_keys = ($0 == "## Keys"); if (done_table) exit; next }
    in_keys && /^\|/ { print; started = 1; next }
    in_keys && started { done_table = 1; exit }
' "$doc" > "$ZM_TMP/documented.md"
[ -s "$ZM_TMP/documented.md" ] || zm_fail "docs/config.md has no table under '## Keys'"

if ! diff -u "$ZM_TMP/documented.md" "$ZM_TMP/generated.md" > "$ZM_TMP/table.diff"; then
    cat "$ZM_TMP/table.diff"
    zm_fail "docs/config.md's Keys table differs from 'zmeshd --config-help'" \
        "(- docs, + program): paste the program's output into the doc"
fi
zm_ok "docs/config.md's Keys table is zmeshd --config-help ($(wc -l < "$ZM_TMP/generated.md") lines)"

zm_done
