#!/usr/bin/env bash
# `make run` builds the redress command only (the library and the CLI), not
# the tests, bench or fuzz programs, so that a new user serves in seconds;
# `make test` builds everything. Read from the commands make and CMake would
# run (dry runs, nothing is compiled).
set -e
. "$(dirname "$0")/lib.bash"

if ! command -v make >/dev/null || ! command -v cmake >/dev/null; then
	echo "make or cmake missing: nothing to check here"
	exit 0
fi
BUILD_DIR="$E2E_TMP/build"

# builds MAKE-TARGET: the `cmake --build` lines `make -n TARGET` would run
builds() {
	make -s -n -C "$REDRESS_SOURCE_DIR" "$1" BUILD="$BUILD_DIR" |
		grep '^cmake --build' || true
}
expect_eq "$(builds run)" "cmake --build $BUILD_DIR -j$(nproc 2>/dev/null || echo 2) --target redress-cli" \
	"make run builds the redress command only"
expect_eq "$(builds test)" "cmake --build $BUILD_DIR -j$(nproc 2>/dev/null || echo 2)" \
	"make test builds everything"

# What the redress-cli target compiles: redress's own sources, no test,
# bench or fuzz program.
cmake -S "$REDRESS_SOURCE_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	>"$E2E_TMP/configure.log" 2>&1 || fail "configure: $(tail -5 "$E2E_TMP/configure.log")"
cmake --build "$BUILD_DIR" --target redress-cli -- -n >"$E2E_TMP/server.n" 2>&1 || true
compiled=$(grep -o -- '-c [^ ]*\.c' "$E2E_TMP/server.n" | sed 's/^-c //' | sort -u)
expect_has "$compiled" "src/cli/main.c" "the server build compiles the CLI"
expect_has "$compiled" "src/http/server.c" "the server build compiles the library"
expect_eq "$(grep -c -E '/(tests|bench)/' <<<"$compiled" || true)" "0" \
	"the server build compiles no test, bench or fuzz program"

finish
