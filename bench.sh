#!/usr/bin/env bash
# Performance figures for the README (not a test), issue 12's table: every
# figure as a ratio against a baseline measured in the same run, its target,
# and whether it is met. Timings are interleaved: each round runs every
# command of a group (hyperfine -N, no shell), and the medians are over all
# rounds, so load from other processes falls on both sides of a ratio.
# Needs hyperfine and GNU time, and for `exec --proxy`'s figures (issue 21,
# scripts/bench_proxy.py) nginx-light, wrk, curl and openssl (installed from
# Debian's packages when root).
#   ./bench.sh            # BENCH_ROUNDS=N for more rounds (default 8)
#   ./bench.sh hit        # only the cache-hit and exchange figures
#   ./bench.sh proxy      # only exec --proxy's (BENCH_ROUNDS_PROXY, default 4: one whole turn of its order)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

part=${1:-all}
missing=()
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ "$part" != hit ]; then
  command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench.sh: install ${missing[*]} first" >&2; exit 1
  fi
fi

target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="${target_dir:-$PWD/target}/release/keyless"
work=$(mktemp -d)
if [ "$part" != hit ]; then
  # the same proxy without its gate, to measure what the gate adds
  cargo build --release --locked --quiet --features bench-no-gate
  cp "$bin" "$work/keyless-without-gate"
  # the floor: the least a proxy can do here (examples/bare_forwarder.rs)
  cargo build --release --locked --quiet --example bare_forwarder
fi
# KEYLESS_BENCH_BIN=PATH measures that binary (scripts/test-package: the
# static release artifact, with `./bench.sh hit`) instead of building one.
if [ -n "${KEYLESS_BENCH_BIN:-}" ]; then
  bin=$KEYLESS_BENCH_BIN
else
  cargo build --release --locked --quiet
fi
sandbox_pid=
trap '[ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null; rm -rf "$work"' EXIT
export KEYLESS_CONFIG_DIR=$work/config KEYLESS_CACHE_DIR=$work/cache

"$bin" sandbox > "$work/sandbox.out" 2>/dev/null &
sandbox_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/sandbox.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$work/sandbox.out")
# A file: identity source, as a Kubernetes or SPIFFE workload has: each cold
# run gets a new JWT in the file first (identity tokens are single-use).
"$bin" sandbox identity-token --issuer "$url" > "$work/jwt"
"$bin" -q setup anthropic --base-url "$url" --federation-rule-id fdrl_01sandboxdefault \
  --organization-id 5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550 --service-account-id svac_01sandbox \
  --workspace-id wrkspc_01sandbox --identity "file:$work/jwt"
"$bin" credential anthropic > /dev/null

if [ "$part" != hit ]; then
  python3 scripts/bench_proxy.py "$bin" "$work/keyless-without-gate" "$url" "$work/proxy" \
    "${target_dir:-$PWD/target}/release/examples/bare_forwarder"
  [ "$part" = proxy ] && exit 0
fi

python3 - "$work" "$bin" "$url" "${BENCH_ROUNDS:-8}" <<'PY'
import glob, json, os, shutil, statistics, subprocess, sys, time, urllib.request
work, binary, url, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cache = os.environ["KEYLESS_CACHE_DIR"]
cache_file = glob.glob(f"{cache}/anthropic-*.json")[0]
name = os.path.basename(cache_file)
true = shutil.which("true")
fresh_jwt = f"{binary} sandbox identity-token --issuer {url} > {work}/jwt"

def exchanges():
    with urllib.request.urlopen(f"{url}/_sandbox/history") as r:
        return json.load(r)["exchanges"]

# Two more cache dirs with the same configuration: a ledger of 10 and of
# 10,000 unexpired records of other JWTs (neither is pruned).
def ledger_dir(n):
    d = f"{work}/cache{n}"
    os.makedirs(f"{d}/exchanged", mode=0o700)
    exp = int(time.time()) + 86_400
    for i in range(n):
        p = f"{d}/exchanged/anthropic-{i:064x}"
        with open(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600), "w") as f:
            json.dump({"state": "sent", "exp": exp, "claimed_at": exp - 3600, "sent_at": exp - 3600}, f)
    return d
small, large = ledger_dir(10), ledger_dir(10_000)

samples = {}
def hyperfine(runs, commands, prepare=None, env=None):
    out = f"{work}/h.json"
    args = ["hyperfine", "-N", "--style", "none", "--warmup", str(min(2, runs - 1)), "--runs", str(runs),
            "--export-json", out]
    for label, cmd in commands:
        if prepare:
            args += ["--prepare", prepare]
        args += ["-n", label, cmd]
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, **(env or {})))
    if r.returncode != 0:
        sys.exit(f"bench.sh: hyperfine failed:\n{r.stderr}")
    for r in json.load(open(out))["results"]:
        samples.setdefault(r["command"], []).extend(r["times"])

