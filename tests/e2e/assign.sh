#!/usr/bin/env bash
# Ownership through the real server: the built-in events assign and unassign
# (hand-over by the assignee, admin override, refusals naming their member),
# exclusive assignment (another agent's events, evidence and messages get a
# 409 naming the assignee; admins and storefronts are not held back), the
# claim queue (soonest SLA due first, then the oldest; 204 when empty; many
# claims at once never take one dispute twice), GET /v1/agents and its
# counts, key names unique per role, and a workflow that turns exclusive
# assignment off.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
alice=$(new_key agent --name alice)
bob=$(new_key agent --name bob)
carol=$(new_key agent --name carol)
admin=$(new_key admin --name root)
auditor=$(new_key auditor --name audit)
shop=$(new_key storefront --storefront acme-eu --name acme)

# --- key names are unique per role among live keys ---------------------------------
expect_exit 3 rd key create --role agent --name alice
expect_has "$ERR" "already named alice" "a second live agent key named alice is refused"
expect_has "$ERR" "names are unique per role" "saying why"
expect_exit 0 rd key create --role auditor --name alice
ok # the same name in another role is another identity
dave_id=$(rd key create --role agent --name dave --json | jq -r .id)
rd key revoke "$dave_id" >/dev/null
expect_exit 0 rd key create --role agent --name dave
ok # a revoked key's name is free again
expect_eq "$(rd key create --role agent --json | jq -r .name)" "agent" "the default name, the role's"
expect_eq "$(rd key create --role agent --json | jq -r '.name | test("^agent~[0-9a-f]{6}$")')" "true" \
	"a second default name is told apart by the key's id"

# --- the claim queue: soonest SLA due first, then the oldest ------------------------
# (before the server starts: the commands write with their own clocks)
# A: opened 2026-03-01T00:00, investigated at once (due +48h: 03-03T00:00),
#    then unassigned by an admin
A=$(REDRESS_NOW=2026-03-01T00:00:00Z open_dispute)
REDRESS_NOW=2026-03-01T00:00:00Z ev "$A" investigate --as agent:alice
REDRESS_NOW=2026-03-01T00:00:00Z ev "$A" unassign --as admin:root
# B: opened later (03-01T01:00) but due sooner (+24h: 03-02T01:00)
B=$(REDRESS_NOW=2026-03-01T01:00:00Z open_dispute)
# F older than E, both investigated at 03-01T04:00 (due 03-03T04:00): F first
F=$(REDRESS_NOW=2026-03-01T02:00:00Z open_dispute)
E=$(REDRESS_NOW=2026-03-01T03:00:00Z open_dispute)
for x in "$F" "$E"; do
	REDRESS_NOW=2026-03-01T04:00:00Z ev "$x" investigate --as agent:alice
	REDRESS_NOW=2026-03-01T04:00:00Z ev "$x" unassign --as admin:root
done
# taken: never claimed
T=$(REDRESS_NOW=2026-02-28T00:00:00Z open_dispute)
REDRESS_NOW=2026-02-28T00:00:00Z ev "$T" assign --field assignee=carol --as admin:root
# ended: never claimed
Z=$(REDRESS_NOW=2026-02-27T00:00:00Z open_dispute)
REDRESS_NOW=2026-02-27T00:00:00Z ev "$Z" withdraw --as agent:alice

start_server api --sweep-interval 0

claimed=()
for _ in 1 2 3 4; do
	call "$bob" POST /v1/queue/claim
	expect_eq "$STATUS" "200" "a claim answers the dispute"
	expect_eq "$(jq -r .assignee <<<"$BODY")" "bob" "assigned to the caller"
	claimed+=("$(jq -r .id <<<"$BODY")")
