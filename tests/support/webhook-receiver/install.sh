#!/bin/sh
# install.sh DEST: the webhook receiver's packages (package.json and
# package-lock.json beside this script) installed with `npm ci` into DEST,
# a directory of the build tree (ctest's fixture webhook/receiver-install,
# tests/CMakeLists.txt), never into the source tree. Nothing is done when
# DEST/node_modules was installed from this very lockfile already (a copy
# of it is kept as DEST/node_modules/.redress-lock). receiver.mjs finds the
# packages through REDRESS_WEBHOOK_RECEIVER_DIR=DEST.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: install.sh DEST}

for cmd in node npm; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "webhook receiver: no $cmd; \`make test\` installs Node.js and npm" >&2
		exit 1
	fi
done

mkdir -p "$dest"
if cmp -s "$here/package-lock.json" "$dest/node_modules/.redress-lock" &&
	cmp -s "$here/package.json" "$dest/package.json"; then
	echo "webhook receiver: $dest/node_modules is up to date with the lockfile"
	exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dest/"
cd "$dest"
rm -f node_modules/.redress-lock
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.redress-lock
echo "webhook receiver: installed into $dest/node_modules ($(node -p 'require("standardwebhooks/package.json").version' 2>/dev/null || echo '?'))"
