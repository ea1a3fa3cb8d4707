#!/usr/bin/env bash
# Build keyless in release mode and install the binary, shell completions and
# man pages under a prefix. Safe to run again: it overwrites its own files.
#
#   ./install.sh                 # into /usr/local as root, else ~/.local
#   ./install.sh --prefix DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

if ! command -v cargo >/dev/null 2>&1; then
  echo "install.sh: cargo is not installed; install Rust from your package manager or rustup first" >&2
  exit 1
fi

echo "Building keyless (release)…" >&2
(cd "$here" && cargo build --release --locked --quiet)
target_dir=$(cd "$here" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="${target_dir:-$here/target}/release/keyless"

install -d "$prefix/bin" "$prefix/share/man/man1" \
  "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
  "$prefix/share/fish/vendor_completions.d" "$prefix/share/keyless/completions"
install -m 0755 "$bin" "$prefix/bin/keyless"
install -m 0644 "$here/completions/keyless.bash" "$prefix/share/bash-completion/completions/keyless"
install -m 0644 "$here/completions/_keyless" "$prefix/share/zsh/site-functions/_keyless"
install -m 0644 "$here/completions/keyless.fish" "$prefix/share/fish/vendor_completions.d/keyless.fish"
install -m 0644 "$here/completions/_keyless.ps1" "$prefix/share/keyless/completions/_keyless.ps1"
install -m 0644 "$here/completions/keyless.elv" "$prefix/share/keyless/completions/keyless.elv"
install -m 0644 "$here"/man/*.1 "$prefix/share/man/man1/"
install -m 0644 "$here/docs/auth-status.schema.json" "$prefix/share/keyless/auth-status.schema.json"

echo "Installed keyless $("$prefix/bin/keyless" --version | cut -d' ' -f2) into $prefix" >&2
case ":$PATH:" in
  *":$prefix/bin:"*) echo "keyless is on your PATH. Try: keyless demo" >&2 ;;
  *) echo "$prefix/bin is not on your PATH, so \`keyless\` alone is not found yet. Try it now with:" >&2
     echo "  $prefix/bin/keyless demo" >&2
     echo "and add it to your PATH (e.g. in ~/.profile): export PATH=\"$prefix/bin:\$PATH\"" >&2 ;;
esac
