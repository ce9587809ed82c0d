#!/usr/bin/env bash
# The webhook tests' receiver is honest (tests/e2e/webhook.bash,
# tests/support/webhook-receiver/receiver.mjs): requests signed here by
# hand, the Standard Webhooks way, with openssl and sent with curl, are
# logged as verified when their signature is right and as not verified when
# it was made with another secret, over another body, or too long ago; in a
# rotation, with two secrets listed, only a request carrying both
# signatures verifies against both; scripted answers come in order, per
# path, with their Retry-After, their delay or a dropped connection; the
# log is also in its file, readable after the receiver stopped.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"
. "$(dirname "$0")/webhook.bash"

# new_secret: a secret as redress makes one, whsec_ and 32 random bytes in
# base64
new_secret() {
	echo "whsec_$(head -c 32 /dev/urandom | base64 -w0)"
}

# sign SECRET ID TIMESTAMP BODY: "v1,<base64 HMAC-SHA256 of ID.TIMESTAMP.BODY>"
# keyed with the secret's bytes
sign() {
	local hexkey
	hexkey=$(printf '%s' "${1#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
	printf 'v1,%s' "$(printf '%s.%s.%s' "$2" "$3" "$4" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)"
}

# deliver PATH ID TIMESTAMP SIGNATURE BODY: POST as redress delivers, to the
# receiver started last; $STATUS, $HDRS, $BODY as server.bash's request sets
# them ($STATUS 000 for no answer: curl's failure is not the test's)
deliver() {
	request "$RECEIVER_URL$1" -X POST -H 'content-type: application/json' \
		-H "webhook-id: $2" -H "webhook-timestamp: $3" -H "webhook-signature: $4" \
		--data-binary "$5" || true
}

# entry N FILTER: FILTER applied to the Nth delivery logged by receiver A
entry() {
	receiver_log A | jq -c --argjson n "$1" ".[\$n - 1] | $2"
}

start_receiver A
expect_has "$RECEIVER_URL_A" "http://127.0.0.1:" "the receiver's URL"
expect_eq "$RECEIVER_URL" "$RECEIVER_URL_A" "the receiver started last"
expect_eq "$(receiver_log A)" "[]" "a new receiver has logged nothing"

old=$(new_secret)
new=$(new_secret)
receiver_secrets A "$old"
now=$(date +%s)
body='{"type":"offer.accepted","timestamp":"2026-12-07T10:00:00Z","data":{"id":"d_1","version":4,"offer":{"offer_id":"o1"}}}'

# 1: signed right
deliver /a evt_1 "$now" "$(sign "$old" evt_1 "$now" "$body")" "$body"
expect_eq "$STATUS" 200 "a delivery with nothing scripted"
wait_receiver A 1 5
expect_eq "$(entry 1 '[.verified, .verified_all, .error, .secrets]')" '[[true],true,null,1]' \
	"a request signed with the secret verifies"
expect_eq "$(entry 1 '[.path, .type, .data_id, .data_version, .status, .body.data.offer.offer_id]')" \
	'["/a","offer.accepted","d_1",4,200,"o1"]' "what the log tells of a delivery"
expect_eq "$(entry 1 '[.headers["webhook-id"], .headers["webhook-timestamp"], .headers["content-type"], .timestamp_skew_s <= 2]')" \
	"[\"evt_1\",\"$now\",\"application/json\",true]" "the headers logged"
expect_has "$(entry 1 .time)" "Z\"" "the time of receipt, RFC 3339 in UTC"

# 2: signed with another secret
deliver /a evt_2 "$now" "$(sign "$new" evt_2 "$now" "$body")" "$body"
expect_eq "$STATUS" 200 "a request that does not verify is answered as scripted all the same"
expect_eq "$(entry 2 '[.verified, .verified_all, .error]')" \
	'[[false],false,"No matching signature found"]' "a request signed with another secret does not verify"

# 3: the signature of another body, of another id
deliver /a evt_3 "$now" "$(sign "$old" evt_3 "$now" "$body")" "${body/d_1/d_2}"
expect_eq "$(entry 3 '.verified')" '[false]' "a body changed after signing does not verify"
deliver /a evt_4 "$now" "$(sign "$old" evt_3 "$now" "$body")" "$body"
expect_eq "$(entry 4 '.verified')" '[false]' "a signature made for another webhook-id does not verify"

# 4: signed ten minutes ago: too old on the real clock, right on a clock
# set to then
then=$((now - 600))
deliver /a evt_5 "$then" "$(sign "$old" evt_5 "$then" "$body")" "$body"
expect_eq "$(entry 5 '[.verified, .error]')" '[[false],"Message timestamp too old"]' \
	"a timestamp ten minutes old does not verify"
receiver_secrets A --now "$then" "$old"
deliver /a evt_5 "$then" "$(sign "$old" evt_5 "$then" "$body")" "$body"
expect_eq "$(entry 6 '[.verified, .timestamp_skew_s]')" '[[true],0]' \
	"the same verifies on a clock set to its time (--now)"

# 5: a rotation: both secrets listed, each checked on its own
receiver_secrets A "$old" "$new"
sig_old=$(sign "$old" evt_6 "$now" "$body")
sig_new=$(sign "$new" evt_6 "$now" "$body")
deliver /a evt_6 "$now" "$sig_old" "$body"
expect_eq "$(entry 7 '[.verified, .verified_all]')" '[[true,false],false]' \
	"in a rotation, the old signature alone does not verify against the new secret"
deliver /a evt_6 "$now" "$sig_new" "$body"
expect_eq "$(entry 8 '[.verified, .verified_all]')" '[[false,true],false]' \
	"in a rotation, the new signature alone does not verify against the old secret"
deliver /a evt_6 "$now" "$sig_old $sig_new" "$body"
expect_eq "$(entry 9 '[.verified, .verified_all, .error]')" '[[true,true],true,null]' \
	"in a rotation, both signatures verify against both secrets"
deliver /a evt_6 "$now" "$sig_new v1,AAAA $sig_old" "$body"
expect_eq "$(entry 10 '.verified')" '[true,true]' "a signature that matches nothing beside the two is ignored"
receiver_secrets A
deliver /a evt_6 "$now" "$sig_old" "$body"
expect_eq "$(entry 11 '[.verified, .verified_all, .secrets]')" '[[],false,0]' \
	"with no secret listed nothing verifies"
receiver_secrets A "$old"

# 6: scripted answers, in order, per path
receiver_script A /b 500 503:7 200
receiver_script A '*' 429:1
receiver_script A /c close
statuses=""
for _ in 1 2 3 4; do
	deliver /b evt_7 "$now" "$(sign "$old" evt_7 "$now" "$body")" "$body"
	statuses="$statuses $STATUS/$(header Retry-After)"
done
expect_eq "$statuses" " 500/ 503/7 200/ 429/1" \
	"/b answers its queue in order, then the queue of any path, with Retry-After"
deliver /a evt_8 "$now" "$(sign "$old" evt_8 "$now" "$body")" "$body"
expect_eq "$STATUS" 200 "200 once every queue is empty"
deliver /c evt_9 "$now" "$(sign "$old" evt_9 "$now" "$body")" "$body"
expect_eq "$STATUS" 000 "close: the connection dropped without an answer"
wait_receiver A 17 5
expect_eq "$(receiver_log A | jq -c '[.[11:][] | [.path, .status, .retry_after, .verified_all]]')" \
	'[["/b",500,null,true],["/b",503,"7",true],["/b",200,null,true],["/b",429,"1",true],["/a",200,null,true],["/c",null,null,true]]' \
	"the log tells each answer"
expect_eq "$(entry 17 .closed)" true "the log tells of the dropped connection"

receiver_script A /d 502@800
start=$(date +%s%N)
deliver /d evt_10 "$now" "$(sign "$old" evt_10 "$now" "$body")" "$body"
took=$((($(date +%s%N) - start) / 1000000))
expect_eq "$STATUS" 502 "a delayed answer"
[ "$took" -ge 750 ] && ok || fail "a delay of 800 ms answered after $took ms"
expect_eq "$(entry 18 .delay_ms)" 800 "the log tells the delay"

# 7: a second receiver on its own; endpoints on paths of one receiver
start_receiver B
[ "$RECEIVER_URL_B" != "$RECEIVER_URL_A" ] && ok || fail "two receivers on one port"
receiver_secrets B "$new"
deliver /x evt_11 "$now" "$(sign "$new" evt_11 "$now" "$body")" "$body"
deliver /y evt_12 "$now" "$(sign "$new" evt_12 "$now" "$body")" "$body"
wait_receiver B 1 5 /y
expect_eq "$(receiver_log B | jq -c 'map([.path, .verified_all])')" '[["/x",true],["/y",true]]' \
	"the second receiver logs its own deliveries"
expect_eq "$(receiver_log A | jq length)" 18 "the first logs none of them"

# 8: the control API refuses what it does not know
request "$RECEIVER_URL_A/_control/nothing"
expect_eq "$STATUS" 404 "an unknown control path is 404"
expect_has "$BODY" "no control route" "an unknown control path, told"
request "$RECEIVER_URL_A/_control/secrets" -X PUT --data '{"secrets":["whsec_"]}'
expect_eq "$STATUS" 400 "an empty secret is refused"
request "$RECEIVER_URL_A/_control/script" -X POST --data '{"answers":[{"status":42}]}'
expect_eq "$STATUS" 400 "a status that is none is refused"
expect_eq "$(receiver_log A | jq length)" 18 "control requests are not deliveries"

# 9: wait_receiver fails when the deliveries do not come (in a subshell:
# its failure is the point here); the log survives the receiver in its file
set +e
(wait_receiver A 19 1) 2>"$E2E_TMP/wait.err"
code=$?
set -e
expect_eq "$code" 1 "wait_receiver fails when the deliveries do not come"
expect_has "$(cat "$E2E_TMP/wait.err")" "18 deliveries after 1 s, not 19" "what wait_receiver tells"
receiver_reset A
expect_eq "$(receiver_log A)" "[]" "reset forgets the deliveries"
expect_eq "$(wc -l <"$RECEIVER_LOG_A")" 18 "the log file keeps every delivery, one JSON line each"
stop_receiver B
expect_eq "$STOP_CODE" 0 "the receiver stops on SIGTERM"
expect_eq "$(receiver_log B | jq -c 'map(.path)')" '["/x","/y"]' "a stopped receiver's log, from its file"

finish
