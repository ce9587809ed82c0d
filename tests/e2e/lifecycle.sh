#!/usr/bin/env bash
# One dispute per resolution branch through the real binary, plus escalation
# by SLA deadline and withdrawal.
set -e
. "$(dirname "$0")/lib.bash"

rd init >/dev/null

# --- refund, buyer keeps the item ---------------------------------------
id=$(open_dispute)
expect_eq "$(state_of "$id")" "opened/-" "new dispute"
# options may stand before the command as well as after its arguments
expect_eq "$(rd --json --data "$REDRESS_DATA" show "$id" | jq -r .state)" "opened" "options first"
expect_eq "$(rd show "$id" --json | jq -r .version)" "1" "version at open"
expect_eq "$(rd show "$id" --json | jq -r .deadline.at)" "2026-03-03T09:00:00Z" "first-response SLA"
ev "$id" investigate --as agent:alice
expect_eq "$(rd show "$id" --json | jq -r .assignee)" "alice" "investigate assigns"
expect_exit 0 rd offers "$id"
expect_has "$OUT" "refund_keep_item" "offers lists the refund"
ev "$id" make_offer --field offer_id="$(offer_for "$id" refund_keep_item)"
expect_eq "$(state_of "$id")" "offer_pending/-" "offer made"
ev "$id" accept_offer --as storefront:acme-eu
expect_eq "$(state_of "$id")" "refund_pending/-" "refund branch"
expect_exit 6 rd event "$id" refund_issued --as storefront:acme-eu
expect_has "$ERR" "payment_ref" "refund without payment reference"
expect_has "$ERR" "[guard: fields]" "the failed guard is named"
ev "$id" refund_issued --as storefront:acme-eu --field payment_ref=PAY-1
expect_eq "$(state_of "$id")" "resolved/refunded" "refunded"
expect_eq "$(rd show "$id" --json | jq -r .version)" "5" "one version per change"
expect_eq "$(rd show "$id" --json | jq -r .deadline)" "null" "no deadline when resolved"
expect_exit 6 rd event "$id" withdraw
expect_has "$ERR" "resolved" "terminal state stays terminal"
rd show "$id" >"$E2E_TMP/show.txt"
expect_has "$(cat "$E2E_TMP/show.txt")" "refund_issued" "show lists events"
expect_has "$(cat "$E2E_TMP/show.txt")" "115.00" "show formats the refund"

# --- refund after the item comes back -----------------------------------
# (the buyer changed their mind: only a refund after return is offered, the
# buyer paying the return label)
id=$(open_dispute '.reason = "changed_mind"')
ev "$id" investigate
expect_eq "$(rd offers "$id" --json | jq -r '[.offers[].type] | unique | join(",")')" "refund_with_return" "changed_mind: return only"
ev "$id" make_offer --field offer_id="$(offer_for "$id" refund_with_return)"
ev "$id" accept_offer
expect_eq "$(state_of "$id")" "awaiting_return/-" "return branch"
expect_eq "$(rd show "$id" --json | jq -r .deadline.event)" "escalate" "return SLA"
expect_exit 6 rd event "$id" return_received
expect_has "$ERR" "evidence" "return needs proof of receipt"
add_evidence "$id" inspection_report
ev "$id" return_received
ev "$id" refund_issued --field payment_ref=PAY-2
expect_eq "$(state_of "$id")" "resolved/refunded" "refunded after return"

# --- reshipment with a buyer co-pay -------------------------------------
id=$(open_dispute)
ev "$id" investigate
ev "$id" make_offer --field offer_id="$(offer_for "$id" reshipment 7000)"
offer=$(rd show "$id" | grep -c "^  o-[0-9a-f]\{8\}-reshipment-7000 *reshipment .*\[made\]" || true)
expect_eq "$offer" "1" "reshipment offer listed"
ev "$id" accept_offer --as storefront:acme-eu
expect_eq "$(state_of "$id")" "reshipment_pending/-" "reshipment branch"
add_evidence "$id" photo
expect_exit 6 rd event "$id" shipment_sent --field tracking_number=TRK1
expect_has "$ERR" "tracking_record" "a photo is not tracking"
add_evidence "$id" tracking_record
rd evidence withdraw "$id" 2 --reason "wrong parcel" >/dev/null
expect_exit 6 rd event "$id" shipment_sent --field tracking_number=TRK1
expect_has "$ERR" "tracking_record" "withdrawn evidence does not count"
add_evidence "$id" tracking_record
expect_exit 6 rd event "$id" shipment_sent
expect_has "$ERR" "tracking_number" "tracking number required"
ev "$id" shipment_sent --field tracking_number=TRK1
ev "$id" reshipment_lost
expect_eq "$(state_of "$id")" "investigating/-" "lost again goes back"
ev "$id" make_offer --field offer_id="$(offer_for "$id" reshipment)"
ev "$id" accept_offer
ev "$id" shipment_sent --field tracking_number=TRK2
ev "$id" delivery_confirmed --as storefront:acme-eu
expect_eq "$(state_of "$id")" "resolved/reshipped" "reshipped"

