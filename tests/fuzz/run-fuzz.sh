#!/usr/bin/env bash
# run-fuzz.sh TARGET CORPUS_DIR WORK_DIR SECONDS
#
# A bounded, coverage-guided libFuzzer run of TARGET (built with clang
# -fsanitize=fuzzer,address,undefined), starting from the seed corpus CORPUS_DIR. The seeds
# are copied into a fresh WORK_DIR first, so new inputs never touch the source tree; a
# crashing input is written to WORK_DIR.crashes/ (add it to CORPUS_DIR as a regression).
# Exits non-zero on a crash, a leak, a timeout (-timeout=5 s per input) or a bad setup.
set -u
if [ $# -ne 4 ]; then
    echo "usage: $0 TARGET CORPUS_DIR WORK_DIR SECONDS" >&2
    exit 2
fi
target=$1 corpus=$2 work=$3 seconds=$4
if [ ! -x "$target" ]; then
    echo "run-fuzz: $target is not an executable" >&2
    exit 2
fi
if [ ! -d "$corpus" ]; then
    echo "run-fuzz: no seed corpus at $corpus" >&2
    exit 2
fi
case $work in
    "" | / | "$corpus" | "$corpus"/)
        echo "run-fuzz: refusing WORK_DIR '$work'" >&2
        exit 2 ;;
esac
rm -rf -- "$work" "$work.crashes"
mkdir -p -- "$work" "$work.crashes" || exit 2
cp -- "$corpus"/* "$work"/ 2>/dev/null || true

# UBSan in libFuzzer builds recovers by default: make the first report fatal.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}

"$target" "$work" -max_total_time="$seconds" -max_len=70000 -timeout=5 \
    -artifact_prefix="$work.crashes/" -print_final_stats=1
rc=$?
if [ $rc -ne 0 ]; then
    echo "run-fuzz: $(basename "$target") failed (exit $rc); inputs in $work.crashes/:" >&2
    ls -l "$work.crashes" >&2
    exit 1
fi
echo "run-fuzz: $(basename "$target"): no crash in ${seconds}s ($(ls "$work" | wc -l) corpus inputs)"
