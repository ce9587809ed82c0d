#!/usr/bin/env bash
# `--store` and REDRESS_STORE choose the record on every command: an
# embedded database kept outside the data directory is where init, the CLI,
# the server and reindex all read and write, the data directory keeping
# only the evidence files and the mirror; a PostgreSQL database (of the
# suite's server, REDRESS_TEST_PG_STATE) takes the same commands, while
# `redress backup` and `reindex` refuse it saying what to use instead; a
# URI's password never reaches a message.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

record="$E2E_TMP/records/dispute-record.db"
mkdir -p "$E2E_TMP/records"

expect_exit 0 rd --store "$record" init
[ -f "$record" ] && ok || fail "init --store made no record at $record"
[ ! -e "$REDRESS_DATA/redress.db" ] && ok ||
	fail "init --store made a record in the data directory too"
[ -d "$REDRESS_DATA/blobs" ] && ok || fail "the data directory holds the evidence files"

# the environment variable stands for the option
export REDRESS_STORE="$record"
id=$(open_dispute)
expect_eq "${#id}" "26" "a dispute opened with REDRESS_STORE"
expect_exit 0 rd event "$id" investigate --as agent:alice
expect_eq "$(sqlite3 "$record" "SELECT state FROM disputes WHERE id = '$id'")" \
	"investigating" "the event is in the record named by REDRESS_STORE"

# the server reads the same record
admin=$(new_key admin)
start_server s --sweep-interval 0
call "$admin" GET "/v1/disputes/$id"
expect_eq "$STATUS" "200" "the server finds the dispute in the chosen record"
expect_eq "$(jq -r .state <<<"$BODY")" "investigating" "with its state"
stop_server s

# reindex rebuilds the chosen record, beside it
expect_exit 0 rd reindex
expect_has "$OUT" "rebuilt the index of 1 dispute" "reindex of a record outside the data directory"
[ ! -e "$record.reindex" ] && ok || fail "reindex left its fresh file behind"
expect_exit 0 rd show "$id" --json
expect_eq "$(jq -r .state <<<"$OUT")" "investigating" "the dispute survives the reindex"

# --store wins over REDRESS_STORE
other="$E2E_TMP/records/other.db"
expect_exit 0 rd --store "$other" init
expect_exit 0 rd --store "$other" list --json
expect_eq "$(jq '.items | length' <<<"$OUT")" "0" "--store names another, empty record"
unset REDRESS_STORE

# a PostgreSQL record: the same commands, the evidence files and the
# mirror still in the data directory; backup and reindex refused, saying
# what to use instead
pg_db="t_store_option_$$"
uri=$(bash "$REDRESS_SOURCE_DIR/tests/support/pg.sh" createdb "$REDRESS_TEST_PG_STATE" "$pg_db")
export REDRESS_DATA="$E2E_TMP/pg-data"
expect_exit 0 rd --store "$uri" init
[ ! -e "$REDRESS_DATA/redress.db" ] && ok || fail "init on PostgreSQL made an embedded record too"
export REDRESS_STORE="$uri"
id=$(open_dispute)
expect_exit 0 rd event "$id" investigate --as agent:alice
expect_eq "$(psql -X -A -t "$uri" -c "SELECT state FROM disputes WHERE id = '$id'")" \
	"investigating" "the event is in PostgreSQL"
add_evidence "$id" photo
expect_exit 0 rd audit verify --all
mirror_wait "$id"
expect_eq "$(git --git-dir="$REDRESS_DATA/evidence.git" log --format=%s "refs/disputes/$id" | wc -l | tr -d ' ')" \
	"3" "the mirror holds the dispute's three commits"
expect_exit 3 rd backup --to "$E2E_TMP/pg-backup"
expect_has "$ERR" "pg_dump" "backup of a PostgreSQL record names PostgreSQL's tools"
expect_exit 3 rd reindex
expect_has "$ERR" "embedded record" "reindex of a PostgreSQL record is refused"
unset REDRESS_STORE
bash "$REDRESS_SOURCE_DIR/tests/support/pg.sh" dropdb "$REDRESS_TEST_PG_STATE" "$pg_db"

# a password given in the URI is never shown
pg="postgresql://redress:n0t-shown@127.0.0.1:1/redress?connect_timeout=2"
expect_exit 11 rd --store "$pg" list
expect_has "$ERR" "cannot connect to PostgreSQL at postgresql://redress:***@127.0.0.1:1/redress" \
	"an unreachable PostgreSQL is named, with its own exit status"
case "$ERR" in *n0t-shown*) fail "the password is shown: $ERR" ;; *) ok ;; esac
expect_eq "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" "1" "the failure is one line"

finish
