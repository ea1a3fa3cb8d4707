#!/usr/bin/env bash
# The Windows scenario's inputs (tests/cli/windows.rs): keyless.exe
# cross-built with mingw-w64, the ProcessPrng stand-in DLL beside it
# (prng.c; Wine 8.0 lacks bcryptprimitives.dll's ProcessPrng), and the
# scenario's child program (child.c). Prints the
# directory holding both. Installs Debian's wine64 and gcc-mingw-w64-x86-64
# (pinned) when missing and run as root.
#   tests/windows/build.sh [release]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../.."

# Debian 12's versions; the scenario was written against them.
WINE_VERSION="8.0~repack-4"
MINGW_VERSION="12.2.0-14+25.2"
need=()
dpkg-query -W -f='${Version}' wine64 2>/dev/null | grep -qx "$WINE_VERSION" || need+=("wine64=$WINE_VERSION")
dpkg-query -W -f='${Version}' gcc-mingw-w64-x86-64 2>/dev/null | grep -qx "$MINGW_VERSION" || need+=("gcc-mingw-w64-x86-64=$MINGW_VERSION")
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tests/windows/build.sh: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "tests/windows/build.sh: please install ${need[*]} first" >&2
    exit 1
  fi
fi
rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu \
  || rustup target add x86_64-pc-windows-gnu >&2

profile=debug
flags=()
if [ "${1:-}" = release ]; then profile=release; flags=(--release); fi
cargo build --locked --target x86_64-pc-windows-gnu --bin keyless "${flags[@]}" >&2
out="$PWD/target/x86_64-pc-windows-gnu/$profile"
dll="$out/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ "$HERE/prng.c" -nt "$dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" "$HERE/prng.c" -ladvapi32
fi
child="$out/keyless-test-child.exe"
if [ ! -f "$child" ] || [ "$HERE/child.c" -nt "$child" ]; then
  x86_64-w64-mingw32-gcc -municode -O2 -o "$child" "$HERE/child.c"
fi
echo "$out"
