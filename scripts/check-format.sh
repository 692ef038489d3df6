#!/usr/bin/env bash
# Every C source and header is clang-format clean (the repo's .clang-format).
set -uo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
[ -n "$files" ] || { echo "check-format: no files"; exit 1; }
if ! clang-format --dry-run --Werror $files; then
    echo "check-format: run clang-format -i on the files above"
    exit 1
fi
echo "check-format: $(echo "$files" | wc -w) files clean"
