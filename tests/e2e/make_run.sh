#!/usr/bin/env bash
# `make run`'s script, examples/run.sh, on a fresh data directory and a free
# port: the first run creates the directory and two demo keys, prints them
# and serves; the printed keys work (the admin key lists workflows, the
# storefront key lists its payables and only its own); the keys file is
# mode 0600 and holds them; a second run prints the same keys, which still
# work; a keys file that holds no keys stops the script before it serves.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

RUN_SH="$REDRESS_SOURCE_DIR/examples/run.sh"
DATA_DIR="$E2E_TMP/shop-data"

# start_run N: run the script in the background as server runN (its output
# in runN.out), wait for the server's announcement; the output in $RUN_OUT
start_run() {
	DATA="$DATA_DIR" LISTEN=127.0.0.1:0 launch_command "run$1" sh "$RUN_SH"
	await_server "run$1"
	RUN_OUT=$(cat "$E2E_TMP/run$1.out")
}

# stop_run N: SIGTERM to the server the script became; it must exit 0
stop_run() {
	stop_server "run$1"
	expect_eq "$STOP_CODE" "0" "the server stops cleanly"
}

# printed LABEL: the key printed on the line starting with LABEL
printed() {
	sed -n "s/^  $1 *\(rdk_[A-Za-z0-9_-]*\)\$/\1/p" <<<"$RUN_OUT"
}

check_keys_work() { # ADMIN SHOP WHEN
	call "$1" GET /v1/workflows
	expect_eq "$STATUS" "200" "$3: the admin key lists workflows"
	expect_eq "$(jq -r '.workflows[0].name' <<<"$BODY")" "dispute" "$3: workflows listed"
	call "$2" GET /v1/payables
	expect_eq "$STATUS" "200" "$3: the storefront key lists payables"
	expect_eq "$(jq -c . <<<"$BODY")" '{"payables":[],"next_cursor":null}' "$3: nothing to pay yet"
	call "$2" GET '/v1/payables?storefront=acme-eu'
	expect_eq "$STATUS" "403" "$3: the storefront key is scoped to demo-shop"
	call "$2" GET '/v1/payables?storefront=demo-shop'
	expect_eq "$STATUS" "200" "$3: its own storefront by name"
	call "$2" GET /v1/workflows
	expect_eq "$STATUS" "200" "$3: the storefront key reads workflows"
}

# --- first run ----------------------------------------------------------------
[ ! -e "$DATA_DIR" ] || fail "the data directory exists before the first run"
start_run 1
admin=$(printed "admin key")
shop=$(printed "storefront key (demo-shop)")
expect_has "$admin" "rdk_" "the admin key is printed"
expect_has "$shop" "rdk_" "the storefront key is printed"
expect_has "$RUN_OUT" "First run: created $DATA_DIR" "the first run says so"
expect_has "$RUN_OUT" "$DATA_DIR/demo-keys.env (mode 0600)" "the output names the keys file"
expect_has "$RUN_OUT" "redress key create" "production keys are pointed to key create"
expect_has "$RUN_OUT" "Bearer $shop\" http://127.0.0.1:PORT/v1/payables" "a curl example"
expect_eq "$(stat -c %a "$DATA_DIR/demo-keys.env")" "600" "the keys file is mode 0600"
expect_eq "$(stat -c %a "$DATA_DIR")" "700" "the data directory is mode 0700"
expect_eq "$(grep -c rdk_ "$DATA_DIR/demo-keys.env")" "2" "the file holds two keys"
expect_has "$(cat "$DATA_DIR/demo-keys.env")" "REDRESS_ADMIN_KEY=$admin" "the file holds the admin key"
expect_has "$(cat "$DATA_DIR/demo-keys.env")" "REDRESS_STOREFRONT_KEY=$shop" "the file holds the storefront key"
[ ! -e "$DATA_DIR/demo-keys.env.tmp" ] && ok || fail "a temporary keys file was left"
check_keys_work "$admin" "$shop" "first run"
stop_run 1

# the keys are what the index says: an admin and a demo-shop storefront key
keys=$(rd key list --data "$DATA_DIR" --json)
expect_eq "$(jq -r '[.keys[] | .role + ":" + (.storefront // "-") + ":" + .name] | sort | join(" ")' <<<"$keys")" \
	"admin:-:demo-admin storefront:demo-shop:demo-shop" "two demo keys stored"

# --- second run: the same keys ---------------------------------------------------
start_run 2
expect_has "$RUN_OUT" "Using $DATA_DIR and its demo keys from $DATA_DIR/demo-keys.env" "the second run reuses the keys"
expect_eq "$(printed "admin key")" "$admin" "the same admin key"
expect_eq "$(printed "storefront key (demo-shop)")" "$shop" "the same storefront key"
expect_eq "$(rd key list --data "$DATA_DIR" --json | jq '.keys | length')" "2" "no new key made"
check_keys_work "$admin" "$shop" "second run"
stop_run 2

# --- a keys file without keys: refused, nothing served ----------------------------
printf 'REDRESS_ADMIN_KEY=\n' >"$DATA_DIR/demo-keys.env"
set +e
DATA="$DATA_DIR" LISTEN=127.0.0.1:0 sh "$RUN_SH" >"$E2E_TMP/run-3.out" 2>"$E2E_TMP/run-3.err"
code=$?
set -e
expect_eq "$code" "1" "a broken keys file stops the script"
expect_has "$(cat "$E2E_TMP/run-3.err")" "does not hold the two demo keys" "and says why"
if grep -q "listening" "$E2E_TMP/run-3.out"; then fail "served with a broken keys file"; else ok; fi

finish
