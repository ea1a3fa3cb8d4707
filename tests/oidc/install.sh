#!/usr/bin/env bash
# Installs what the OIDC test harness needs; safe to run again and again.
#   - Debian's chromium (/usr/bin/chromium), when missing and we are root
#   - the pinned npm packages (npm ci), when node_modules is missing or stale
# Never downloads a browser build of its own (playwright-core has no
# postinstall; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set anyway).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHROMIUM="${KEYLESS_TEST_CHROMIUM:-/usr/bin/chromium}"
STAMP="$HERE/node_modules/.keyless-harness-lock.sha256"

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*" >&2; }

# --- node + npm --------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node not found: Node.js >= 20.18 is required (this machine kind ships node 20)"
command -v npm >/dev/null 2>&1 || die "npm not found: install npm alongside node"
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 18)) process.exit(1);
' || die "Node.js $(node -v) is too old: oidc-provider 9 needs >= 20.18 (URL.parse, crypto.hash)"

# --- chromium ----------------------------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
  if [ "$CHROMIUM" != /usr/bin/chromium ]; then
    die "KEYLESS_TEST_CHROMIUM=$CHROMIUM is not an executable"
  fi
  if [ "$(id -u)" -ne 0 ]; then
    die "/usr/bin/chromium is missing and we are not root: run 'apt-get update && apt-get install -y chromium' as root"
  fi
  command -v apt-get >/dev/null 2>&1 || die "/usr/bin/chromium is missing and there is no apt-get (Debian's chromium package is expected)"
  say "installing Debian's chromium (apt-get update + install)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq chromium fonts-liberation >&2 || die "apt-get install chromium failed"
  [ -x /usr/bin/chromium ] || die "chromium installed but /usr/bin/chromium is still missing"
fi
"$CHROMIUM" --version >/dev/null 2>&1 || die "$CHROMIUM --version failed"

# --- npm packages ------------------------------------------------------------
[ -f "$HERE/package-lock.json" ] || die "package-lock.json missing in $HERE"
want="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ] \
  || [ ! -f "$HERE/node_modules/oidc-provider/package.json" ] \
  || [ ! -f "$HERE/node_modules/playwright-core/package.json" ] \
  || [ ! -f "$HERE/node_modules/jose/package.json" ]; then
  say "npm ci in $HERE"
  (
    cd "$HERE"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
  ) || die "npm ci failed (is the npm registry reachable?)"
  echo "$want" > "$STAMP"
fi

# --- smoke: the modules load ---------------------------------------------------
(cd "$HERE" && node --input-type=module -e "
  await import('oidc-provider');
  await import('playwright-core');
  await import('jose');
") >/dev/null 2>&1 || die "node modules do not load; delete $HERE/node_modules and rerun"

say "ok: $("$CHROMIUM" --version 2>/dev/null), node $(node -v), oidc-provider $(node -p "require('$HERE/node_modules/oidc-provider/package.json').version"), playwright-core $(node -p "require('$HERE/node_modules/playwright-core/package.json').version")"
