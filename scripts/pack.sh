#!/usr/bin/env bash
# `pnpm pack:all [folder]`: builds @kokyaku/core, @kokyaku/server, @kokyaku/client, @kokyaku/console, @kokyaku/vendure and @kokyaku/medusa and packs
# each into a tarball (default folder: .packs/), exactly as `npm publish` would upload it. Until the
# packages are on the npm registry, a project installs Kokyaku from these files (README, "Embed it").
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mkdir -p "${1:-.packs}" && cd "${1:-.packs}" && pwd)"
pnpm --silent build >/dev/null
for pkg in core server client console vendure medusa; do
  (cd "packages/$pkg" && pnpm pack --pack-destination "$out" >/dev/null)
done
ls "$out"/kokyaku-*.tgz
