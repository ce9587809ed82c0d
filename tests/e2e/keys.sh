#!/usr/bin/env bash
# API keys from the command line: a key is printed once at creation and
# never again (not by list, not in the database), revoking works once,
# bad requests name the field at fault and change nothing, and reindex
# keeps every key.
set -e
. "$(dirname "$0")/lib.bash"

rd init >/dev/null
id=$(open_dispute)

# --- create, shown once -------------------------------------------------------
expect_exit 0 rd key create --role storefront --storefront acme-eu --name "Acme shop" --json
created=$OUT
key=$(jq -r .key <<<"$created")
kid=$(jq -r .id <<<"$created")
secret=${key#rdk_"$kid"_}
expect_eq "$(jq -r '[.role, .storefront, .name, .created_at] | join(" ")' <<<"$created")" \
	"storefront acme-eu Acme shop 2026-03-02T09:00:00Z" "created key record"
expect_eq "$(jq -r 'keys_unsorted | join(",")' <<<"$created")" \
	"key,id,name,role,storefront,created_at" "members of key create --json"
expect_eq "${#key}" "64" "key length"
expect_eq "${key:0:21}" "rdk_${kid}_" "key starts with rdk_ and its id"
expect_eq "${#secret}" "43" "secret length"
expect_has "$ERR" "will not be shown again" "key create warns once"

expect_exit 0 rd key create --role agent
human=$OUT
agent_id=$(rd key list --json | jq -r '.keys[] | select(.role == "agent") | .id')
expect_eq "$(grep -c '^key rdk_' <<<"$human")" "1" "human create prints the key line"
expect_eq "$(rd key list --json | jq -r '.keys[] | select(.role == "agent") | .name')" \
	"agent" "name defaults to the role"

# --- list: never the secret or its hash ---------------------------------------
expect_exit 0 rd key list
expect_has "$OUT" "$kid" "human list shows the id"
expect_has "$OUT" "acme-eu" "human list shows the storefront"
case "$OUT" in *"$secret"*) fail "human list shows the secret" ;; *) ok ;; esac
expect_exit 0 rd key list --json
listed=$OUT
expect_eq "$(jq -r '.keys | length' <<<"$listed")" "2" "two keys listed"
expect_eq "$(jq -r '.keys[0] | keys_unsorted | join(",")' <<<"$listed")" \
	"id,name,role,storefront,created_at,revoked_at" "members of a listed key"
case "$listed" in *"$secret"*|*sha256*) fail "list --json shows the secret or its hash" ;; *) ok ;; esac
# the secret is nowhere in the database, only its hash
db=$(dump)
case "$db" in *"$secret"*) fail "the database holds the secret" ;; *) ok ;; esac
expect_has "$db" "id=\"$kid\"" "the database holds the key id"

# --- bad requests name the field and change nothing ---------------------------
before=$(dump)
expect_exit 3 rd key create --role wizard
expect_has "$ERR" "role" "bad role names the field"
expect_exit 3 rd key create --role system
expect_has "$ERR" "role" "system role names the field"
expect_exit 3 rd key create --role storefront
expect_has "$ERR" "storefront" "storefront key without storefront"
expect_exit 3 rd key create --role agent --storefront acme-eu
expect_has "$ERR" "storefront" "agent key with a storefront"
expect_exit 3 rd key create --role storefront --storefront "Acme EU"
expect_has "$ERR" "storefront" "storefront rule"
expect_exit 3 rd key create --role agent --name ""
expect_has "$ERR" "name" "empty name"
expect_exit 2 rd key create
expect_has "$ERR" "--role" "create needs --role"
expect_exit 2 rd key frobnicate
expect_exit 2 rd key list --role agent
expect_exit 3 rd key revoke "$key"
case "$ERR" in *"$secret"*) fail "revoke echoes a pasted key" ;; *) ok ;; esac
expect_eq "$(dump)" "$before" "refused key commands changed nothing"

# --- revoke, once ----------------------------------------------------------------
expect_exit 0 rd key revoke "$agent_id" --json
expect_eq "$(jq -r '.id + " " + .revoked_at' <<<"$OUT")" \
	"$agent_id 2026-03-02T09:00:00Z" "revoke --json"
expect_exit 5 rd key revoke "$agent_id"
expect_has "$ERR" "already revoked" "revoking twice"
expect_exit 4 rd key revoke 0123456789abcdef
expect_eq "$(rd key list --json | jq -r --arg id "$agent_id" '.keys[] | select(.id == $id) | .revoked_at')" \
	"2026-03-02T09:00:00Z" "list shows the revocation"

# --- reindex keeps the keys ----------------------------------------------------
keys_before=$(rd key list --json)
rows_before=$(dump | sed -n '/^\[api_keys\]$/,/^\[/p')
expect_has "$rows_before" "secret_sha256=" "the key rows are in the dump"
expect_exit 0 rd reindex
expect_eq "$(rd key list --json)" "$keys_before" "reindex keeps every key"
expect_eq "$(dump | sed -n '/^\[api_keys\]$/,/^\[/p')" "$rows_before" \
	"reindex keeps the key rows, hashes included"
expect_eq "$(rd show "$id" --json | jq -r .state)" "opened" "disputes survive reindex"

finish
