#!/usr/bin/env bash
# Installs the real clients the suite drives (Claude Code, Codex, the Anthropic
# TypeScript SDK, the OpenAI Node SDK) once into .cache/clients; safe to run
# again and again: it does nothing when the installed versions match the pins.
#   tests/clients/install.sh [DEST]     (DEST defaults to <repo>/.cache/clients)
# Reports on stderr only; the tests find the clients via
# $KEYLESS_TEST_CLIENTS/node_modules when set, else <repo>/.cache/clients.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DEST="${1:-$ROOT/.cache/clients}"
STAMP="$DEST/node_modules/.keyless-clients-lock.sha256"

die() { echo "clients/install.sh: $*" >&2; exit 1; }
say() { echo "clients/install.sh: $*" >&2; }

command -v node >/dev/null 2>&1 || die "node not found: Node.js >= 20 is required"
command -v npm >/dev/null 2>&1 || die "npm not found: install npm alongside node"
[ -f "$HERE/package-lock.json" ] || die "package-lock.json missing in $HERE"

# The pins, read from package.json so there is one place to change them.
pins="$(node -p "Object.entries(require('$HERE/package.json').dependencies).map(([n,v])=>n+'@'+v).join(' ')")"

installed_ok() {
  for pin in $pins; do
    name="${pin%@*}"; want="${pin##*@}"
    have="$(node -p "try{require('$DEST/node_modules/$name/package.json').version}catch(e){''}" 2>/dev/null)"
    [ "$have" = "$want" ] || return 1
  done
  want_sum="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)"
  [ "$(cat "$STAMP" 2>/dev/null || true)" = "$want_sum" ]
}

if ! installed_ok; then
  say "npm ci into $DEST ($pins)"
  mkdir -p "$DEST"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$DEST/"
  # Installing never phones anything but the registry: no audit, no fund, no update check.
  (
    cd "$DEST"
    DISABLE_AUTOUPDATER=1 npm ci --no-audit --no-fund --no-update-notifier --loglevel=error >&2
  ) || die "npm ci failed (is the npm registry reachable?)"
  cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1 > "$STAMP"
  installed_ok || die "installed versions do not match the pins in $HERE/package.json"
fi

# --- smoke: every client actually runs on this machine ------------------------
bin="$DEST/node_modules/.bin"
cc="$("$bin/claude" --version 2>&1)" || die "claude --version failed: $cc"
cx="$("$bin/codex" --version 2>&1)" || die "codex --version failed (its native binary comes from an optional dependency): $cx"
(cd "$DEST" && node -e "require('@anthropic-ai/sdk'); require('openai')") >/dev/null 2>&1 \
  || die "the Node SDKs do not load; delete $DEST/node_modules and rerun"
say "ok: claude $cc, $cx, @anthropic-ai/sdk $(node -p "require('$DEST/node_modules/@anthropic-ai/sdk/package.json').version"), openai $(node -p "require('$DEST/node_modules/openai/package.json').version")"
