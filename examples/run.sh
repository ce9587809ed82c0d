#!/bin/sh
# `make run`: serve the HTTP API on $LISTEN (default 127.0.0.1:8080) with
# the data directory $DATA (default ./redress-data), ready to try with curl.
#
# On the first run it creates the data directory, an admin key and a demo
# storefront key (storefront "demo-shop"). redress keeps only the hashes of
# API keys, so the two demo keys are written to $DATA/demo-keys.env (mode
# 0600) and printed again from there on every later run. It ends by
# exec'ing `redress serve`, so Ctrl-C (or SIGTERM) stops the server itself.
# Production keys are made with `redress key create`, never with this.
set -eu

REDRESS=${REDRESS:-build/redress}
DATA=${DATA:-./redress-data}
LISTEN=${LISTEN:-127.0.0.1:8080}
STOREFRONT=demo-shop
KEYS="$DATA/demo-keys.env"

# create_key ROLE NAME [--storefront S]: the new key, from `key create`
create_key() {
	role=$1 name=$2
	shift 2
	"$REDRESS" key create --data "$DATA" --role "$role" --name "$name" "$@" 2>/dev/null |
		sed -n 's/^key \(rdk_[A-Za-z0-9_-]*\)$/\1/p'
}

# key_from_file NAME: the value of NAME=... in the demo keys file
key_from_file() {
	sed -n "s/^$1=\(rdk_[A-Za-z0-9_-]*\)\$/\1/p" "$KEYS"
}

if [ -f "$KEYS" ]; then
	first_run=0
else
	first_run=1
	"$REDRESS" init --data "$DATA" >/dev/null
	admin=$(create_key admin demo-admin)
	shop=$(create_key storefront "$STOREFRONT" --storefront "$STOREFRONT")
	if [ -z "$admin" ] || [ -z "$shop" ]; then
		echo "run.sh: could not create the demo keys in $DATA" >&2
		exit 1
	fi
	# written whole under another name, then renamed: never half a file
	(
		umask 077
		{
			echo "# The demo API keys of \`make run\` (examples/run.sh)."
			echo "# redress keeps only their hashes; this file is the only copy."
			echo "REDRESS_ADMIN_KEY=$admin"
			echo "REDRESS_STOREFRONT_KEY=$shop"
			echo "REDRESS_STOREFRONT=$STOREFRONT"
		} >"$KEYS.tmp"
	)
	chmod 600 "$KEYS.tmp"
	mv "$KEYS.tmp" "$KEYS"
fi

admin=$(key_from_file REDRESS_ADMIN_KEY)
shop=$(key_from_file REDRESS_STOREFRONT_KEY)
if [ -z "$admin" ] || [ -z "$shop" ]; then
	echo "run.sh: $KEYS does not hold the two demo keys; remove it to make new ones" >&2
	exit 1
fi

host=${LISTEN%:*}
port=${LISTEN##*:}
url="http://$host:$port"
try="Try:"
if [ "$port" = 0 ]; then
	url="http://$host:PORT"
	try="Try (PORT is the one announced below):"
fi

if [ "$first_run" = 1 ]; then
	echo "First run: created $DATA, an admin key and a demo storefront key."
else
	echo "Using $DATA and its demo keys from $KEYS."
fi
echo
printf '  %-28s %s\n' "admin key" "$admin" \
	"storefront key ($STOREFRONT)" "$shop"
cat <<MSG

redress stores only the hashes of API keys, so these demo keys are kept in
$KEYS (mode 0600) and shown again on every run.
Production keys are made with \`redress key create\` (docs/operations.md).

$try
  curl -s -H "Authorization: Bearer $admin" $url/v1/workflows
  curl -s -H "Authorization: Bearer $shop" $url/v1/payables
or open the web console at $url/ui/ and paste a key (docs/console.md).

Ctrl-C stops the server.

MSG

exec "$REDRESS" serve --listen "$LISTEN" --data "$DATA"
