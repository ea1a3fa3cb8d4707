#!/usr/bin/env bash
# Performance figures for the README (not a test): cache-hit latency against
# `cat` of the same cache file, max RSS, and a cold exchange against a local
# sandbox. Needs hyperfine and GNU time (installed from Debian's packages when
# root). Max RSS comes from GNU time, whose small fork does not inflate it.
#   ./bench.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

missing=()
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench.sh: install ${missing[*]} first" >&2; exit 1
  fi
fi

cargo build --release --locked --quiet
bin=$PWD/target/release/keyless
work=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
export KEYLESS_CONFIG_DIR=$work/config KEYLESS_CACHE_DIR=$work/cache

"$bin" sandbox > "$work/sandbox.out" 2>/dev/null &
sandbox_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/sandbox.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$work/sandbox.out")
"$bin" -q setup anthropic --base-url "$url" --federation-rule-id fdrl_01sandboxdefault \
  --organization-id 5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550 --service-account-id svac_01sandbox \
  --workspace-id wrkspc_01sandbox --identity "command:$bin sandbox identity-token --issuer $url"
"$bin" credential anthropic > /dev/null
cache_file=$(ls "$KEYLESS_CACHE_DIR"/anthropic-*.json)

hyperfine -N --warmup 50 --runs 1000 --export-json "$work/hit.json" \
  -n "keyless credential anthropic (cache hit)" "$bin credential anthropic" \
  -n "cat cache file" "cat $cache_file" > "$work/hit.txt"
hyperfine -N --warmup 3 --runs 100 --export-json "$work/cold.json" \
  --prepare "rm -f $cache_file" \
  -n "cold exchange against the sandbox" "$bin credential anthropic" > "$work/cold.txt"

python3 - "$work" "$bin" <<'PY'
import json, subprocess, sys
work, binary = sys.argv[1], sys.argv[2]
def max_rss_mb(*args):
    r = subprocess.run(["/usr/bin/time", "-f", "%M", binary, *args],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return int(r.stderr.strip().splitlines()[-1]) / 1024
def med(path, i=0):
    return json.load(open(f"{work}/{path}"))["results"][i]["median"] * 1000
hit, cat, cold = med("hit.json", 0), med("hit.json", 1), med("cold.json")
rss_hit = max_rss_mb("credential", "anthropic")
rss_any = max_rss_mb("credential", "anthropic", "--force-refresh")
rows = [
    ("cache hit, median", f"{hit:.2f} ms", "< 3 ms and < 2x cat"),
    ("cat of the cache file, median", f"{cat:.2f} ms", ""),
    ("hit / cat", f"{hit / cat:.2f}x", "< 2x"),
    ("cold exchange, median", f"{cold:.2f} ms", "< 20 ms"),
    ("max RSS, cache hit", f"{rss_hit:.1f} MB", "< 10 MB"),
    ("max RSS, exchange", f"{rss_any:.1f} MB", "< 10 MB"),
]
print("| measure | value | target |\n|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} |")
ok = hit < 3 and hit / cat < 2 and cold < 20 and rss_any < 10
print("\nall targets met" if ok else "\nsome targets missed", file=sys.stderr)
PY
