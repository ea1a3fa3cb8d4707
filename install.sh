#!/usr/bin/env bash
# Install keyless: the release's binary for this machine, its shell
# completions and man pages, verified against the release's SHA256SUMS. No
# Rust toolchain needed.
#
#   ./install.sh [--prefix DIR] [--version V] [--from URL-or-DIR]
#   ./install.sh --uninstall [--prefix DIR]
#   ./install.sh --from-source [--prefix DIR]   # from a checkout: Rust >= 1.89 and a C compiler
#   curl -fsSL BASE/latest/download/install.sh | bash   # once a release is published
#
# --prefix DIR    where to install (default /usr/local as root, else ~/.local)
# --version V     that release instead of the latest
# --from SRC      one release's files: a URL or a directory holding SHA256SUMS
#                 and the archives (target/dist after scripts/package), instead
#                 of the project's releases (also KEYLESS_INSTALL_FROM)
# --uninstall     remove exactly the files this script installed under the prefix
# --from-source   build from this checkout with cargo (takes minutes)
#
# The project's releases (BASE) are its GitHub releases (the RELEASES line
# of this script); none is published there yet: until one is, use --from or
# --from-source.
# KEYLESS_RELEASE_BASE replaces BASE with a mirror laid out the same way
# (BASE/latest/download/FILE, BASE/download/vVERSION/FILE).
#
# Nothing is installed unless the archive's SHA-256 matches its SHA256SUMS
# entry: a missing entry, a mismatch, a short download or an HTTP error stop
# it with a message and a non-zero exit. Installing over an earlier install
# upgrades it: files the new one does not have are removed.
set -euo pipefail

# The one release location; everything else derives from it.
RELEASES="${KEYLESS_RELEASE_BASE:-https://github.com/keyless-cli/keyless/releases}"
RELEASES=${RELEASES%/}
MIN_RUST="1.89"

prog=install.sh
say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }
usage_error() { say "$* (try --help)"; exit 2; }

if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
version=""
from="${KEYLESS_INSTALL_FROM:-}"
unpublished=""
mode=install
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --version) [ $# -ge 2 ] || usage_error "--version needs a version, e.g. 0.1.0"; version=${2#v}; shift 2 ;;
    --version=*) version=${1#--version=}; version=${version#v}; shift ;;
    --from) [ $# -ge 2 ] || usage_error "--from needs a URL or a directory"; from=$2; shift 2 ;;
    --from=*) from=${1#--from=}; shift ;;
    --uninstall) mode=uninstall; shift ;;
    --from-source) mode=source; shift ;;
    -h|--help)
      if [ -f "$0" ]; then sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      else echo "usage: install.sh [--prefix DIR] [--version V] [--from URL-or-DIR] | --uninstall | --from-source"; fi
      exit 0 ;;
    *) usage_error "unknown option $1" ;;
  esac
done
case "$version" in
  "" | [0-9]*) ;;
  *) usage_error "--version wants a version number like 0.1.0, not '$version'" ;;
esac
case "$version" in *[!0-9A-Za-z.+-]*) usage_error "--version '$version' has characters no version has" ;; esac
# The manifest records absolute paths: --uninstall works from any directory.
case "$prefix" in
  "") usage_error "--prefix needs a directory" ;;
  /*) ;;
  *) prefix="$PWD/${prefix#./}" ;;
esac

manifest="$prefix/share/keyless/install-manifest"

# --- uninstall: exactly the manifest's files, then its empty directories ---
uninstall() {
  [ -f "$manifest" ] || die "nothing to uninstall: $manifest does not exist (was keyless installed with --prefix $prefix?)"
  local kind path
  while IFS=' ' read -r kind path; do
    [ "$kind" = file ] || continue
    case "$path" in "$prefix"/*) ;; *) die "refusing: $manifest names $path, outside $prefix" ;; esac
    if [ -f "$path" ] || [ -L "$path" ]; then rm -f -- "$path"; fi
  done < "$manifest"
  # Directories this script created, deepest first, if nothing else is in them.
  local dirs
  dirs=$(sed -n 's/^dir //p' "$manifest" | sort -r)
  rm -f -- "$manifest"
  while IFS= read -r path; do
    [ -n "$path" ] && rmdir -- "$path" 2>/dev/null || true
  done <<< "$dirs"
  say "removed keyless from $prefix"
}

# --- from source: the old way, honest about what it needs -------------------
from_source() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  [ -f "$here/Cargo.toml" ] || die "--from-source builds a checkout: git clone ${RELEASES%/releases} && cd keyless && ./install.sh --from-source"
  say "building from source needs Rust >= $MIN_RUST (rustup.rs; Debian 12's rustc 1.63 is too old) and a C compiler (cc, for the ring crate); it takes 3-4 minutes"
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed: install Rust >= $MIN_RUST with rustup, or install a release without --from-source"
  local have
  have=$(rustc --version 2>/dev/null | sed -n 's/^rustc \([0-9]*\.[0-9]*\).*/\1/p')
  if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$MIN_RUST" "$have" | sort -V | head -1)" != "$MIN_RUST" ]; then
    die "rustc $have is older than $MIN_RUST: run 'rustup update', or install a release without --from-source"
  fi
  command -v cc >/dev/null 2>&1 || die "no C compiler (cc): install gcc or clang (Debian: apt-get install build-essential)"
  (cd "$here" && cargo build --release --locked)
  local target_dir
  target_dir=$(cd "$here" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  stage_dir=$(mktemp -d)
  trap 'rm -rf "$stage_dir"' EXIT
  mkdir -p -- "$stage_dir/keyless"
  cp -- "${target_dir:-$here/target}/release/keyless" "$stage_dir/keyless/"
  cp -r -- "$here/completions" "$here/man" "$here/docs/auth-status.schema.json" "$stage_dir/keyless/"
  place "$stage_dir/keyless"
}

