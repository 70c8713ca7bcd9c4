#!/usr/bin/env bash
# Builds the Azure Functions code package that `cdktf deploy` ships: compiled code, host.json and
# production dependencies, zipped as .package/datasync-<hash>.zip (a new name per content, so
# Terraform redeploys exactly when the code changed).
set -euo pipefail
cd "$(dirname "$0")/.."
stage=.package/stage
rm -rf "$stage"
mkdir -p "$stage"
npm run build
cp -r dist host.json package.json package-lock.json "$stage/"
rm -rf "$stage/dist/infra"
# better-sqlite3 is only for the local host; the Functions entry point never loads it.
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
hash=$(cd "$stage" && find dist host.json package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
rm -f .package/datasync-*.zip
(cd "$stage" && zip -qr "../datasync-$hash.zip" .)
rm -rf "$stage"
echo ".package/datasync-$hash.zip"