done
expect_eq "${claimed[*]}" "$B $A $F $E" "claimed by SLA due time, then age"
expect_eq "$(header ETag)" "\"$(jq -r .version <<<"$BODY")\"" "the claim's ETag"
call "$bob" POST /v1/queue/claim
expect_eq "$STATUS" "204" "nothing left to claim: 204"
expect_eq "$BODY" "" "with no body"
call "$shop" POST /v1/queue/claim
expect_eq "$STATUS" "403" "a storefront key cannot claim"
call "$auditor" POST /v1/queue/claim
expect_eq "$STATUS" "403" "nor an auditor"
call "$bob" POST /v1/queue/claim --data '{"x":1}'
expect_eq "$STATUS" "422" "a claim takes no body"
expect_eq "$(record_sql "SELECT event || ' ' || actor_name || ' ' || fields FROM events WHERE dispute_id = '$B' ORDER BY seq DESC LIMIT 1")" \
	'assign bob {"assignee":"bob"}' "the claim is an assign event by the caller"

# --- assign, hand-over, admin override ---------------------------------------------------
post_event() { # KEY ID JSON
	call "$1" POST "/v1/disputes/$2/events" -H 'Content-Type: application/json' --data-binary "$3"
}
id=$(open_dispute)
post_event "$alice" "$id" '{"event":"assign","fields":{"assignee":"alice"}}'
expect_eq "$STATUS" "200" "an agent takes a dispute"
expect_eq "$(jq -c '[.assignee, .state, .version]' <<<"$BODY")" '["alice","opened",2]' \
	"assigned; state unchanged; one version more"

# GET /actions lists the built-in events after the workflow's, with assign's field
owned() { # KEY ID: OWNED = the ownership events /actions lists, with their fields and readiness
	call "$1" GET "/v1/disputes/$2/actions"
	expect_eq "$STATUS" "200" "actions of $2"
	OWNED=$(jq -c '[.events[] | select(.event == "assign" or .event == "unassign") | [.event, .fields, .ready]]' <<<"$BODY")
}
owned "$alice" "$id"
expect_eq "$OWNED" '[["assign",["assignee"],true],["unassign",[],true]]' \
	"the assignee is offered assign (field assignee) and unassign"
expect_eq "$(jq -r '[.events[].event][-2:] | join(",")' <<<"$BODY")" "assign,unassign" "listed last"
expect_eq "$(jq -r '.events[] | select(.event == "assign") | .description | test("agent key")' <<<"$BODY")" \
	"true" "assign is described"
owned "$admin" "$id"
expect_eq "$OWNED" '[["assign",["assignee"],true],["unassign",[],true]]' "an admin too"
owned "$bob" "$id"
expect_eq "$OWNED" '[["assign",["assignee"],true],["unassign",[],true]]' \
	"listed by role, like the workflow's events (sending them is what answers 409)"
owned "$shop" "$id"
expect_eq "$OWNED" '[]' "never to a storefront"
owned "$auditor" "$id"
expect_eq "$OWNED" '[]' "nor to an auditor"
owned "$alice" "$Z"
expect_eq "$OWNED" '[]' "nor on an ended dispute"

post_event "$bob" "$id" '{"event":"escalate"}'
expect_eq "$STATUS" "409" "another agent's event is refused"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/assigned" "problem type assigned"
expect_eq "$(jq -r .assignee <<<"$BODY")" "alice" "naming the assignee"
expect_has "$(jq -r .detail <<<"$BODY")" "ask alice or an admin to reassign it" "saying what to do"
post_event "$bob" "$id" '{"event":"assign","fields":{"assignee":"bob"}}'
expect_eq "$(jq -r '(.status|tostring) + " " + .assignee' <<<"$BODY")" "409 alice" "another agent cannot grab it"
call "$bob" POST "/v1/disputes/$id/messages" -H 'Content-Type: application/json' \
	--data-binary '{"direction":"internal","channel":"other","body":"mine now"}'
expect_eq "$(jq -r '(.status|tostring) + " " + .assignee' <<<"$BODY")" "409 alice" "nor post a message"
call "$bob" POST "/v1/disputes/$id/evidence?kind=photo&captured_at=2026-03-01T08:30:00Z" \
	--data-binary "@$(sample_file photo)" -H 'Content-Type: image/png'
