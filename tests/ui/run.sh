#!/bin/sh
# `make ui-test`: the web console's browser tests (console.test.mjs) in
# Debian's headless Chromium, driven by playwright-core from the npm
# registry at the version tests/ui/package-lock.json pins; no browser is
# downloaded. Installs what is missing of Debian's chromium and
# chromium-driver, and of Node.js and npm (looked for as commands:
# NodeSource's nodejs carries npm and conflicts with Debian's npm), then
# `npm ci` here and the tests against $REDRESS (default build/redress).
# Screenshots go to $REDRESS_UI_ARTIFACTS (default build/ui-test).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
REDRESS=${REDRESS:-$root/build/redress}
case "$REDRESS" in
/*) ;;
*) REDRESS=$(pwd)/$REDRESS ;;  # relative to where it was asked for
esac
export REDRESS

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
missing=""
for pkg in chromium chromium-driver; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $pkg"
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "installing Debian packages:$missing"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
	echo "ui-test: playwright-core needs Node.js 20 or later; this is $(node --version)" >&2
	exit 1
fi
if [ ! -x "$REDRESS" ]; then
	echo "ui-test: no redress binary at $REDRESS (build first, or set REDRESS)" >&2
	exit 1
fi

cd "$here"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
exec node --test console.test.mjs
