#!/usr/bin/env bash
# Every kind of bad input gets one clear line naming the problem, its own
# exit status, and leaves the database exactly as it was.
set -e
. "$(dirname "$0")/lib.bash"

rd init >/dev/null
id=$(open_dispute)
ev "$id" investigate
before=$(dump)

# refused CODE NEEDLE COMMAND...: exit CODE, one stderr line containing
# NEEDLE, and no change to the database.
refused() {
	local code=$1 needle=$2
	shift 2
	expect_exit "$code" "$@"
	expect_has "$ERR" "$needle" "message of '$*'"
	expect_eq "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" "1" "one line for '$*'"
	expect_eq "$(dump)" "$before" "database unchanged by '$*'"
}

doc() { # JQ-FILTER -> a file holding the edited example document
	jq "$1" "$REDRESS_SOURCE_DIR/examples/dispute.json" >"$E2E_TMP/doc.json"
	echo "$E2E_TMP/doc.json"
}

printf '{"order_ref": "x",' >"$E2E_TMP/truncated.json"
refused 3 "line" rd open "$E2E_TMP/truncated.json"
printf '[1, 2]' >"$E2E_TMP/array.json"
refused 3 "object" rd open "$E2E_TMP/array.json"
refused 3 "colour" rd open "$(doc '.colour = "red"')"
refused 3 "order_ref" rd open "$(doc 'del(.order_ref)')"
refused 3 "reason" rd open "$(doc '.reason = "bored"')"
refused 3 "currency" rd open "$(doc '.currency = "ABC"')"
refused 3 "shipping_paid" rd open "$(doc '.shipping_paid = -5')"
refused 3 "unit_price" rd open "$(doc '.items[0].unit_price = 2000000000000000')"
refused 3 "unit_price" rd open "$(doc '.items[0].unit_price = "100"')"
refused 3 "items" rd open "$(doc '.items = []')"
refused 3 "quantity" rd open "$(doc '.items[0].quantity = 0')"
refused 3 "state" rd open "$(doc '.state = "resolved"')"
printf '{"order_ref": "a", "order_ref": "b"}' >"$E2E_TMP/dup.json"
refused 3 "duplicate" rd open "$E2E_TMP/dup.json"
refused 4 "no-such-file" rd open "$E2E_TMP/no-such-file.json"
# nesting past the parser's depth, a document over 1 MiB, NUL bytes raw and
# escaped, bytes that are not UTF-8, control characters
{ printf '%*s' 100000 '' | tr ' ' '['; printf '%*s' 100000 '' | tr ' ' ']'; } >"$E2E_TMP/deep.json"
refused 3 "maximum parsing depth" rd open "$E2E_TMP/deep.json"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$E2E_TMP/huge.json"
refused 3 "larger than 1048576 bytes" rd open "$E2E_TMP/huge.json"
printf '{"order_ref": "a\0b"}' >"$E2E_TMP/nul.json"
refused 3 "NUL byte" rd open "$E2E_TMP/nul.json"
refused 3 "holds \\u0000" rd open "$(doc '.description = "a\u0000b"')"
printf '{"order_ref": "\xff"}' >"$E2E_TMP/latin1.json"
refused 3 "not valid UTF-8" rd open "$E2E_TMP/latin1.json"
refused 3 "control characters" rd open "$(doc '.order_ref = "ORD\u0007"')"

refused 4 "01ARZ3NDEKTSV4RRFFQ69G5FAV" rd show 01ARZ3NDEKTSV4RRFFQ69G5FAV
refused 4 "not a dispute id" rd show ../../etc
refused 4 "not a dispute id" rd event ../../refs/heads/main investigate
refused 4 "not a dispute id" rd evidence add ../x "$(sample_file note)" --kind note
refused 3 "plain name" rd evidence add "$id" "$(sample_file note)" --kind note --name ../../etc/passwd
refused 3 "dance" rd event "$id" dance
refused 6 "not allowed in state" rd event "$id" refund_issued --field payment_ref=P
offer=$(offer_for "$id" refund_keep_item)
refused 6 "offer_id" rd event "$id" make_offer
refused 6 "offer_id" rd event "$id" make_offer --field type=refund_keep_item
refused 6 "not among the offers" rd event "$id" make_offer --field offer_id=v2-voucher-100
refused 6 "not among the offers" rd event "$id" make_offer --field offer_id=v1-refund_keep_item-11500
refused 5 "version" rd event "$id" make_offer --field offer_id="$offer" --if-version 1
refused 7 "role" rd event "$id" make_offer --field offer_id="$offer" --as auditor:eve
refused 2 "system" rd event "$id" escalate --as system:me
refused 3 "--as" rd event "$id" escalate --as nobody
refused 2 "unknown option" rd event "$id" escalate --bogus
refused 2 "usage" rd event "$id"
refused 2 "unknown command" rd frobnicate
refused 2 "NAME=VALUE" rd event "$id" make_offer --field offer_id
refused 3 "twice" rd event "$id" make_offer --field offer_id="$offer" --field offer_id="$offer"
refused 3 "REDRESS_NOW" env REDRESS_NOW=yesterday "$REDRESS" show "$id"
refused 3 "cursor" rd list --cursor not-a-cursor
refused 3 "reason" rd list --reason bored
refused 2 "limit" rd list --limit 0
refused 4 "redress init" rd --data "$E2E_TMP/nowhere" list

# The dispute is still usable after all that.
ev "$id" make_offer --field offer_id="$offer" --if-version 2
expect_exit 6 rd event "$id" counter_offer
expect_has "$ERR" "amount" "a counter needs an amount"
expect_exit 3 rd event "$id" counter_offer --field amount=12.345
expect_has "$ERR" "amount" "a counter amount in the currency"
expect_eq "$(state_of "$id")" "offer_pending/-" "still works"

# Help names every command and the exit codes.
expect_exit 0 rd --help
for cmd in init open show list event sweep workflows; do
	expect_has "$OUT" "$cmd" "help lists $cmd"
done
expect_has "$OUT" "Exit status" "help documents exit codes"
expect_exit 0 rd event --help
expect_has "$OUT" "--if-version" "event help lists its options"

finish