expect_eq "$(jq -r '(.status|tostring) + " " + .assignee' <<<"$BODY")" "409 alice" "nor upload evidence"
expect_exit 5 rd event "$id" escalate --as agent:bob
expect_has "$ERR" "assigned to alice" "the command line says the same"

call "$shop" POST "/v1/disputes/$id/messages" -H 'Content-Type: application/json' \
	--data-binary '{"direction":"inbound","channel":"chat","body":"Any news?"}'
expect_eq "$STATUS" "201" "a storefront is not held back"
call "$alice" POST "/v1/disputes/$id/messages" -H 'Content-Type: application/json' \
	--data-binary '{"direction":"internal","channel":"other","body":"looking"}'
expect_eq "$STATUS" "201" "the assignee writes"
post_event "$alice" "$id" '{"event":"investigate"}'
expect_eq "$(jq -c '[.state, .assignee]' <<<"$BODY")" '["investigating","alice"]' "the assignee acts"

post_event "$admin" "$id" '{"event":"assign","fields":{"assignee":"bob"},"note":"alice is out"}'
expect_eq "$(jq -c '[.assignee, .state]' <<<"$BODY")" '["bob","investigating"]' "an admin reassigns"
inv_due=$(jq -c .deadline <<<"$BODY")
post_event "$alice" "$id" '{"event":"escalate"}'
expect_eq "$(jq -r .assignee <<<"$BODY")" "bob" "the former assignee is held back now"
post_event "$bob" "$id" '{"event":"assign","fields":{"assignee":"carol"}}'
expect_eq "$(jq -r .assignee <<<"$BODY")" "carol" "the assignee hands it over"
post_event "$bob" "$id" '{"event":"unassign"}'
expect_eq "$(jq -r .assignee <<<"$BODY")" "carol" "and then cannot take it back"
post_event "$carol" "$id" '{"event":"assign","fields":{"assignee":"carol"}}'
expect_eq "$(problem_field)" "409 assignee" "assigning it to its assignee again is refused"
post_event "$carol" "$id" '{"event":"unassign"}'
expect_eq "$STATUS" "200" "the assignee puts it back"
expect_eq "$(jq -c .deadline <<<"$BODY")" "$inv_due" "assignments leave the SLA clock as it was"
expect_eq "$(jq -r '.assignee // "none"' <<<"$BODY")" "none" "unassigned"
owned "$carol" "$id"
expect_eq "$OWNED" '[["assign",["assignee"],true]]' "no unassign once nobody has it"
post_event "$carol" "$id" '{"event":"unassign"}'
expect_eq "$(problem_field)" "409 " "an unassigned dispute is not unassigned again"
post_event "$alice" "$id" '{"event":"assign","fields":{"assignee":"nobody"}}'
expect_eq "$(problem_field)" "422 assignee" "only a live agent key's name is an assignee"
post_event "$alice" "$id" '{"event":"assign","fields":{"assignee":"audit"}}'
expect_eq "$(problem_field)" "422 assignee" "an auditor's name is not an agent's"
post_event "$alice" "$id" '{"event":"assign"}'
expect_eq "$(problem_field)" "422 assignee" "assign needs its assignee"
post_event "$alice" "$id" '{"event":"assign","fields":{"assignee":"alice","why":"x"}}'
expect_eq "$(problem_field)" "422 why" "and takes no other field"
post_event "$shop" "$id" '{"event":"assign","fields":{"assignee":"alice"}}'
expect_eq "$STATUS" "403" "a storefront does not assign"
post_event "$alice" "$Z" '{"event":"assign","fields":{"assignee":"alice"}}'
expect_eq "$(problem_field)" "409 " "an ended dispute is not assigned"
expect_eq "$(jq -r .type <<<"$BODY")" "https://redress.dev/problems/state" "as a state problem"
expect_exit 0 rd assign "$id" alice --as agent:alice
expect_has "$OUT" "assigned to alice" "redress assign"
expect_exit 0 rd unassign "$id" --as agent:alice
expect_has "$OUT" "unassigned" "redress unassign"
expect_exit 0 rd assign "$id" alice --as agent:alice

