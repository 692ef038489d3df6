#!/usr/bin/env bash
# check-exports.sh LIBZMESH HEADER...: libzmesh's dynamic symbol table is exactly the functions
# its public headers declare (include/zmesh.map hides the rest): nothing internal leaks to a
# program that links it, and nothing the headers promise is missing.
set -euo pipefail
lib=$1; shift
declared=$(sed -e 's|//.*||' "$@" | grep -v '^ ' | grep -oE '\bzmesh_[a-z0-9_]+ \(' \
    | sed 's/ ($//' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' \
    | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
[ -z "$missing" ] || { echo "declared in the headers, not exported:"; echo "$missing"; }
[ -z "$extra" ] || { echo "exported, not declared in the headers:"; echo "$extra"; }
[ -z "$missing$extra" ] || exit 1
echo "check-exports: $(echo "$declared" | wc -l) functions, all exported, nothing else"
