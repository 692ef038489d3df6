#!/usr/bin/env bash
# `cmake --install` gives a usable package: library, header, tools, man pages, and a service
# builds against it both through pkg-config and through find_package (zmesh).
. "$(dirname "$0")/lib.sh"
prefix="$ZM_TMP/prefix"
cmake --install "$ZMESH_BIN_DIR" --prefix "$prefix" >/dev/null || zm_fail "cmake --install"
for f in include/zmesh.h include/zmesh_error.h bin/zmeshd bin/zmeshctl share/man/man8/zmeshd.8 \
         share/man/man8/zmeshctl.8 lib/pkgconfig/zmesh.pc lib/cmake/zmesh/zmeshConfig.cmake; do
    [ -e "$prefix/$f" ] || zm_fail "not installed: $f"
done
ls "$prefix"/lib/libzmesh.so* >/dev/null 2>&1 || zm_fail "libzmesh.so not installed"
zm_ok "installs library, headers, tools, man pages, pkg-config and CMake files"

# A sanitized libzmesh needs its consumers built with the same runtime.
san=()
grep -q '^ZMESH_SANITIZE:BOOL=ON' "$ZMESH_BIN_DIR/CMakeCache.txt" && san=(-fsanitize=address,undefined)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc "${san[@]}" "$ZMESH_SOURCE_DIR/examples/embed/embed.c" $(pkg-config --cflags --libs zmesh) \
    -Wl,-rpath,"$prefix/lib" -o "$ZM_TMP/embed-pc" || zm_fail "build with pkg-config"
"$ZM_TMP/embed-pc" 2>&1 | grep -q usage || zm_fail "embed built with pkg-config does not run"
zm_ok "a service builds with pkg-config --cflags --libs zmesh"

mkdir -p "$ZM_TMP/consumer"
cat > "$ZM_TMP/consumer/CMakeLists.txt" <<CML
cmake_minimum_required (VERSION 3.18)
project (consumer C)
find_package (zmesh REQUIRED)
add_executable (embed "$ZMESH_SOURCE_DIR/examples/embed/embed.c")
target_link_libraries (embed PRIVATE zmesh::zmesh)
CML
cmake -S "$ZM_TMP/consumer" -B "$ZM_TMP/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="${san[*]}" >/dev/null \
    && cmake --build "$ZM_TMP/consumer/build" >/dev/null || zm_fail "build with find_package"
"$ZM_TMP/consumer/build/embed" 2>&1 | grep -q usage || zm_fail "embed built with CMake does not run"
zm_ok "a service builds with find_package (zmesh)"
zm_done