# --- partial discount, after a counter-offer ----------------------------
id=$(open_dispute)
ev "$id" investigate
expect_exit 6 rd event "$id" make_offer --field offer_id=v2-partial_discount-1500
expect_has "$ERR" "redress offers" "only proposed offers can be made"
ev "$id" make_offer --field offer_id="$(offer_for "$id" partial_discount 1000)"
ev "$id" counter_offer --field amount=25.00 --as storefront:acme-eu --note "buyer asks 25"
expect_eq "$(state_of "$id")" "offer_pending/-" "a dear counter gets the next rung"
expect_eq "$(rd show "$id" | grep -c 'partial_discount .*refund 20.00.*\[made\]' || true)" "1" "the next rung is offered"
ev "$id" counter_offer --field amount=25.00 --as storefront:acme-eu --note "buyer insists"
expect_eq "$(state_of "$id")" "discount_pending/-" "a counter within the next rung is accepted"
ev "$id" discount_issued --field payment_ref=PAY-3 --as storefront:acme-eu
expect_eq "$(state_of "$id")" "resolved/discounted" "discounted"
rd show "$id" >"$E2E_TMP/show.txt"
expect_has "$(cat "$E2E_TMP/show.txt")" "countered" "the first offer was countered"
expect_has "$(cat "$E2E_TMP/show.txt")" "25.00" "the agreed amount"
expect_has "$(cat "$E2E_TMP/show.txt")" "system:offers" "accepted by the engine"

# --- escalation by SLA, and withdrawal ----------------------------------
late=$(open_dispute)
other=$(open_dispute)
ev "$other" investigate
export REDRESS_NOW="2026-03-03T08:59:59Z"
expect_eq "$(rd sweep --json | jq -r .fired)" "0" "nothing due before the SLA"
export REDRESS_NOW="2026-03-03T09:00:00Z"
expect_eq "$(rd list --overdue --json | jq -r '.disputes | length')" "1" "one overdue"
expect_eq "$(rd sweep --json | jq -r .fired)" "1" "the SLA fires"
expect_eq "$(state_of "$late")" "escalated/-" "escalated by SLA"
expect_eq "$(rd show "$late" --json | jq -r .version)" "2" "the escalation is a change"
before=$(dump)
expect_eq "$(rd sweep --json | jq -r .fired)" "0" "a second sweep fires nothing"
expect_eq "$(dump)" "$before" "a second sweep changes nothing"
expect_exit 7 rd event "$late" resume --as agent:bob
ev "$late" resume --as admin:root
ev "$late" withdraw --as storefront:acme-eu --note "buyer withdrew"
expect_eq "$(state_of "$late")" "closed/withdrawn" "withdrawn"

# --- rejection with evidence ---------------------------------------------
expect_exit 6 rd event "$other" reject_dispute --field reason=fraud
expect_has "$ERR" "evidence" "rejecting needs evidence"
add_evidence "$other" chat_transcript
ev "$other" reject_dispute --field reason="buyer confirmed receipt in chat"
expect_eq "$(state_of "$other")" "closed/rejected" "rejected"

# --- listing ---------------------------------------------------------------
expect_eq "$(rd list --json | jq -r '.disputes | length')" "6" "six disputes"
expect_eq "$(rd list --state resolved --json | jq -r '.disputes | length')" "4" "four resolved"
page=$(rd list --limit 4 --json)
cursor=$(echo "$page" | jq -r .next_cursor)
expect_eq "$(rd list --limit 4 --cursor "$cursor" --json | jq -r '.disputes | length')" "2" "second page"

finish