# --- download and verify ----------------------------------------------------
host_target() {
  local os arch
  os=$(uname -s); arch=$(uname -m)
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no release binary for the $arch processor: build it with --from-source" ;;
  esac
  case "$os" in
    Linux) echo "$arch-unknown-linux-musl" ;;
    Darwin) echo "$arch-apple-darwin" ;;
    *) die "no release binary for $os here (Windows: install.ps1): build it with --from-source" ;;
  esac
}

# fetch SOURCE-RELATIVE-NAME OUTPUT: from a URL (curl or wget, failing on
# any HTTP error and on a body shorter than its Content-Length) or a directory.
fetch() {
  local name=$1 out=$2 src=$3
  case "$src" in
    http://* | https://*)
      local url="$src/$name" progress=-sS
      [ -t 2 ] && [ "$name" != SHA256SUMS ] && progress=--progress-bar
      if command -v curl >/dev/null 2>&1; then
        curl --fail --location --proto '=https,http' "$progress" -o "$out" "$url" \
          || die "cannot download $url (see curl's message above); nothing was installed$unpublished"
      elif command -v wget >/dev/null 2>&1; then
        local -a wget_progress=()
        [ "$progress" = --progress-bar ] && wget_progress=(--show-progress)
        wget -q ${wget_progress[@]+"${wget_progress[@]}"} -O "$out" "$url" || die "cannot download $url (wget failed); nothing was installed$unpublished"
      else
        die "neither curl nor wget is installed: install one, or download the archive and use --from DIR"
      fi ;;
    *)
      [ -f "$src/$name" ] || die "$src/$name does not exist; nothing was installed"
      cp -- "$src/$name" "$out" ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

