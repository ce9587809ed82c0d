#!/usr/bin/env bash
# Schema 21 makes key names unique per role among live keys. A record of
# schema 20 whose live keys share names (earlier releases allowed it)
# upgrades without failing: the oldest key of each (role, name) keeps it,
# every other is renamed NAME~ID6 (a name too long for that is cut to 14
# characters first); revoked keys and other roles keep theirs; afterwards
# the name is refused to a new key, and the renamed key still works.
set -e
. "$(dirname "$0")/lib.bash"

rd init >/dev/null
long=$(printf 'x%.0s' $(seq 64))   # 64 bytes, the longest name
key_id() { rd key create "$@" --json | jq -r .id; }
a1=$(REDRESS_NOW=2026-03-01T00:00:00Z key_id --role agent --name alice)
a2=$(REDRESS_NOW=2026-03-01T01:00:00Z key_id --role agent --name alice2)
a3=$(REDRESS_NOW=2026-03-01T02:00:00Z key_id --role agent --name alice3)
l1=$(REDRESS_NOW=2026-03-01T00:00:00Z key_id --role agent --name "$long")
l2=$(REDRESS_NOW=2026-03-01T01:00:00Z key_id --role agent --name long2)
au=$(key_id --role auditor --name alice3)
rv=$(key_id --role agent --name alice4)
rd key revoke "$rv" >/dev/null

# back to schema 20, with the duplicates an earlier release could hold
if on_postgres; then
	back="ALTER TABLE idempotency DROP CONSTRAINT idempotency_bulk_check;
		ALTER TABLE idempotency DROP CONSTRAINT idempotency_dispute_check;
		UPDATE redress_schema SET version = 20;"
else
	back="PRAGMA user_version = 20;"
fi
record_sql "DROP INDEX api_keys_live_name; DROP INDEX disputes_assignee_open;
	DROP INDEX disputes_unassigned;
	UPDATE api_keys SET name = 'alice' WHERE id IN ('$a2', '$a3', '$rv');
	UPDATE api_keys SET name = '$long' WHERE id = '$l2';
	UPDATE api_keys SET name = 'alice' WHERE id = '$au';
	$back" >/dev/null

expect_exit 0 rd key list --json
names=$(jq -c '[.keys[] | {(.id): .name}] | add' <<<"$OUT")
expect_eq "$(jq -r --arg id "$a1" '.[$id]' <<<"$names")" "alice" "the oldest keeps its name"
expect_eq "$(jq -r --arg id "$a2" '.[$id]' <<<"$names")" "alice~${a2:0:6}" "a later one is told apart by its id"
expect_eq "$(jq -r --arg id "$a3" '.[$id]' <<<"$names")" "alice~${a3:0:6}" "each later one"
expect_eq "$(jq -r --arg id "$l1" '.[$id]' <<<"$names")" "$long" "the oldest long name is kept whole"
expect_eq "$(jq -r --arg id "$l2" '.[$id]' <<<"$names")" "xxxxxxxxxxxxxx~${l2:0:6}" "a long one is cut to fit"
expect_eq "$(jq -r --arg id "$au" '.[$id]' <<<"$names")" "alice" "another role's alice is another identity"
expect_eq "$(jq -r --arg id "$rv" '.[$id]' <<<"$names")" "alice" "a revoked key keeps its name"
if on_postgres; then
	expect_eq "$(record_sql 'SELECT version FROM redress_schema')" "23" "schema 23"
else
	expect_eq "$(record_sql 'PRAGMA user_version')" "23" "schema 23"
fi
expect_exit 3 rd key create --role agent --name alice
expect_has "$ERR" "already named alice" "the name is unique from now on"
expect_exit 0 rd assign "$(open_dispute)" "alice~${a2:0:6}" --as admin:root
ok # the renamed key's name is an agent's

finish
