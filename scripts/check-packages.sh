#!/usr/bin/env bash
# The published packages, built, as users receive them: publint (package.json against the files)
# and are-the-types-wrong (types resolve for Node ESM, Node CJS and bundlers). Run after `pnpm build`.
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in core server client console vendure medusa; do
  echo "== @kokyaku/$pkg"
  exclude=()
  # A data file, not a module: nothing to type.
  [ "$pkg" = server ] && exclude=(--exclude-entrypoints ./schema.graphql)
  (cd "packages/$pkg" && pnpm exec publint --strict && pnpm exec attw --pack . --profile node16 --format table-flipped "${exclude[@]}")
done
