#!/usr/bin/env bash
# Evidence uploads as multipart/form-data (MHD's post processor), against
# the real server: the fields in any order around one file part, the same
# checks as a raw upload (422 for unknown, repeated or missing parts and
# fields, 415 for the wrong content), a body cut before its closing
# boundary or without a boundary records nothing (400), and a form upload
# is the same idempotent request as a raw upload of the same file with the
# same metadata.
set -e
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/server.bash"

rd init >/dev/null
agent=$(new_key agent --name alice)
start_server api

evidence_count() {
	call "$agent" GET "/v1/disputes/$id/evidence"
	jq '.evidence | length' <<<"$BODY"
}

call "$agent" POST /v1/disputes --data-binary "@$REDRESS_SOURCE_DIR/examples/dispute.json"
expect_eq "$STATUS" "201" "dispute opened"
id=$(jq -r .id <<<"$BODY")
photo=$(sample_file photo)
text=$(sample_file text)
at=2026-03-01T10:00:00Z

# --- a form upload, fields before and after the file ---------------------------
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F "captured_at=$at" \
	-F "note=box dented on arrival" -F "file=@$photo;filename=box.png"
expect_eq "$STATUS" "201" "form upload: $BODY"
expect_eq "$(jq -r .original_name <<<"$BODY")" "box.png" "the part's filename is the original name"
expect_eq "$(jq -r .note <<<"$BODY")" "box dented on arrival" "the note field"
expect_eq "$(jq -r .content_type <<<"$BODY")" "image/png" "sniffed type"
expect_eq "$(jq -r .sha256 <<<"$BODY")" "$(sha256sum "$photo" | cut -d' ' -f1)" "the file's digest"
n=$(jq -r .n <<<"$BODY")
call "$agent" GET "/v1/disputes/$id/evidence/$n"
expect_eq "$(sha256sum <"$RESPONSE_FILE")" "$(sha256sum <"$photo")" "downloaded bytes equal the part"
call "$agent" POST "/v1/disputes/$id/evidence" -F "file=@$photo" -F kind=photo -F "captured_at=$at"
expect_eq "$STATUS" "201" "fields after the file"
expect_eq "$(evidence_count)" "2" "two uploads, two evidence"

# --- refusals: nothing recorded ------------------------------------------------------
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F "captured_at=$at" -F colour=red -F "file=@$photo"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:colour" "unknown field"
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F "captured_at=$at"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:file" "no file part"
# with a key, the digest looks at the form first: the refusal stays the same
call "$agent" POST "/v1/disputes/$id/evidence" -H "Idempotency-Key: no-file" -F kind=photo -F "captured_at=$at"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:file" "no file part, with an Idempotency-Key"
call "$agent" POST "/v1/disputes/$id/evidence?kind=photo" -H "Idempotency-Key: no-file-2" -F "captured_at=$at"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:file" "no file part, kind in the query, with an Idempotency-Key"
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F "captured_at=$at" -F "file=@$photo" -F "file=@$photo"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:file" "two file parts"
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F kind=video -F "captured_at=$at" -F "file=@$photo"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:kind" "a field given twice"
call "$agent" POST "/v1/disputes/$id/evidence?kind=photo" -F kind=photo -F "captured_at=$at" -F "file=@$photo"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:kind" "a field in both the query and the form"
head -c 5000 /dev/zero | tr '\0' 'n' >"$E2E_TMP/long-note"
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F "captured_at=$at" -F "note=<$E2E_TMP/long-note" -F "file=@$photo"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:note" "a note over 4096 bytes"
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F "file=@$photo"
expect_eq "$STATUS:$(jq -r .field <<<"$BODY")" "422:captured_at" "photo without captured_at"
call "$agent" POST "/v1/disputes/$id/evidence" -F kind=photo -F "captured_at=$at" -F "file=@$text"
expect_eq "$STATUS" "415" "text sent as a photo"
call "$agent" POST "/v1/disputes/$id/evidence" -H "Content-Type: multipart/form-data" --data-binary "@$photo"
expect_eq "$STATUS" "400" "multipart without a boundary"
# a body cut before its closing boundary, with an honest Content-Length
{
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="kind"\r\n\r\nphoto\r\n'
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="captured_at"\r\n\r\n%s\r\n' "$at"
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="cut.png"\r\n'
	printf -- 'Content-Type: image/png\r\n\r\n'
	cat "$photo"
} >"$E2E_TMP/cut.body"
call "$agent" POST "/v1/disputes/$id/evidence" -H "Content-Type: multipart/form-data; boundary=XyZ" \
	--data-binary "@$E2E_TMP/cut.body"
expect_eq "$STATUS" "400" "a form without its closing boundary: $BODY"
expect_eq "$(evidence_count)" "2" "every refusal recorded nothing"

# --- the same request, raw or as a form ------------------------------------------------
call "$agent" POST "/v1/disputes/$id/evidence?kind=photo&captured_at=$at&name=same.png" \
	-H "Idempotency-Key: same-file" -H "Content-Type: application/octet-stream" --data-binary "@$photo"
expect_eq "$STATUS" "201" "raw upload with a key"
raw_location=$(header Location)
call "$agent" POST "/v1/disputes/$id/evidence" -H "Idempotency-Key: same-file" \
	-F kind=photo -F "captured_at=$at" -F "file=@$photo;filename=same.png"
expect_eq "$STATUS:$(header Idempotent-Replayed)" "201:true" "the form retry of a raw upload is a replay"
expect_eq "$(header Location)" "$raw_location" "same evidence"
call "$agent" POST "/v1/disputes/$id/evidence" -H "Idempotency-Key: same-file" \
	-F kind=photo -F "captured_at=$at" -F "file=@$photo;filename=other.png"
expect_eq "$STATUS" "422" "another file name is another request"
expect_eq "$(evidence_count)" "3" "one evidence for the raw upload and its retries"

stop_server api
expect_eq "$STOP_CODE" "0" "the server stops cleanly"
expect_exit 0 rd audit verify --all
finish
