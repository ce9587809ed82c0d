# Shared helpers of the end-to-end tests: a fresh data directory, the real
# redress binary, and assertions on exit codes, output and stored rows.
set -u

: "${REDRESS:?REDRESS must point to the redress binary}"
: "${REDRESS_TOOLS:?REDRESS_TOOLS must point to the test tools}"
: "${REDRESS_SOURCE_DIR:?REDRESS_SOURCE_DIR must point to the source tree}"

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/redress-e2e-XXXXXX")

# On PostgreSQL (ctest's NAME@pg runs, REDRESS_TEST_STORE=postgresql), the
# test's record is a new database of the suite's server (tests/support/pg.sh),
# named by REDRESS_STORE for every command and dropped when the test ends.
E2E_PG_DB=""
if [ "${REDRESS_TEST_STORE:-}" = postgresql ]; then
	E2E_PG_DB="t_e2e_$$_${RANDOM}"
	REDRESS_STORE=$(bash "$REDRESS_SOURCE_DIR/tests/support/pg.sh" createdb \
		"${REDRESS_TEST_PG_STATE:?names the PostgreSQL of the suite}" "$E2E_PG_DB") ||
		{ echo "cannot make a PostgreSQL database for the test" >&2; exit 1; }
	export REDRESS_STORE
fi

# e2e_cleanup: the exit trap (server.bash's calls it too)
e2e_cleanup() {
	rm -rf "$E2E_TMP"
	if [ -n "$E2E_PG_DB" ]; then
		bash "$REDRESS_SOURCE_DIR/tests/support/pg.sh" dropdb \
			"$REDRESS_TEST_PG_STATE" "$E2E_PG_DB" || true
	fi
}
trap e2e_cleanup EXIT
export REDRESS_DATA="$E2E_TMP/data"
export REDRESS_WORKFLOWS="$REDRESS_SOURCE_DIR/workflows"
export REDRESS_NOW="2026-03-02T09:00:00Z"
# A command without --as acts as agent:$USER: as alice here, the agent
# open_dispute acts as, so that a dispute she investigates (and is thereby
# assigned) takes the tests' other commands too (assignment is exclusive).
export USER=alice
FAILURES=0
CHECKS=0

fail() {
	echo "FAIL: $*" >&2
	FAILURES=$((FAILURES + 1))
}

ok() {
	CHECKS=$((CHECKS + 1))
}

rd() {
	"$REDRESS" "$@"
}

# expect_exit CODE COMMAND...: run, compare the exit status, keep the output
# in $OUT and the error line in $ERR.
expect_exit() {
	local want=$1 got
	shift
	set +e
	OUT=$("$@" 2>"$E2E_TMP/stderr")
	got=$?
	set -e
	ERR=$(cat "$E2E_TMP/stderr")
	if [ "$got" != "$want" ]; then
		fail "'$*' exited $got, expected $want (stderr: $ERR)"
	else
		ok
	fi
}

# expect_has TEXT NEEDLE DESCRIPTION
expect_has() {
	case "$1" in
	*"$2"*) ok ;;
	*) fail "$3: \"$1\" lacks \"$2\"" ;;
	esac
}

# expect_eq ACTUAL EXPECTED DESCRIPTION
expect_eq() {
	if [ "$1" = "$2" ]; then ok; else fail "$3: got \"$1\", expected \"$2\""; fi
}

# on_postgres: true when the test's record is in PostgreSQL (NAME@pg)
on_postgres() {
	[ -n "$E2E_PG_DB" ]
}

# record_sql QUERY: one query on the test's record, its rows printed with
# columns separated by '|' (sqlite3's way): REDRESS_STORE when it is set
# (a PostgreSQL URI, as in an @pg run, or a file), else the data
# directory's redress.db. Queries that both engines read alike only.
record_sql() {
	case "${REDRESS_STORE:-}" in
	postgres://* | postgresql://*)
		psql -X -q -A -t -v ON_ERROR_STOP=1 "$REDRESS_STORE" -c "$1" ;;
	*)
		sqlite3 "${REDRESS_STORE:-$REDRESS_DATA/redress.db}" "$1" ;;
	esac
}

