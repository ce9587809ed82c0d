#!/usr/bin/env bash
# Every open state of the reference workflow (version 4) has a clock, with
# REDRESS_NOW pinning time: investigating escalates after 48 hours; an
# escalated dispute nobody decides on within 24 hours is requeued (it
# leaves its assignee for the claim queue, stays escalated, and its clock
# starts again); resume sets investigating's clock again; a reshipment
# escalates when not shipped within 3 days and when not delivered within
# the carrier's 14 days. The sweeper fires each, as system:sla. A dispute
# opened under an earlier definition (no clock in investigating) keeps it.
set -e
. "$(dirname "$0")/lib.bash"

rd init >/dev/null

deadline() { # ID -> "AT EVENT" or "none"
	rd show "$1" --json | jq -r 'if .deadline then .deadline.at + " " + .deadline.event else "none" end'
}
sweep_at() { # TIME
	REDRESS_NOW=$1 rd sweep >/dev/null
}
last_event() { # ID -> "EVENT ROLE:NAME"
	record_sql "SELECT event || ' ' || actor_role || ':' || actor_name FROM events WHERE dispute_id = '$1' ORDER BY seq DESC LIMIT 1"
}

# --- investigating, escalated, requeue, resume ---------------------------------------
id=$(open_dispute)
expect_eq "$(rd show "$id" --json | jq -r .workflow.version)" "4" "new disputes follow version 4"
ev "$id" investigate --as agent:alice
expect_eq "$(deadline "$id")" "2026-03-04T09:00:00Z escalate" "investigating: 48 hours, then escalate"
sweep_at 2026-03-04T08:59:59Z
expect_eq "$(state_of "$id")" "investigating/-" "not before it is due"
sweep_at 2026-03-04T09:00:00Z
expect_eq "$(state_of "$id")" "escalated/-" "the sweeper escalates it when due"
expect_eq "$(last_event "$id")" "escalate system:sla" "as system:sla"
expect_eq "$(rd show "$id" --json | jq -r .assignee)" "alice" "still alice's"
expect_eq "$(deadline "$id")" "2026-03-05T09:00:00Z requeue" "escalated: 24 hours, then requeue"
sweep_at 2026-03-05T09:00:00Z
expect_eq "$(state_of "$id")" "escalated/-" "requeued, still escalated"
expect_eq "$(last_event "$id")" "requeue system:sla" "requeue by system:sla"
expect_eq "$(rd show "$id" --json | jq -r '.assignee // "none"')" "none" "it left its assignee"
expect_eq "$(deadline "$id")" "2026-03-06T09:00:00Z requeue" "and its clock started again"
claimed=$(REDRESS_NOW=2026-03-05T10:00:00Z rd claim --as agent:bob --json | jq -r .id)
expect_eq "$claimed" "$id" "back in the claim queue: bob claims it"
REDRESS_NOW=2026-03-05T11:00:00Z ev "$id" resume --as admin:root
expect_eq "$(state_of "$id")" "investigating/-" "an admin resumes it"
expect_eq "$(deadline "$id")" "2026-03-07T11:00:00Z escalate" "resume sets investigating's clock again"

# --- reshipment_pending and reshipped -------------------------------------------------
ship=$(open_dispute '.order_ref = "ORD-7001"')
ev "$ship" investigate --as agent:alice
offer=$(offer_for "$ship" reshipment)
[ -n "$offer" ] || fail "no reshipment offer proposed"
ev "$ship" make_offer --field offer_id="$offer" --as agent:alice
ev "$ship" accept_offer --as storefront:acme-eu
expect_eq "$(state_of "$ship")" "reshipment_pending/-" "a reshipment agreed"
expect_eq "$(deadline "$ship")" "2026-03-05T09:00:00Z escalate" "reshipment_pending: 3 days to ship"
add_evidence "$ship" tracking_record --as agent:alice
ev "$ship" shipment_sent --field tracking_number=1Z999 --as agent:alice
expect_eq "$(deadline "$ship")" "2026-03-16T09:00:00Z escalate" "reshipped: the carrier's 14 days"
sweep_at 2026-03-16T08:59:59Z
expect_eq "$(state_of "$ship")" "reshipped/-" "not before"
sweep_at 2026-03-16T09:00:00Z
expect_eq "$(state_of "$ship")" "escalated/-" "escalated after the carrier's window"

late=$(open_dispute '.order_ref = "ORD-7002"')
ev "$late" investigate --as agent:alice
ev "$late" make_offer --field offer_id="$(offer_for "$late" reshipment)" --as agent:alice
ev "$late" accept_offer --as storefront:acme-eu
sweep_at 2026-03-05T09:00:00Z
expect_eq "$(state_of "$late")" "escalated/-" "a reshipment not sent in 3 days escalates"

# --- every open state has a clock --------------------------------------------------------
expect_eq "$(jq -r '[.states | to_entries[] | select(.value.terminal != true) | select(.value.sla == null) | .key] | length' \
	"$REDRESS_SOURCE_DIR/workflows/dispute.json")" "0" "no open state without an SLA"

# --- a dispute of an earlier definition keeps its clocks ---------------------------------
old="$E2E_TMP/old-workflows"
mkdir -p "$old"
# the earlier definition: investigating, escalated and the reshipment states
# without a clock (as version 3 had them)
jq '.version = 3 | del(.states.investigating.sla, .states.escalated.sla,
	.states.reshipment_pending.sla, .states.reshipped.sla)
	| .transitions |= map(select(.event != "requeue"))' \
	"$REDRESS_SOURCE_DIR/workflows/dispute.json" >"$old/dispute.json"
cp "$REDRESS_SOURCE_DIR/workflows/calendars.json" "$old/"
pinned=$(REDRESS_WORKFLOWS=$old open_dispute '.order_ref = "ORD-7003"')
expect_eq "$(rd show "$pinned" --json | jq -r .workflow.version)" "3" "opened under the earlier definition"
ev "$pinned" investigate --as agent:alice
expect_eq "$(deadline "$pinned")" "none" "investigating under it has no clock, now that version 4 is the latest"
sweep_at 2026-04-30T00:00:00Z
expect_eq "$(state_of "$pinned")" "investigating/-" "nor does it ever escalate"
expect_eq "$(rd show "$(open_dispute '.order_ref = "ORD-7004"')" --json | jq -r .workflow.version)" "4" \
	"while new disputes take version 4"

finish
