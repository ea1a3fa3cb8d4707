#!/usr/bin/env bash
# Installs the platforms' own client libraries that tests/cli/sandbox_platforms.rs
# runs against `keyless sandbox`'s stand-ins: the pinned npm packages of
# package-lock.json (@actions/core), when node_modules is missing or stale.
# (The Python ones, google-auth and azure-identity, are on scripts/test's pip line.)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STAMP="$HERE/node_modules/.keyless-platform-lock.sha256"

command -v node >/dev/null 2>&1 || { echo "tests/platform/install.sh: node not found (Node.js >= 20 is required)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "tests/platform/install.sh: npm not found" >&2; exit 1; }
want="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -f "$HERE/node_modules/@actions/core/package.json" ]; then
  echo "tests/platform/install.sh: npm ci in $HERE" >&2
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >&2) \
    || { echo "tests/platform/install.sh: npm ci failed (is the npm registry reachable?)" >&2; exit 1; }
  echo "$want" > "$STAMP"
fi
(cd "$HERE" && node --input-type=module -e "await import('@actions/core')") \
  || { echo "tests/platform/install.sh: @actions/core does not load; delete $HERE/node_modules and rerun" >&2; exit 1; }
