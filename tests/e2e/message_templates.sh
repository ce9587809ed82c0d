#!/usr/bin/env bash
# Texts in the buyer's language and clocks in business hours, through the
# real server: the templates listed; an outbound message written from a
# template in the dispute's locale (money as ICU writes it for de-DE, the
# pending offer's amount and its answer-by time filled in); previews; the
# fallback to English, said so; every refusal of a template's variables;
# the buyer's text of every proposed offer (GET .../offers?locale=), which
# never shows a cost of the seller's; reply clocks counted in the open
# hours of the storefront's calendar across a weekend and a change of
# daylight-saving time, and a state's SLA in business hours.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
shop=$(new_key storefront --storefront acme-eu)
demo=$(new_key storefront --storefront demo-shop)

start_server api --sweep-interval 0

post() { # KEY ID JSON
	call "$1" POST "/v1/disputes/$2/messages" -H 'Content-Type: application/json' --data-binary "$3"
}
preview() { # KEY ID JSON
	call "$1" POST "/v1/disputes/$2/messages/preview" -H 'Content-Type: application/json' --data-binary "$3"
}
nbsp=$(printf '\302\240')

# --- the templates --------------------------------------------------------------------
call "$agent" GET /v1/templates
expect_eq "$STATUS" "200" "the templates"
expect_eq "$(jq -r '.locales | join(" ")' <<<"$BODY")" "de en es fr ja pt-BR zh-Hans" "in seven locales"
expect_eq "$(jq -r '[.items[].name] | join(" ")' <<<"$BODY")" \
	"acknowledgement offer_accepted offer_partial_discount offer_refund_keep_item offer_refund_with_return offer_reshipment offer_reshipment_copay refund_sent request_photos request_tracking reshipment_sent" \
	"for the eleven moments"
expect_eq "$(jq -c '[.items[] | select(.name == "offer_refund_keep_item") | .vars[] | [.name, .type]]' <<<"$BODY")" \
	'[["order_ref","text"],["amount","money"],["respond_by","date"]]' "each with its typed variables"
expect_eq "$(jq '[.items[].vars[].name | select(test("cost|margin|profit"))] | length' <<<"$BODY")" "0" \
	"no variable of the seller's side"
expect_exit 0 rd templates --json
expect_eq "$(jq '.items | length' <<<"$OUT")" "11" "redress templates"

# --- an offer told in the buyer's language ------------------------------------------------
id=$(open_dispute)
ev "$id" investigate --as agent:alice
offer=$(offer_for "$id" refund_keep_item 11500)
ev "$id" make_offer --field "offer_id=$offer" --as agent:alice
due=$(rd show "$id" --json | jq -r .deadline.at)
preview "$agent" "$id" '{"template":{"name":"offer_refund_keep_item"}}'
expect_eq "$STATUS" "200" "a preview"
expect_eq "$(jq -r '.language + " " + .template_locale + " " + (.fell_back|tostring)' <<<"$BODY")" "de-DE de false" \
	"in the dispute's locale"
expect_has "$(jq -r .body <<<"$BODY")" "115,00${nbsp}\$" "the pending offer's amount as ICU writes it for de-DE"
expect_has "$(jq -r .body <<<"$BODY")" "ORD-1001" "the order"
expect_has "$(jq -r .body <<<"$BODY")" "7. März 2026" "the offer's answer-by day ($due), in German"
expect_eq "$(rd show "$id" --json | jq .version)" "3" "a preview records nothing"
preview "$shop" "$id" '{"template":{"name":"offer_refund_keep_item"}}'
expect_eq "$STATUS" "403" "a storefront writes no text to the buyer"

post "$agent" "$id" '{"direction":"outbound","channel":"email","template":{"name":"offer_refund_keep_item"}}'
expect_eq "$STATUS" "201" "an outbound message from the template"
expect_eq "$(jq -r '.template + " " + .language + " " + .template_locale.locale' <<<"$BODY")" \
	"offer_refund_keep_item de-DE de" "recorded with its template and language"
expect_has "$(jq -r .body <<<"$BODY")" "Erstattung von 115,00${nbsp}\$" "the text as sent"
call "$shop" GET "/v1/events?types=message.created"
expect_has "$(jq -r '.items[-1].data.message.body' <<<"$BODY")" "115,00${nbsp}\$" \
	"message.created carries the rendered text for the storefront to deliver"
expect_eq "$(jq -r '.items[-1].data.message.language' <<<"$BODY")" "de-DE" "and its language"

for pair in "fr-FR:fr" "es-MX:es" "pt-PT:pt-BR" "zh-CN:zh-Hans" "ja-JP:ja" "en-GB:en"; do
	preview "$agent" "$id" "{\"template\":{\"name\":\"offer_refund_keep_item\"},\"language\":\"${pair%%:*}\"}"
	expect_eq "$(jq -r '.template_locale + " " + (.fell_back|tostring)' <<<"$BODY")" "${pair#*:} false" \
		"${pair%%:*} reads the ${pair#*:} texts"
