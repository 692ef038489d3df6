#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: install what is missing, build, run the demo.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/install-deps.sh"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$here/build" -j "${ZMESH_JOBS:-2}" >/dev/null
ZMESHD="$here/build/zmeshd" ZMESHCTL="$here/build/zmeshctl" exec bash "$here/examples/demo.sh" "$@"