download() {
  local target src
  target=$(host_target)
  if [ -n "$from" ]; then
    src=${from%/}
  elif [ -n "$version" ]; then
    src="$RELEASES/download/v$version"
  else
    src="$RELEASES/latest/download"
  fi
  # The project's own location may have no release yet: say what works then.
  [ -n "$from" ] || unpublished=". Is a release published at $RELEASES yet? If not: build one with scripts/package and run ./install.sh --from target/dist, or ./install.sh --from-source"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  say "fetching SHA256SUMS from $src"
  fetch SHA256SUMS "$work/SHA256SUMS" "$src"
  # The entry names the archive (and so the version) for this target.
  local pattern entry name want
  if [ -n "$version" ]; then pattern="keyless-$version-$target.tar.gz"
  else pattern="keyless-VERSION-$target.tar.gz"; fi
  # Exactly keyless-VERSION-TARGET.tar.gz, VERSION a release's number
  # (1.2.3, 1.2.3-rc.1, 1.2.3+build): never a path, never another target's.
  entry=$(awk -v t="$target" -v v="$version" '
    NF == 2 && length($1) == 64 && $1 ~ /^[0-9a-f]+$/ {
      n = $2; sub(/^\*/, "", n); suffix = "-" t ".tar.gz"
      if (v != "") { if (n == "keyless-" v suffix) print $1 " " n; next }
      if (index(n, "keyless-") != 1 || length(n) <= length("keyless-" suffix)) next
      if (substr(n, length(n) - length(suffix) + 1) != suffix) next
      ver = substr(n, 9, length(n) - 8 - length(suffix))
      if (ver ~ /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?(\+[0-9A-Za-z.]+)?$/) print $1 " " n
    }' "$work/SHA256SUMS" | sort -k2 -V | tail -1)
  [ -n "$entry" ] || die "SHA256SUMS at $src has no entry for $pattern; nothing was installed"
  want=${entry%% *}
  name=${entry##* }
  say "downloading $name"
  fetch "$name" "$work/$name" "$src"
  local got
  got=$(sha256 "$work/$name")
  [ "$got" = "$want" ] || die "$name does not match SHA256SUMS (expected $want, got $got): a damaged or tampered download; nothing was installed"
  say "verified $name (sha256 $want)"
  mkdir -- "$work/x"
  tar -xzf "$work/$name" -C "$work/x" || die "cannot unpack $name; nothing was installed"
  local dir="$work/x/${name%.tar.gz}"
  [ -x "$dir/keyless" ] || die "$name holds no keyless binary; nothing was installed"
  place "$dir"
}

# --- place the files and record them ----------------------------------------
place() {
  local dir=$1 new_manifest d earlier=""
  new_manifest=$(mktemp)
  if [ -f "$manifest" ] && [ -x "$prefix/bin/keyless" ]; then
    earlier=$("$prefix/bin/keyless" --version 2>/dev/null) || earlier=""
  fi
  local -a dirs=("$prefix" "$prefix/bin" "$prefix/share" "$prefix/share/man" "$prefix/share/man/man1"
    "$prefix/share/bash-completion" "$prefix/share/bash-completion/completions"
    "$prefix/share/zsh" "$prefix/share/zsh/site-functions"
    "$prefix/share/fish" "$prefix/share/fish/vendor_completions.d"
    "$prefix/share/keyless" "$prefix/share/keyless/completions")
  # An earlier install's directory records carry over: they are ours.
  [ -f "$manifest" ] && grep '^dir ' "$manifest" >> "$new_manifest" || true
  # Each file and directory is recorded before it is placed; a failure part
  # way keeps the record (with the earlier install's), so --uninstall
  # removes what was placed.
  keep_record() {
    if [ -d "$prefix/share/keyless" ]; then
      # Not the file that failed (unless an earlier install recorded it).
      { [ -f "$manifest" ] && cat -- "$manifest"; grep -vxF -- "file ${2:-}" "$new_manifest" || true; } | sort -u > "$manifest.part" \
        && mv -f -- "$manifest.part" "$manifest"
      rm -f -- "$new_manifest"
      die "$1; what was placed is listed in $manifest: ./install.sh --uninstall --prefix $prefix removes it"
    fi
    # No place for a record yet: only directories were made; they go.
    local made
    sed -n 's/^dir //p' "$new_manifest" | sort -r | while IFS= read -r made; do
      rmdir -- "$made" 2>/dev/null || true
    done
    rm -f -- "$new_manifest"
    die "$1"
  }
  for d in "${dirs[@]}"; do
    if [ ! -d "$d" ]; then
      echo "dir $d" >> "$new_manifest"
      mkdir -p -- "$d" || keep_record "cannot create $d (try --prefix, or run as root)"
    fi
  done
  put() {
    local existed=""
    [ -e "$3" ] || [ -L "$3" ] && existed=1
    echo "file $3" >> "$new_manifest"
    if ! install -m "$1" -- "$2" "$3"; then
      # A file this run began to write goes; one that was there stays.
      [ -z "$existed" ] && [ -f "$3" ] && rm -f -- "$3"
      keep_record "cannot install $3" "$3"
    fi
  }
  put 0755 "$dir/keyless" "$prefix/bin/keyless"
  put 0644 "$dir/completions/keyless.bash" "$prefix/share/bash-completion/completions/keyless"
  put 0644 "$dir/completions/_keyless" "$prefix/share/zsh/site-functions/_keyless"
  put 0644 "$dir/completions/keyless.fish" "$prefix/share/fish/vendor_completions.d/keyless.fish"
  put 0644 "$dir/completions/_keyless.ps1" "$prefix/share/keyless/completions/_keyless.ps1"
  put 0644 "$dir/completions/keyless.elv" "$prefix/share/keyless/completions/keyless.elv"
  # auth status --help names it: the JSON schema of `auth status --json`.
  if [ -f "$dir/auth-status.schema.json" ]; then
    put 0644 "$dir/auth-status.schema.json" "$prefix/share/keyless/auth-status.schema.json"
  fi
  local page
  for page in "$dir"/man/*.1; do
    put 0644 "$page" "$prefix/share/man/man1/$(basename "$page")"
  done
  # An upgrade: the earlier install's files that this one does not have go.
  if [ -f "$manifest" ]; then
    local gone
    while IFS= read -r gone; do
      case "$gone" in "$prefix"/*) rm -f -- "$gone" ;; esac
    done < <(comm -23 <(sed -n 's/^file //p' "$manifest" | sort) <(sed -n 's/^file //p' "$new_manifest" | sort))
  fi
  sort -u "$new_manifest" > "$manifest"
  rm -f "$new_manifest"
  local v
  if v=$("$prefix/bin/keyless" --version 2>&1); then
    if [ -n "$earlier" ]; then say "replaced $earlier with $v in $prefix"
    else say "installed $v into $prefix"; fi
  else
    say "installed keyless into $prefix, but it does not run here: $v (try --from-source, or report it)"
  fi
  case ":$PATH:" in
    *":$prefix/bin:"*) say "keyless is on your PATH. Try: keyless demo" ;;
    *) say "$prefix/bin is not on your PATH, so \`keyless\` alone is not found yet. Try it now with:"
       echo "  $prefix/bin/keyless demo" >&2
       say "and add it to your PATH (e.g. in ~/.profile): export PATH=\"$prefix/bin:\$PATH\"" ;;
  esac
}

case "$mode" in
  uninstall) uninstall ;;
  source) from_source ;;
  install) download ;;
esac