# --- GET /v1/agents ------------------------------------------------------------------
# alice: $id (open, awaiting a reply: the inbound "Any news?"), plus an overdue one;
# bob: the four claimed, B overdue (due 03-02T01:00, the server's now 09:00);
# carol: T, overdue
late=$(REDRESS_NOW=2026-02-20T00:00:00Z open_dispute)
REDRESS_NOW=2026-02-20T00:00:00Z ev "$late" assign --field assignee=alice --as admin:root
call "$auditor" GET /v1/agents
expect_eq "$STATUS" "200" "an auditor reads the agents"
expect_eq "$(jq -c '[.items[] | select(.name == "alice" or .name == "bob" or .name == "carol" or .name == "dave")]' <<<"$BODY")" \
	'[{"name":"alice","open":2,"overdue":1,"awaiting_reply":1},{"name":"bob","open":4,"overdue":1,"awaiting_reply":0},{"name":"carol","open":1,"overdue":1,"awaiting_reply":0},{"name":"dave","open":0,"overdue":0,"awaiting_reply":0}]' \
	"one item per agent name, with its counts"
expect_eq "$(jq -r '[.items[].name] | (. == sort) and (. == unique)' <<<"$BODY")" "true" "sorted by name, each once"
expect_eq "$(jq -r '[.items[].name] | index("audit") // "no"' <<<"$BODY")" "no" "only agent keys"
call "$shop" GET /v1/agents
expect_eq "$STATUS" "403" "a storefront does not read the agents"
expect_eq "$(rd agents --json | jq -c '.items[] | select(.name == "alice")')" \
	'{"name":"alice","open":2,"overdue":1,"awaiting_reply":1}' "redress agents"

# --- many claims at once on one server -------------------------------------------------
many=()
for _ in $(seq 12); do
	many+=("$(open_dispute)")
done
rm -f "$E2E_TMP"/claim-*
pids=()
for i in $(seq 20); do
	if [ $((i % 2)) -eq 0 ]; then key=$alice; else key=$carol; fi
	curl -s -o "$E2E_TMP/claim-$i.body" -w '%{http_code}\n' -X POST \
		-H "Authorization: Bearer $key" "$SERVER_BASE/v1/queue/claim" >"$E2E_TMP/claim-$i.status" &
	pids+=($!)
done
wait "${pids[@]}"
expect_eq "$(cat "$E2E_TMP"/claim-*.status | grep -c '^200$')" "12" "12 disputes claimed"
expect_eq "$(cat "$E2E_TMP"/claim-*.status | grep -c '^204$')" "8" "the other claims find nothing"
expect_eq "$(cat "$E2E_TMP"/claim-*.body | jq -r .id 2>/dev/null | sort | uniq | wc -l)" "12" "each claimed once"
expect_eq "$(cat "$E2E_TMP"/claim-*.body | jq -r .id 2>/dev/null | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "${many[@]}" | sort | tr '\n' ' ')" "exactly the open unassigned ones"
stop_server api

# --- a workflow without exclusive assignment ---------------------------------------------
wf="$E2E_TMP/workflows"
mkdir -p "$wf"
jq '.version = 90 | .assignment = {"exclusive": false}' "$REDRESS_SOURCE_DIR/workflows/dispute.json" >"$wf/dispute.json"
cp "$REDRESS_SOURCE_DIR/workflows/calendars.json" "$wf/"
export REDRESS_WORKFLOWS="$wf"
shared=$(open_dispute)
expect_eq "$(rd show "$shared" --json | jq -r .workflow.version)" "90" "a new dispute follows the shared workflow"
ev "$shared" assign --field assignee=alice --as agent:alice
ev "$shared" investigate --as agent:bob
expect_eq "$(rd show "$shared" --json | jq -r .assignee)" "bob" "another agent acts (investigate assigns it to the actor)"
ev "$shared" assign --field assignee=carol --as agent:alice
ok # and any agent reassigns it
expect_exit 5 rd event "$id" escalate --as agent:bob
expect_has "$ERR" "assigned to alice" "a dispute pinned to version 4 stays exclusive"

finish
