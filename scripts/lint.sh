#!/usr/bin/env bash
# Static analysis of redress, run by `make lint` and by CI: a grep for
# banned calls, clang-tidy (checks in .clang-tidy and tests/.clang-tidy)
# and cppcheck (options below, suppressions in scripts/lint/cppcheck.supp)
# over every C file of src/ and tests/ and the headers they include.
# Any finding fails the run; each accepted exception is written down with
# its reason where it is made (see docs/lint.md).
#
# Usage: scripts/lint.sh [BUILD-DIR]   (default build-lint)
# The build directory only receives CMake's compile_commands.json (it is
# configured with clang, never built) and the analysers' scratch files.
# Environment: JOBS (parallel clang-tidy processes, default: the cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build-lint}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
status=0

for tool in clang clang-tidy cppcheck jq; do
	if ! command -v "$tool" >/dev/null; then
		echo "lint: $tool is missing; \`make lint\` installs it" >&2
		exit 2
	fi
done

# --- banned calls ---------------------------------------------------------
# STYLE.md: no sprintf, strcpy, atoi, strtok (nor their unbounded or
# unchecked kin). A word boundary keeps snprintf and strtok_r apart.
banned='(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|atoll|strtok)[[:space:]]*\('
if grep -rnE "$banned" --include='*.c' --include='*.h' src include tests; then
	echo "lint: banned call above (use snprintf, memcpy with a length, strtol...)" >&2
	status=1
fi

# --- the compilation database ---------------------------------------------
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
# Every file of src/ and tests/ once: the test harness is compiled into
# each unit test, and the generated header tests hold nothing to check.
mkdir -p "$build/lint"
jq --arg root "$root/" '
	[.[] | select(.file | startswith($root + "src/") or
			      startswith($root + "tests/"))]
	| unique_by(.file)' "$build/compile_commands.json" \
	>"$build/lint/compile_commands.json"
jq -r '.[].file' "$build/lint/compile_commands.json" >"$build/lint/files"
echo "lint: $(wc -l <"$build/lint/files") files"

# --- clang-tidy -----------------------------------------------------------
# One process per file (clang-tidy 14 carries analyzer state from one file
# to the next in a single run, which shows as false positives), $jobs at a
# time; a file's report is printed whole, and only when it has findings.
tidy_one() {
	local out
	if ! out=$(clang-tidy -p "$1" --quiet "$2" 2>&1); then
		printf '%s\n' "$out" | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings'
		return 1
	fi
}
export -f tidy_one
echo "lint: clang-tidy $(clang-tidy --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p') ($jobs at a time)"
if ! xargs -P "$jobs" -n 1 bash -c 'tidy_one "$0" "$1"' "$build/lint" \
	<"$build/lint/files"; then
	echo "lint: clang-tidy found the problems above" >&2
	status=1
fi

# --- cppcheck -------------------------------------------------------------
# The include directories and definitions come from the compilation
# database; system headers are left out on purpose (cppcheck models libc,
# POSIX and SQLite with its own libraries, and jansson's macros with
# scripts/lint/jansson.cfg).
echo "lint: $(cppcheck --version)"
mkdir -p "$build/lint/cppcheck"
if ! cppcheck --project="$build/lint/compile_commands.json" --std=c11 \
	--enable=warning,style,performance,portability \
	--library=posix --library=gnu --library=sqlite3 \
	--library=scripts/lint/jansson.cfg \
	--suppressions-list=scripts/lint/cppcheck.supp --inline-suppr \
	--cppcheck-build-dir="$build/lint/cppcheck" \
	--error-exitcode=1 --quiet -j "$jobs" \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]'; then
	echo "lint: cppcheck found the problems above" >&2
	status=1
fi

if [ "$status" = 0 ]; then
	echo "lint: no findings"
fi
exit "$status"
