#!/usr/bin/env bash
# The documentation runs as written: every ```sh, ```bash, ```shell and
# ```console block of README.md and docs/*.md not marked
# `<!-- doc-test: skip (REASON) -->` is run in order by
# tests/docs/doctest.bash, which checks exit statuses and shown outputs
# (the convention: docs/README.md). Each document gets its own world, as
# a reader who follows it from the start: a temporary directory standing
# for the repository root (the source tree's files linked in, a copy of
# the binary at build/redress, no redress-data), where `make run`'s own script,
# examples/run.sh, creates ./redress-data with its demo keys and serves on
# a free port that stands for 127.0.0.1:8080. Nothing is written to the
# source tree.
#
# DOCS="README.md docs/api.md" runs only those documents (paths from the
# repository root); DOC_TIMEOUT (default 120) is the seconds one document
# may take before it is stopped, naming the command it was in.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

DOCTEST="$REDRESS_SOURCE_DIR/tests/docs/doctest.bash"
DOC_TIMEOUT=${DOC_TIMEOUT:-120}   # seconds a document may take
if [ -n "${DOCS:-}" ]; then
	read -r -a docs <<<"$DOCS"
else
	docs=(README.md)
	for f in "$REDRESS_SOURCE_DIR"/docs/*.md; do
		docs+=("docs/${f##*/}")
	done
fi

# The checker itself: on tests/docs/checks.md exactly the commands marked
# "# must fail:" are reported, each at its line, and the run fails.
CHECKS_MD="$REDRESS_SOURCE_DIR/tests/docs/checks.md"
set +e
bash "$DOCTEST" "$CHECKS_MD" checks.md >"$E2E_TMP/checks.out" 2>"$E2E_TMP/checks.err"
status=$?
set -e
expect_eq "$status" "1" "the doc test fails a document whose examples drifted"
expect_eq "$(sed -n 's/^FAIL checks\.md:\([0-9]*\):.*/\1/p' "$E2E_TMP/checks.err" | tr '\n' ' ')" \
	"$(grep -n '# must fail:' "$CHECKS_MD" | cut -d: -f1 | tr '\n' ' ')" \
	"the doc test reports each drifted example at its line, and only those"

# A marker that skips nothing, an unknown one and an unclosed block are
# the document's errors (exit status 2), named at their line.
printf '%s\n' '<!-- doc-test: skip (x) -->' '```json' '{}' '```' \
	'<!-- doc-test: run twice -->' '```sh' 'true' >"$E2E_TMP/malformed.md"
set +e
bash "$DOCTEST" "$E2E_TMP/malformed.md" malformed.md 2>"$E2E_TMP/malformed.err"
status=$?
set -e
expect_eq "$status" "2" "a malformed document is refused"
expect_eq "$(cut -d: -f1,2 "$E2E_TMP/malformed.err" | tr '\n' ' ')" \
	"malformed.md:1 malformed.md:5 malformed.md:6 " "each of its errors is named at its line"

# make_root DIR: a stand-in for the repository root a reader has after
# `make run`'s build
make_root() {
	local root=$1 entry name
	mkdir -p "$root/build"
	for entry in "$REDRESS_SOURCE_DIR"/* "$REDRESS_SOURCE_DIR"/.[!.]*; do
		[ -e "$entry" ] || continue
		name=${entry##*/}
		case "$name" in
		build | build-* | redress-data | .git) continue ;;
		esac
		ln -s "$entry" "$root/$name"
	done
	# a copy: nothing a document does may reach the binary under test
	cp "$REDRESS" "$root/build/redress"
}

# A document about PostgreSQL (docs/cluster.md) finds its server as libpq
# does, by PGHOST, PGPORT and PGUSER, as a reader given a role would: the
# suite's server (ctest's postgresql fixture), else one of this test's own.
PG="$REDRESS_SOURCE_DIR/tests/support/pg.sh"
if [ -z "${REDRESS_TEST_PG_STATE:-}" ]; then
	REDRESS_TEST_PG_STATE=$E2E_TMP/pg.state
	bash "$PG" start "$REDRESS_TEST_PG_STATE" >/dev/null
	trap 'bash "$PG" stop "$E2E_TMP/pg.state" >/dev/null 2>&1 || true; stop_all_servers' EXIT
fi
PGPORT=$(sed -n 's/^PGPORT=//p' "$REDRESS_TEST_PG_STATE")
export PGHOST=127.0.0.1 PGPORT PGUSER=postgres

n=0
for doc in "${docs[@]}"; do
	n=$((n + 1))
	[ -f "$REDRESS_SOURCE_DIR/$doc" ] || { fail "$doc: no such document"; continue; }
	# a document without a block to run needs no server
	if ! DOC_TEST_ADDR=127.0.0.1:1 bash "$DOCTEST" --list "$REDRESS_SOURCE_DIR/$doc" "$doc" \
		>"$E2E_TMP/list$n" 2>"$E2E_TMP/list$n.err"; then
		fail "$doc is malformed for the doc test: $(cat "$E2E_TMP/list$n.err")"
		continue
	fi
	if ! grep -q ': \(sh\|console\): ' "$E2E_TMP/list$n"; then
		echo "$doc: nothing to run, $(grep -c ': skipped: ' "$E2E_TMP/list$n") blocks skipped"
		ok
		continue
	fi
	root="$E2E_TMP/root$n"
	make_root "$root"
	(
		cd "$root"
		# the reader's shell: no test settings
		unset REDRESS_DATA REDRESS_WORKFLOWS REDRESS_NOW REDRESS_KINDS REDRESS_POLICY
		DATA=./redress-data LISTEN=127.0.0.1:0 REDRESS=build/redress \
			exec sh examples/run.sh
	) >"$E2E_TMP/doc$n.out" 2>"$E2E_TMP/doc$n.err" &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	eval "PID_doc$n=$SERVER_PID"
	await_server "doc$n"
	(
		cd "$root"
		unset REDRESS_DATA REDRESS_WORKFLOWS REDRESS_NOW REDRESS_KINDS REDRESS_POLICY
		DOC_TEST_ADDR="127.0.0.1:$SERVER_PORT" DOC_TEST_SERVER_OUTPUT="$E2E_TMP/doc$n.out" \
			DOC_TEST_PROGRESS="$E2E_TMP/progress$n" \
			exec bash "$DOCTEST" "$REDRESS_SOURCE_DIR/$doc" "$doc"
	) &
	doctest_pid=$!
	# a command that hangs stops its document, not the whole suite
	for _ in $(seq $((DOC_TIMEOUT * 10))); do
		kill -0 "$doctest_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$doctest_pid" 2>/dev/null; then
		pkill -KILL -P "$doctest_pid" 2>/dev/null || true
		kill -KILL "$doctest_pid" 2>/dev/null || true
		fail "$doc: stopped after $DOC_TIMEOUT s, in the command at $(cat "$E2E_TMP/progress$n" 2>/dev/null)"
	fi
	set +e
	wait "$doctest_pid"
	status=$?
	set -e
	if [ "$status" = 0 ]; then ok; else fail "$doc: its shell blocks do not run as written (above)"; fi
	stop_server "doc$n"
	expect_eq "$STOP_CODE" "0" "$doc: the server stops cleanly"
done

finish