done
preview "$agent" "$id" '{"template":{"name":"offer_refund_keep_item"},"language":"ko-KR"}'
expect_eq "$(jq -r '.language + " " + .template_locale + " " + (.fell_back|tostring)' <<<"$BODY")" "en en true" \
	"a locale without texts falls back to English, and says so"
expect_has "$(jq -r .body <<<"$BODY")" "\$115.00" "with English money"
post "$agent" "$id" '{"direction":"outbound","channel":"email","language":"ko-KR","template":{"name":"offer_accepted"}}'
expect_eq "$(jq -r '.language + " " + (.template_locale.fell_back|tostring)' <<<"$BODY")" "en true" \
	"a message sent in English says it fell back"
preview "$agent" "$id" '{"template":{"name":"offer_refund_keep_item"},"time_zone":"Asia/Tokyo","language":"ja-JP"}'
expect_has "$(jq -r .body <<<"$BODY")" "JST" "dates in the zone asked for"

# the variables: declared, typed, given
refused() { # JSON FIELD WHAT
	post "$agent" "$id" "$1"
	expect_eq "$(problem_field)" "422 $2" "$3"
}
refused '{"direction":"outbound","channel":"email","template":{"name":"reshipment_sent"}}' "vars.carrier" \
	"a variable the dispute does not give and the request left out"
refused '{"direction":"outbound","channel":"email","template":{"name":"reshipment_sent","vars":{"carrier":"DHL","tracking":"JJD01","colour":"red"}}}' \
	"template.vars.colour" "a variable the template does not declare"
refused '{"direction":"outbound","channel":"email","template":{"name":"refund_sent","vars":{"amount":"115.00"}}}' \
	"template.vars.amount" "money given as text"
refused '{"direction":"outbound","channel":"email","template":{"name":"no_such_moment"}}' "template.name" "an unknown template"
refused '{"direction":"outbound","channel":"email","template":{"name":"request_photos","extra":1}}' "template" \
	"an unknown member of template"
refused '{"direction":"outbound","channel":"email","time_zone":"Mars/Olympus","template":{"name":"request_photos"}}' "time_zone" \
	"an unknown time zone"
post "$agent" "$id" '{"direction":"outbound","channel":"email","template":{"name":"reshipment_sent","vars":{"carrier":"DHL","tracking":"JJD01"}}}'
expect_eq "$STATUS" "201" "given what it needs"
expect_has "$(jq -r .body <<<"$BODY")" "JJD01" "the caller's variables in the text"
expect_exit 0 rd message "$id" --direction outbound --channel email --template refund_sent --var amount=11500 --json
expect_has "$(jq -r .body <<<"$OUT")" "115,00${nbsp}\$" "redress message --template --var (money in minor units)"
expect_exit 0 rd message "$id" --template request_photos --preview
expect_has "$OUT" "Desk lamp" "redress message --preview"

# --- the buyer's text of every proposed offer ---------------------------------------------
id2=$(open_dispute '.order_ref = "ORD-2002" | .items[0].unit_cost = 4321 | .ship_cost = 1777 | .return_cost = 1333')
ev "$id2" investigate --as agent:alice
call "$shop" GET "/v1/disputes/$id2/offers?locale=de-DE"
expect_eq "$STATUS" "200" "the offers with their texts for the buyer"
expect_eq "$(jq '[.offers[] | select(.buyer_text.body | length > 0)] | length' <<<"$BODY") $(jq '.offers | length' <<<"$BODY")" \
	"$(jq '.offers | length' <<<"$BODY") $(jq '.offers | length' <<<"$BODY")" "every proposed offer has one"
expect_eq "$(jq -r '[.offers[].buyer_text.template] | unique | join(" ")' <<<"$BODY")" \
	"$(jq -r '[.offers[] | if .type == "reshipment" then (if .buyer_copay > 0 then "offer_reshipment_copay" else "offer_reshipment" end) else "offer_" + .type end] | unique | join(" ")' <<<"$BODY")" \
	"each from its type's template"
# the seller's side — goods cost, shipping and return costs, and each
# offer's cost to the seller where it is not what the buyer is told — as
# de-DE and English would write them, is in no offer's text
leaks=0
while IFS=$'\t' read -r text costs; do
	for cost in $costs; do
		de=$(printf '%d,%02d' $((cost / 100)) $((cost % 100)))
		en=$(printf '%d.%02d' $((cost / 100)) $((cost % 100)))
		if grep -qF -e "$de${nbsp}" -e "\$$en" <<<"$text"; then
			leaks=$((leaks + 1))
			echo "seller amount $cost shown to the buyer: $text" >&2
		fi
	done
