#!/usr/bin/env bash
# Claims on two nodes at once: two `redress serve` on one PostgreSQL
# database, each with several writer lanes, take 2 x 30 claims fired all
# at once at 40 open unassigned disputes. Every dispute is claimed exactly
# once (one "assign" event each, to the agent whose claim answered it),
# no claim is lost (40 answers 200, the other 20 answer 204: nothing was
# left), and no claim fails. PostgreSQL only: ctest runs it as
# e2e/pg_claim_nodes@pg.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

if ! on_postgres; then
	echo "PostgreSQL only: run as e2e/pg_claim_nodes@pg" >&2
	exit 1
fi

COUNT=40
CLAIMS=30   # per node

rd init >/dev/null
keys=()
for n in 1 2 3 4 5 6; do
	keys+=("$(new_key agent --name "agent$n")")
done
auditor=$(new_key auditor --name audit)
open=()
for _ in $(seq "$COUNT"); do
	open+=("$(open_dispute)")
done

launch_server a --sweep-interval 0 --writers 4
launch_server b --sweep-interval 0 --writers 4
await_server a
await_server b

rm -f "$E2E_TMP"/claim-*
pids=()
for i in $(seq $((2 * CLAIMS))); do
	if [ $((i % 2)) -eq 0 ]; then base=$BASE_a; else base=$BASE_b; fi
	key=${keys[$((i % 6))]}
	curl -s --max-time 60 -o "$E2E_TMP/claim-$i.body" -w '%{http_code}\n' -X POST \
		-H "Authorization: Bearer $key" "$base/v1/queue/claim" >"$E2E_TMP/claim-$i.status" &
	pids+=($!)
done
wait "${pids[@]}"

statuses=$(cat "$E2E_TMP"/claim-*.status | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')
expect_eq "$statuses" "200:$COUNT 204:$((2 * CLAIMS - COUNT)) " "40 claims answered a dispute, the other 20 found none"
ids=$(for i in $(seq $((2 * CLAIMS))); do
	[ "$(cat "$E2E_TMP/claim-$i.status")" = 200 ] && jq -r .id "$E2E_TMP/claim-$i.body"
done | sort)
expect_eq "$(uniq <<<"$ids" | wc -l)" "$COUNT" "no dispute answered twice"
expect_eq "$(tr '\n' ' ' <<<"$ids")" "$(printf '%s\n' "${open[@]}" | sort | tr '\n' ' ')" "every open dispute claimed"
expect_eq "$(record_sql "SELECT count(*) FROM events WHERE event = 'assign'")" "$COUNT" "one assign event per dispute"
expect_eq "$(record_sql "SELECT count(*) FROM disputes WHERE assignee IS NULL")" "0" "none left unassigned"
# each dispute is assigned to the agent its claim answered
for i in $(seq $((2 * CLAIMS))); do
	[ "$(cat "$E2E_TMP/claim-$i.status")" = 200 ] || continue
	id=$(jq -r .id "$E2E_TMP/claim-$i.body")
	who=$(jq -r .assignee "$E2E_TMP/claim-$i.body")
	expect_eq "$(record_sql "SELECT assignee FROM disputes WHERE id = '$id'")" "$who" "$id is its claimer's"
done
api "$auditor" GET "$BASE_a/v1/agents"
expect_eq "$(jq '[.items[].open] | add' <<<"$BODY")" "$COUNT" "the agents' open counts add up"

stop_server a
stop_server b
finish
