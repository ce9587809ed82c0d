#!/usr/bin/env bash
# Remakes the committed upgrade fixture with a release's binary:
#
#   tests/upgrade/remake.bash path/to/release/redress
#
# runs make-fixture.bash, packs the result as release-1-data.tar.gz (fixed
# owner, order and times), unpacks it twice and dumps each copy with
# dump.bash (the two dumps must be identical), checks `audit verify --all`
# on it, and writes the dump as release-1-expected/. Run it from a
# checkout of the release that made the binary (see README.md).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 REDRESS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REDRESS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
T=$(mktemp -d "${TMPDIR:-/tmp}/redress-fixture-XXXXXX")
trap 'rm -rf "$T"' EXIT

REDRESS=$REDRESS "$HERE/make-fixture.bash" "$T/release-1"
[ -z "$(find "$T/release-1/data" -name '*-wal' -o -name 'journal-*')" ] ||
	{ echo "remake: the data directory was left open" >&2; exit 1; }
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-03-07 12:00:00Z' \
	-C "$T" -cf - release-1 | gzip -9n >"$T/release-1-data.tar.gz"

for copy in a b; do
	mkdir "$T/$copy"
	tar -xzf "$T/release-1-data.tar.gz" -C "$T/$copy"
	"$HERE/dump.bash" "$T/$copy/release-1/data" "$REDRESS" "$T/dump-$copy"
done
diff -r "$T/dump-a" "$T/dump-b" || { echo "remake: two dumps differ" >&2; exit 1; }
(
	cd "$T/a/release-1"
	REDRESS_DATA=$PWD/data REDRESS_WORKFLOWS=$PWD/fixture/config/workflows \
		REDRESS_POLICY=$PWD/fixture/config/policy.json REDRESS_KINDS=$PWD/fixture/config/kinds.json \
		REDRESS_NOW=$(cat fixture/now) "$REDRESS" audit verify --all
)

cp "$T/release-1-data.tar.gz" "$HERE/release-1-data.tar.gz"
rm -rf "$HERE/release-1-expected"
cp -r "$T/dump-a" "$HERE/release-1-expected"
echo "remade $HERE/release-1-data.tar.gz ($(stat -c %s "$HERE/release-1-data.tar.gz") bytes) and release-1-expected/"