done < <(jq -r '.offers[] | [(.buyer_text.body | gsub("\n"; " ")),
	([4321, 1777, 1333] + (if .seller_cost == .buyer_refund or .seller_cost == .buyer_copay
		then [] else [.seller_cost] end) | map(tostring) | join(" "))] | @tsv' <<<"$BODY")
expect_eq "$leaks" "0" "no buyer-facing text shows a cost of the seller's"
call "$shop" GET "/v1/disputes/$id2/offers?locale=en&time_zone=America/New_York"
expect_has "$(jq -r '.offers[0].buyer_text.body' <<<"$BODY")" "EST" "offer texts in the zone asked for"
call "$shop" GET "/v1/disputes/$id2/offers?locale=de!!"
expect_eq "$(problem_field)" "422 locale" "a malformed locale"
call "$shop" GET "/v1/disputes/$id2/offers?time_zone=UTC"
expect_eq "$(problem_field)" "422 time_zone" "a zone without a locale"
call "$shop" GET "/v1/disputes/$id2/offers?lang=de"
expect_eq "$(problem_field)" "422 lang" "an unknown parameter"
call "$shop" GET "/v1/disputes/$id2/offers"
expect_eq "$(jq '[.offers[] | select(has("buyer_text"))] | length' <<<"$BODY")" "0" "no texts unless asked"

# --- business hours: demo-shop's calendar is eu-office (Berlin, Mon-Fri 9-17) ---------------
stop_server api
weekend=$(REDRESS_NOW=2026-03-06T15:00:00Z open_dispute '.storefront = "demo-shop" | .order_ref = "ORD-4004"')
REDRESS_NOW=2026-03-06T15:00:00Z rd message "$weekend" --direction inbound --channel chat --body "Help" --as agent:alice >/dev/null
expect_eq "$(rd show "$weekend" --json | jq -r .reply_deadline.at)" "2026-03-11T15:00:00Z" \
	"Friday 16:00 Berlin + 24 business hours: 1 on Friday, 8 on Monday and Tuesday, 7 on Wednesday"
dst=$(REDRESS_NOW=2026-03-27T15:00:00Z open_dispute '.storefront = "demo-shop" | .order_ref = "ORD-5005"')
REDRESS_NOW=2026-03-27T15:00:00Z rd message "$dst" --direction inbound --channel chat --body "Help" --as agent:alice >/dev/null
expect_eq "$(rd show "$dst" --json | jq -r .reply_deadline.at)" "2026-04-01T14:00:00Z" \
	"across the change to summer time: Wednesday 16:00 Berlin is 14:00 UTC"
xmas=$(REDRESS_NOW=2026-12-23T15:00:00Z open_dispute '.storefront = "demo-shop" | .order_ref = "ORD-6006"')
REDRESS_NOW=2026-12-23T15:00:00Z rd message "$xmas" --direction inbound --channel chat --body "Help" --as agent:alice >/dev/null
expect_eq "$(rd show "$xmas" --json | jq -r .reply_deadline.at)" "2026-12-30T15:00:00Z" \
	"over Christmas: 1 h on 23 December, none from the 24th to the 27th, 8 on the 28th and 29th, 7 on the 30th"
REDRESS_NOW=2026-03-06T15:00:00Z rd message "$(open_dispute '.order_ref = "ORD-7007"')" --direction inbound --channel chat \
	--body "Help" --as agent:alice --json >"$E2E_TMP/plain.json"
expect_eq "$(rd show "$(jq -r .dispute_id "$E2E_TMP/plain.json")" --json | jq -r .reply_deadline.at)" "2026-03-07T15:00:00Z" \
	"a storefront without a calendar counts every hour"

# a state's SLA in business hours (a workflow of its own)
mkdir -p "$E2E_TMP/wf"
jq '.version = 9 | .states.opened.sla.business_hours = true' "$REDRESS_SOURCE_DIR/workflows/dispute.json" >"$E2E_TMP/wf/dispute.json"
cp "$REDRESS_SOURCE_DIR/workflows/calendars.json" "$E2E_TMP/wf/"
bh=$(REDRESS_WORKFLOWS="$E2E_TMP/wf" REDRESS_NOW=2026-03-06T15:00:00Z open_dispute '.storefront = "demo-shop" | .order_ref = "ORD-8008"')
expect_eq "$(REDRESS_WORKFLOWS="$E2E_TMP/wf" rd show "$bh" --json | jq -r '.deadline.at + " " + (.workflow.version|tostring)')" \
	"2026-03-11T15:00:00Z 9" "a state's SLA of 24 business hours, from Friday 16:00 Berlin"
finish
