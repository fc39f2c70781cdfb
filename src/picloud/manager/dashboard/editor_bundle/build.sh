#!/bin/sh
# Rebuild static/vendor/codemirror.min.js (and its licence notice) from the npm packages pinned
# in package-lock.json. The output is committed, so serving the dashboard needs no Node.js; run
# this only to upgrade CodeMirror: `sh src/picloud/manager/dashboard/editor_bundle/build.sh`.
# node_modules lives in a temporary directory so it never lands inside the Python package.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
vendor="$here/../static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$here/entry.mjs" "$here/licences.mjs" "$work/"
cd "$work"
npm ci --no-audit --no-fund --loglevel=error
npx esbuild entry.mjs --bundle --minify --format=iife --global-name=CM --legal-comments=none \
    --banner:js="/* CodeMirror 6 for the PiCloud dashboard; versions and licences: codemirror.LICENSE.txt */" \
    --outfile="$vendor/codemirror.min.js" --log-level=warning
node licences.mjs >"$vendor/codemirror.LICENSE.txt"
echo "wrote $vendor/codemirror.min.js"