dump() {
	"$REDRESS_TOOLS/rd-dump" "$REDRESS_DATA"
}

# new_key ROLE [key create options...]: create an API key of ROLE (with
# --name, --storefront...) and print its secret
new_key() {
	local role=$1
	shift
	rd key create --role "$role" "$@" --json 2>/dev/null | jq -r .key
}

# sample_file KIND -> the path of a small file of content that KIND allows
sample_file() {
	local f="$E2E_TMP/sample-$1"
	case "$1" in
	photo)
		# a 1x1 PNG
		printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82' >"$f.png"
		f="$f.png" ;;
	*)
		printf 'Carrier scan 2026-03-01 10:00 UTC: parcel delivered to sender depot.\nSigned: J. Smith\n' >"$f.txt"
		f="$f.txt" ;;
	esac
	echo "$f"
}

add_evidence() { # ID KIND [extra options]
	local id=$1 kind=$2
	shift 2
	if ! rd evidence add "$id" "$(sample_file "$kind")" --kind "$kind" \
		--channel carrier --captured-at 2026-03-01T10:00:00Z "$@" \
		>/dev/null 2>"$E2E_TMP/stderr"; then
		fail "evidence $kind on $id refused: $(cat "$E2E_TMP/stderr")"
	fi
}

# open_dispute [JQ-FILTER]: open the example dispute, edited by the filter;
# prints the new id. Tests open it many times over: each time on purpose
# (--allow-duplicate), while the first is still open.
open_dispute() {
	jq "${1:-.}" "$REDRESS_SOURCE_DIR/examples/dispute.json" |
		rd open - --as agent:alice --allow-duplicate --json | jq -r .id
}

# offer_for ID TYPE [AMOUNT]: the id of the proposed offer of TYPE (with this
# refund, or co-pay for a reshipment, in minor units)
offer_for() {
	rd offers "$1" --json | jq -r --arg type "$2" --arg amount "${3:-}" '
		[.offers[] | select(.type == $type) |
		 select($amount == "" or
			((if .type == "reshipment" then .buyer_copay else .buyer_refund end)
			 | tostring) == $amount)][0].offer_id // ""'
}

# state_of ID
state_of() {
	rd show "$1" --json | jq -r '.state + "/" + (.outcome // "-")'
}

# ev ID EVENT ARGS...: apply an event that must succeed
ev() {
	local id=$1 event=$2
	shift 2
	if ! rd event "$id" "$event" "$@" >/dev/null 2>"$E2E_TMP/stderr"; then
		fail "event $event on $id refused: $(cat "$E2E_TMP/stderr")"
	else
		ok
	fi
}

finish() {
	echo "$CHECKS passed, $FAILURES failed"
	[ "$FAILURES" -eq 0 ]
}

# mirror_wait [ID]: wait (up to 10 s) until evidence.git, the mirror, holds
# the record's head of dispute ID (of every dispute when no ID is given):
# a server's mirror writer follows the record within about 200 ms, a
# command updates it before it ends.
mirror_wait() {
	local git="$REDRESS_DATA/evidence.git"
	local i want have
	for i in $(seq 1 200); do
		if [ -n "${1:-}" ]; then
			want=$(record_sql "SELECT head FROM refs WHERE dispute_id = '$1'")
			have=$(git --git-dir="$git" rev-parse -q --verify "refs/disputes/$1" 2>/dev/null || true)
			[ -n "$want" ] && [ "$want" = "$have" ] && return 0
		else
			# the last commit: on PostgreSQL commits are numbered
			# apart from changes (schema 15)
			if on_postgres; then
				want=$(record_sql "SELECT coalesce(max(n), 0) FROM commits")
			else
				want=$(record_sql "SELECT coalesce(max(seq), 0) FROM changes")
			fi
			have=$(record_sql "SELECT position FROM mirror_state")
			[ "$want" = "$have" ] && [ -d "$git" ] && return 0
		fi
		sleep 0.05
	done
	fail "the mirror did not catch up with the record within 10 s (${1:-all})"
	return 1
}
