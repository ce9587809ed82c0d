#!/usr/bin/env bash
# What a new user of the command line trips over: the version, a data
# directory that is not there, a storefront acting on another storefront's
# dispute, and evidence errors worded for the command line.
set -e
. "$(dirname "$0")/lib.bash"

# --version and `version` print the version of the build (CMakeLists.txt).
want=$(sed -n 's/^project(redress VERSION \([0-9.]*\) .*/\1/p' \
	"$REDRESS_SOURCE_DIR/CMakeLists.txt")
expect_exit 0 rd --version
expect_eq "$OUT" "redress $want" "redress --version"
expect_exit 0 rd version
expect_eq "$OUT" "redress $want" "redress version"

# Outside a data directory: how to point at one, and init only to create.
expect_exit 4 rd --data "$E2E_TMP/nowhere" list
expect_has "$ERR" "--data DIR" "missing data directory: names --data"
expect_has "$ERR" "REDRESS_DATA" "missing data directory: names REDRESS_DATA"
expect_has "$ERR" "create a new one there with \`redress init\`" \
	"missing data directory: init only to create one"
[ ! -e "$E2E_TMP/nowhere" ] && ok || fail "a missing data directory was created"

rd init >/dev/null
id=$(open_dispute) # storefront acme-eu, channel chat
before=$(dump)

# A storefront acts on its own storefront's disputes only, and another's
# is answered as the API answers it: as a dispute that does not exist.
expect_exit 4 rd event "$id" withdraw --as storefront:other-shop
expect_eq "$ERR" "redress: no dispute with id $id" "another storefront's event"
expect_exit 4 rd evidence add "$id" "$(sample_file note)" --kind note \
	--as storefront:other-shop
expect_eq "$ERR" "redress: no dispute with id $id" "another storefront's evidence"
expect_eq "$(dump)" "$before" "another storefront changed nothing"
expect_exit 4 rd event nosuchdispute withdraw --as storefront:other-shop
expect_exit 0 rd evidence add "$id" "$(sample_file note)" --kind note \
	--as storefront:acme-eu
ev "$id" investigate --as agent:alice

# Evidence errors name the option, not the API's field.
expect_exit 3 rd evidence add "$id" "$(sample_file photo)" --kind photo
expect_eq "$ERR" "redress: photo evidence needs the time it was captured (option --captured-at)" \
	"a missing capture time names --captured-at"
expect_exit 3 rd evidence add "$id" "$(sample_file photo)" --kind photo \
	--captured-at 2099-01-01T00:00:00Z
expect_has "$ERR" "(option --captured-at)" "a future capture time names --captured-at"

# chat_transcript without --channel: the dispute's channel, as --help says.
expect_exit 0 rd evidence add "$id" "$(sample_file note)" --kind chat_transcript --json
expect_eq "$(printf '%s' "$OUT" | jq -r .channel)" "chat" "chat_transcript takes the dispute's channel"
expect_exit 0 rd evidence add "$id" "$(sample_file note)" --kind chat_transcript \
	--channel email --json
expect_eq "$(printf '%s' "$OUT" | jq -r .channel)" "email" "an explicit --channel wins"

# Plain text full of commas is still text a note may be; real type
# checking still holds.
printf 'Tea, 3.50, cups, 2, saucers, 4, spoons, 6\nMilk, 1.20, jugs, 1, bowls, 2, plates, 3\nSugar, 0.80, cubes, 10, tongs, 1, pots, 2\n' \
	>"$E2E_TMP/prices.txt"
expect_exit 0 rd evidence add "$id" "$E2E_TMP/prices.txt" --kind note
expect_exit 3 rd evidence add "$id" "$(sample_file photo)" --kind note
expect_has "$ERR" "the content is image/png" "a picture is still no note"
gzip -c "$E2E_TMP/prices.txt" >"$E2E_TMP/prices.gz"
expect_exit 3 rd evidence add "$id" "$E2E_TMP/prices.gz" --kind note
expect_has "$ERR" "which note evidence may not be" "compressed bytes are still no note"

# Closed, another storefront's dispute still does not exist to it (the
# state is not told).
closed=$(open_dispute '.order_ref = "ORD-2002"')
ev "$closed" withdraw --as storefront:acme-eu
expect_exit 4 rd evidence add "$closed" "$(sample_file note)" --kind note \
	--as storefront:other-shop
expect_eq "$ERR" "redress: no dispute with id $closed" "another storefront's closed dispute"
expect_exit 4 rd event "$closed" withdraw --as storefront:other-shop
expect_eq "$ERR" "redress: no dispute with id $closed" "another storefront's closed dispute, event"

finish
