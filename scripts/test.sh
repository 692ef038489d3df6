#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. a normal build (RelWithDebInfo, warnings are errors): every ctest label
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build: unit, sim, integration
#   3. a clang libFuzzer build: a short coverage-guided run of every fuzz target
#   4. clang-format: every C file formatted
# Build trees go to build/, build-asan/, build-fuzz/ (ZMESH_BUILD_ROOT to put them elsewhere).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=${ZMESH_BUILD_ROOT:-$here}
jobs=${ZMESH_JOBS:-2}
bash "$here/scripts/install-deps.sh" || exit 1
passed=0
failed=0
failures=()

step () {  # step NAME COMMAND...
    local name=$1; shift
    echo "=== $name"
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

build () {  # build DIR CMAKE-ARGS...
    local dir=$1; shift
    cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null \
        && cmake --build "$dir" -j "$jobs" >/dev/null
}

suite () {  # suite DIR CTEST-ARGS...
    local dir=$1; shift
    (cd "$dir" && ctest --output-on-failure --timeout 600 "$@")
}

step "format" bash "$here/scripts/check-format.sh"
step "build" build "$root/build"
step "tests" suite "$root/build"
step "build (asan+ubsan)" build "$root/build-asan" -DZMESH_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
step "tests (asan+ubsan)" suite "$root/build-asan" -L "unit|sim|integration" -LE "netns|fuzz"
unset ASAN_OPTIONS UBSAN_OPTIONS
build_fuzz () { CC=clang build "$root/build-fuzz" -DZMESH_FUZZ=ON; }
step "build (fuzz)" build_fuzz
step "fuzz" suite "$root/build-fuzz" -L fuzz

echo
[ ${#failures[@]} -gt 0 ] && echo "failed steps: ${failures[*]}"
echo "test.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
