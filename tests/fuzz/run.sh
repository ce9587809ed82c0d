#!/usr/bin/env bash
# `make fuzz`: build the libFuzzer targets of tests/fuzz/ with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer (build-fuzz/), run each
# for FUZZ_SECONDS from its seed corpus, print one line of figures per
# target, and fail if any target found a crash, naming the input that
# causes it.
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_JOBS     targets run at once (default: the number of cores)
#   FUZZ_TARGETS  names to run, e.g. "money machine" (default: all)
#   FUZZ_BUILD    build directory (default build-fuzz)
#
# The seed corpus in tests/fuzz/corpus/<name>/ is copied to
# FUZZ_BUILD/fuzz-out/<name>/corpus, which the fuzzer grows; the repository
# is never written. A crasher is left in FUZZ_BUILD/fuzz-out/<name>/; keep
# it as tests/fuzz/regressions/<name>/<what-it-shows> so that `make test`
# replays it from then on (docs/reliability.md, "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
build=${FUZZ_BUILD:-build-fuzz}
out="$build/fuzz-out"

# clang and its fuzzer runtime (Debian's clang only recommends it)
missing=""
for pkg in clang libclang-rt-14-dev; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		grep -q 'install ok installed' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	sudo_cmd=""
	[ "$(id -u)" = 0 ] || sudo_cmd=sudo
	echo "installing Debian packages:$missing"
	$sudo_cmd apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q \
		--no-install-recommends $missing
fi

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DREDRESS_FUZZ=ON >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz-targets

targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run_one NAME: fuzz one target; its log is $out/NAME/log
run_one() {
	local name=$1 dir="$out/$1" dict=() seeds=()

	mkdir -p "$dir/corpus"
	cp -n tests/fuzz/corpus/"$name"/* "$dir/corpus/" 2>/dev/null || true
	[ -f "tests/fuzz/dict/$name.dict" ] &&
		dict=(-dict="tests/fuzz/dict/$name.dict")
	# past crashers seed the run too (read only: the first directory grows)
	[ -d "tests/fuzz/regressions/$name" ] &&
		seeds=("tests/fuzz/regressions/$name")
	"$build/tests/fuzz/fuzz_$name" "$dir/corpus" "${seeds[@]}" "${dict[@]}" \
		-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/" \
		>"$dir/log" 2>&1
}

mkdir -p "$out"
# crashers of earlier runs stay where they are; this run reports its own
stamp="$out/.started"
touch "$stamp"
for name in $targets; do
	rm -f "$out/$name/status"
done
echo "fuzzing $(echo $targets | wc -w) targets for ${seconds}s each," \
	"$jobs at a time"
running=0
for name in $targets; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	( set +e; run_one "$name"; echo $? >"$out/$name/status" ) &
	running=$((running + 1))
done
wait

failed=0
printf '%-10s %10s %8s %8s %8s  %s\n' target "execs/s" cov ft corpus result
for name in $targets; do
	dir="$out/$name"
	status=$(cat "$dir/status" 2>/dev/null || echo "?")
	last=$(grep -E '^#[0-9]+.*cov: ' "$dir/log" | tail -1 || true)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
	crashers=$(find "$dir" -maxdepth 1 -newer "$stamp" \( -name 'crash-*' \
		-o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
		sort)
	result=ok
	if [ "$status" != 0 ] || [ -n "$crashers" ]; then
		result="FAILED (exit $status)"
		failed=1
	fi
	printf '%-10s %10s %8s %8s %8s  %s\n' "$name" "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
	for c in $crashers; do
		echo "  crasher: $c (replay: $build/tests/fuzz/fuzz_$name $c)"
	done
	if [ "$result" != ok ]; then
		echo "  log: $dir/log"
		grep -E 'ERROR|invariant broken|runtime error|SUMMARY' \
			"$dir/log" | head -5 | sed 's/^/  /'
	fi
done
exit "$failed"