hit_group = [
    ("hit", f"{binary} credential anthropic"),
    ("cat", f"cat {cache_file}"),
    ("exec", f"{binary} exec -- {true}"),
    ("true", true),
    # the floor of any program that execs another, on this machine: coreutils
    # env execing true, against env alone plus true
    ("env true", f"env {true}"),
    ("env", "env"),
]
# The cold exchange in three cache dirs (the cache dir is a variable): the
# usual one, and the ledgers of 10 and of 10,000 records; one run each in
# turn, so that the three see the same load.
cold = f"{binary} credential anthropic"
drop = f"rm -f {cache_file} {small}/{name} {large}/{name}"
cold_dirs = (("cold", cache), ("cold10", small), ("cold10000", large))
def cold_round(runs):
    for label, d in cold_dirs:
        hyperfine(runs, [(label, cold)], prepare=f"sh -c '{fresh_jwt} && {drop}'",
                  env={"KEYLESS_CACHE_DIR": d})
def rewarm():
    # the last cold run spent the file's JWT elsewhere: warm up with a new one
    subprocess.run(["sh", "-c", f"{fresh_jwt} && {binary} credential anthropic >/dev/null"], check=True)
cold_round(3)  # warm-up: the first exchange in a ledger prunes it
rewarm()
samples.clear()
for _ in range(rounds):
    hyperfine(100, hit_group)
    for _ in range(5):
        cold_round(1)
    rewarm()
med = {k: statistics.median(v) * 1000 for k, v in samples.items()}

def gnu_time(fmt, n=21):
    vals = []
    for _ in range(n):
        r = subprocess.run(["/usr/bin/time", "-f", fmt, binary, "credential", "anthropic"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        vals.append(int(r.stderr.strip().splitlines()[-1]))
    return vals
faults = statistics.median(gnu_time("%R"))
rss = max(gnu_time("%M")) / 1024

# 256 credential processes at once, on a cold cache and then on a warm one.
def batch(n=256):
    t0 = time.perf_counter()
    ps = [subprocess.Popen([binary, "credential", "anthropic"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL) for _ in range(n)]
    outs = [(p.communicate()[0], p.returncode) for p in ps]
    return time.perf_counter() - t0, outs
cold_b, warm_b, one_exchange, all_ok = [], [], True, True
for _ in range(max(3, rounds // 2)):
    subprocess.run(["sh", "-c", f"{fresh_jwt} && rm -f {cache_file}"], check=True)
    before = exchanges()
    t, outs = batch()
    one_exchange &= exchanges() - before == 1
    all_ok &= all(rc == 0 for _, rc in outs) and len({o for o, _ in outs}) == 1
    cold_b.append(t)
    t, outs = batch()
    all_ok &= all(rc == 0 for _, rc in outs)
    warm_b.append(t)
par = statistics.median(cold_b) / statistics.median(warm_b)

rows = [
    ("cache-hit `credential anthropic`, median / `cat` of the cache file",
     f"{med['hit'] / med['cat']:.2f}× ({med['hit']:.2f} / {med['cat']:.2f} ms)", "≤ 1.25×",
     med["hit"] / med["cat"] <= 1.25),
    ("minor page faults of a cache hit", f"{faults:.0f}", "≤ 140", faults <= 140),
    ("max RSS of a cache hit", f"{rss:.1f} MB", "≤ 5 MB", rss <= 5),
    ("`exec -- true` on a hit, median / (hit median + `true` median)",
     f"{med['exec'] / (med['hit'] + med['true']):.2f}× ({med['exec']:.2f} / ({med['hit']:.2f} + {med['true']:.2f}) ms)",
     "≤ 1.15×", med["exec"] / (med["hit"] + med["true"]) <= 1.15),
    ("cold exchange on loopback (`file:` source), median / cache-hit median",
     f"{med['cold'] / med['hit']:.2f}× ({med['cold']:.2f} ms)", "≤ 3.5×", med["cold"] / med["hit"] <= 3.5),
    ("cold exchange with 10,000 ledger records / with 10",
     f"{med['cold10000'] / med['cold10']:.2f}× ({med['cold10000']:.2f} / {med['cold10']:.2f} ms)", "≤ 1.1×",
     med["cold10000"] / med["cold10"] <= 1.1),
    ("256 parallel `credential` on a cold cache: exchanges, all succeed, wall time / warm batch",
     f"{'1' if one_exchange else 'not 1'}, {'yes' if all_ok else 'NO'}, {par:.2f}× "
     f"({statistics.median(cold_b) * 1000:.0f} / {statistics.median(warm_b) * 1000:.0f} ms)",
     "1, yes, ≤ 1.5×", one_exchange and all_ok and par <= 1.5),
]
print("| figure | value | target | met |\n|---|---|---|---|")
for figure, value, target, ok in rows:
    print(f"| {figure} | {value} | {target} | {'met' if ok else 'NOT MET'} |")
floor = med["env true"] / (med["env"] + med["true"])
print(f"\nfor reference, the same ratio for coreutils `env true` (env execs true, as exec does): "
      f"{floor:.2f}× ({med['env true']:.2f} / ({med['env']:.2f} + {med['true']:.2f}) ms)")
missed = [r[0] for r in rows if not r[3]]
print("\nall targets met" if not missed else f"\n{len(missed)} target(s) not met", file=sys.stderr)
PY
