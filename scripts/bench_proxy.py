"""bench.sh's `exec --proxy` figures (issue 21), each as a ratio from one
interleaved run, with its target and whether it is met.

An nginx stands in for the API (a canned Messages reply, a 256 MiB file,
and the token endpoint passed on to keyless's sandbox), in plain HTTP and
over TLS (a private CA made here) with and without h2. Over TLS it reads a
call's whole body before it answers, as the API does; a second pair of TLS
servers answers as soon as the head arrives (nginx's `return 200`, which
over h2 makes nginx reset every stream), for reference. The anchor is a
second nginx doing what a credential proxy must do: one worker, a
keep-alive pool of 256 to the API, adding an Authorization header. `wrk`
drives both with the same POST, alternating which goes first.

FLOOR, when given, is examples/bare_forwarder.rs: the least an HTTP/1.1
credential proxy can do, checking nothing. Its requests per second against
nginx's, measured in the same rounds, are printed for reference: the ceiling
of the ratio any proxy can reach on this machine.

    python3 scripts/bench_proxy.py KEYLESS KEYLESS_WITHOUT_GATE SANDBOX_URL WORKDIR [FLOOR]
"""
import math, os, random, re, resource, signal, socket, statistics, subprocess, sys, time, urllib.request

binary, nogate, sandbox, work = sys.argv[1:5]
floor = sys.argv[5] if len(sys.argv) > 5 else None
rounds = int(os.environ.get("BENCH_ROUNDS_PROXY", "4"))
secs = os.environ.get("BENCH_PROXY_SECONDS", "3")
procs = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


# A private CA and a certificate for localhost (openssl: rcgen is the tests').
pki = f"{work}/pki"
os.makedirs(pki, exist_ok=True)
sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
   "-keyout", f"{pki}/ca.key", "-out", f"{pki}/ca.pem", "-days", "2", "-subj", "/CN=keyless bench CA")
sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
   "-keyout", f"{pki}/leaf.key", "-out", f"{pki}/leaf.csr", "-subj", "/CN=localhost")
with open(f"{pki}/ext", "w") as f:
    f.write("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
sh("openssl", "x509", "-req", "-in", f"{pki}/leaf.csr", "-CA", f"{pki}/ca.pem", "-CAkey", f"{pki}/ca.key",
   "-CAcreateserial", "-out", f"{pki}/leaf.pem", "-days", "2", "-extfile", f"{pki}/ext")

with open(f"{work}/big.bin", "wb") as f:
    f.truncate(256 << 20)
reply = ('{"id":"msg_01","type":"message","role":"assistant","model":"claude-test",'
         '"content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn",'
         '"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":4}}')
up, anchor, floor_port = free_port(), free_port(), free_port()
# Over TLS, h2 and HTTP/1.1 servers of two kinds: the stand-in that reads the
# body ("reads") and the one that answers before it ("early").
tls_ports = {(kind, proto): free_port() for kind in ("reads", "early") for proto in ("h2", "h1")}
sandbox_hostport = sandbox.removeprefix("http://").rstrip("/")
others = f"""
        location = /v1/big {{ alias {work}/big.bin; }}
        location = /_status {{ stub_status; }}
        location / {{ proxy_pass http://{sandbox_hostport}; }}"""
answers_early = f"""
        location = /v1/messages {{ default_type application/json; return 200 '{reply}'; }}""" + others
# `return` answers in the rewrite phase, before the body is read; the mirror
# module reads it first (mirror_request_body) and then lets the request go on
# to the content phase, where a missing file's 404 becomes the reply (its
# lookup cached, so that it costs no open() per call). Over HTTP/1.1 both
# stand-ins send the same bytes; the mirror is only nginx's own work.
reads_body = f"""
        location = /v1/messages {{ mirror /_read; mirror_request_body on; root {work}/none;
            open_file_cache max=16; open_file_cache_errors on; error_page 404 =200 @reply; }}
        location = /_read {{ internal; return 204; }}
        location @reply {{ default_type application/json; return 200 '{reply}'; }}""" + others
# nginx lifts flow control on a stream whose body it buffers with a
# WINDOW_UPDATE of its own (a write per call) unless the stream's window is
# already the largest: so the largest is what it offers. A preread buffer of
# that size (for DATA that comes before the body is asked for) is never
# made: every location here asks for the body (the mirror, proxy_pass) or
# drops it as soon as the stream's head is in, before its DATA (were one
# made, it would be address space the DATA never fills, not memory).
h2_window = "http2_body_preread_size 2147483647;"
def common(name):
    user = "user root; " if os.getuid() == 0 else ""
    return f"""{user}worker_processes 1; daemon off; pid {work}/{name}.pid; error_log {work}/{name}.err crit;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 10000000; keepalive_timeout 120s;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
"""


os.makedirs(f"{work}/tmp", exist_ok=True)
# TLS 1.3 as the real APIs speak it (Debian's nginx 1.22 offers only 1.2 unless told).
tls = f"ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate {pki}/leaf.pem; ssl_certificate_key {pki}/leaf.key;"
api_conf = common("api") + f"""
    server {{ listen 127.0.0.1:{up}; {answers_early} }}
    server {{ listen 127.0.0.1:{tls_ports["reads", "h2"]} ssl http2; {tls} {h2_window} {reads_body} }}
    server {{ listen 127.0.0.1:{tls_ports["reads", "h1"]} ssl; {tls} {reads_body} }}
    server {{ listen 127.0.0.1:{tls_ports["early", "h2"]} ssl http2; {tls} {answers_early} }}
    server {{ listen 127.0.0.1:{tls_ports["early", "h1"]} ssl; {tls} {answers_early} }}
}}"""
anchor_conf = common("anchor") + f"""
    upstream api {{ server 127.0.0.1:{up}; keepalive 256; keepalive_requests 10000000; }}
    server {{ listen 127.0.0.1:{anchor} backlog=1024;
        location / {{ proxy_pass http://api; proxy_http_version 1.1;
            proxy_set_header Connection ""; proxy_buffering off;
            proxy_set_header Authorization "Bearer sk-ant-oat01-bench-anchor"; }} }}
}}"""
for name, conf in (("api", api_conf), ("anchor", anchor_conf)):
    with open(f"{work}/{name}.conf", "w") as f:
        f.write(conf)
    procs.append(subprocess.Popen(["nginx", "-e", f"{work}/{name}.err", "-c", f"{work}/{name}.conf",
                                   "-p", work], stderr=subprocess.DEVNULL))
if floor:
    procs.append(subprocess.Popen([floor, f"127.0.0.1:{floor_port}", f"127.0.0.1:{up}"]))
for port in (up, anchor, *tls_ports.values()) + ((floor_port,) if floor else ()):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)


def accepts():
    with urllib.request.urlopen(f"http://127.0.0.1:{up}/_status") as r:
        return int(r.read().decode().split("\n")[2].split()[0])


def proxy(bin_, base, ca=None):
    """`exec --proxy` in a config dir of its own, pointing at `base`."""
    d = f"{work}/p{len(procs)}"
    env = dict(os.environ, KEYLESS_CONFIG_DIR=f"{d}/config", KEYLESS_CACHE_DIR=f"{d}/cache")
    if ca:
        env["KEYLESS_CA_FILE"] = ca
    jwt = f"{d}/jwt"
    os.makedirs(d)
    with open(jwt, "w") as f:
        f.write(sh(binary, "sandbox", "identity-token", "--issuer", sandbox).strip())
    sh(binary, "-q", "setup", "anthropic", "--base-url", base, "--federation-rule-id", "fdrl_01sandboxdefault",
       "--organization-id", "5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550", "--service-account-id", "svac_01sandbox",
       "--workspace-id", "wrkspc_01sandbox", "--identity", f"file:{jwt}", env=env)
    out = f"{d}/vars"
    p = subprocess.Popen([bin_, "exec", "--proxy", "--", "sh", "-c",
                          f'echo "$ANTHROPIC_BASE_URL $ANTHROPIC_AUTH_TOKEN" > {out}.tmp; mv {out}.tmp {out}; '
                          "exec sleep 100000"], env=env, stderr=subprocess.DEVNULL)
    procs.append(p)
    for _ in range(200):
        if os.path.exists(out):
            break
        time.sleep(0.05)
    url, cap = open(out).read().split()
    return p, url, cap


lua = f"{work}/post.lua"
with open(lua, "w") as f:
    f.write('wrk.method = "POST"\n'
            'wrk.body = \'{"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":"Hello"}]}\'\n'
            'wrk.headers["content-type"] = "application/json"\n'
            'wrk.headers["anthropic-version"] = "2023-06-01"\n'
            'wrk.headers["x-api-key"] = os.getenv("CAP")\n')


def ms(v):
    n, unit = re.match(r"([\d.]+)(\w+)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]


last_requests = 0


def wrk(url, cap, conns):
    global last_requests
    out = sh("wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency", "-s", lua, f"{url}/v1/messages",
             env=dict(os.environ, CAP=cap))
    # The distribution's own line: a Stdev column can end in "99%" too.
    if not re.search(r"^\s*99%\s+[\d.]+[a-z]+\s", out, re.M):
        sys.exit(f"bench_proxy: {url}: no latency figures from wrk:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    last_requests = int(re.search(r"^\s*(\d+) requests in ", out, re.M).group(1))
    p99 = ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"bench_proxy: {url}: {errors.group(1)} failed responses")
    return rps, p99


def big(url, cap):
    # The capability from a file (owner-only), not argv, where any local
    # user could read it while curl runs.
    header = f"{work}/cap-header"
    fd = os.open(header, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"x-api-key: {cap}\n")
    try:
        out = sh("curl", "-sS", "--fail", "--noproxy", "*", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
                 "-H", f"@{header}", f"{url}/v1/big")
    finally:
        os.unlink(header)
    size, t = out.split()
    # A refused or cut-short answer would read as a fast one.
    if int(size) != 256 << 20:
        sys.exit(f"bench_proxy: {url}/v1/big: {size} bytes, not 256 MiB")
    return float(t)


def cpu_s(pid, user_only=False):
    """CPU time (user and system, or only user) `pid` has used, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + (0 if user_only else int(fields[12]))) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def child_of(pid, what):
    """A child process of `pid` (`what`: an nginx master), found by the parent each /proc/N/stat names
    (every Linux has these; /proc/N/task/N/children needs CONFIG_PROC_CHILDREN)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            return int(d)
    sys.exit(f"bench_proxy: {what} (pid {pid}) has no worker process")


def vmhwm_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


def in_turn(runs, r):
    """The order of `runs` in round `r`: a row of a Williams design. Over
    len(runs) rounds (twice that for an odd number) each run takes each
    place equally often and follows each other run equally often, so that
    neither its place in a round nor what ran just before favours a run."""
    n = len(runs)
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:
        first.append(lo)
        lo += 1
        if len(first) < n:
            first.append(hi)
            hi -= 1
    rows = [[(i + shift) % n for i in first] for shift in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return [runs[i] for i in rows[r % len(rows)]]


try:
    nginx_url = f"http://127.0.0.1:{anchor}"
    # Upstream connections opened by a cold proxy during a 64-connection run.
    kp, kurl, kcap = proxy(binary, f"http://127.0.0.1:{up}")
    before = accepts()
    wrk(kurl, kcap, 64)
    opened64 = accepts() - before - 1
    # h2 over TLS: a cold proxy, 64 concurrent streams.
    tls_proxies = {}
    for kind in ("reads", "early"):
        for proto in ("h2", "h1"):
            tls_proxies[kind, proto] = proxy(binary, f"https://localhost:{tls_ports[kind, proto]}", f"{pki}/ca.pem")
    before = accepts()
    wrk(*tls_proxies["reads", "h2"][1:], 64)
    opened_h2 = accepts() - before - 1
    # The others warm too, so that no measured run pays for 64 handshakes.
    for key, (_, url, cap) in tls_proxies.items():
        if key != ("reads", "h2"):
            wrk(url, cap, 64)
    # The API's nginx worker (procs[0] is its master), for CPU per call.
    api_worker = child_of(procs[0].pid, "the API's nginx")
    # The process doing each proxy's work, for its CPU per call.
    proxy_pid = {"keyless": kp.pid, "nginx": child_of(procs[1].pid, "the anchor's nginx")}
    if floor:
        proxy_pid["floor"] = procs[2].pid
    _, ngurl, ngcap = proxy(nogate, f"http://127.0.0.1:{up}")

    res, log = {}, []
    def add(key, v):
        res.setdefault(key, []).append(v)
        log.append((r, key, v))  # r: the round being measured

    def measured(key, pid, url, cap, conns):
        """wrk's figures, and the CPU per call of the proxy `pid` (and its
        user time), the API's nginx and wrk, recorded under `key`."""
        def now():
            return cpu_s(pid), cpu_s(pid, True), cpu_s(api_worker), children_cpu_s()
        before = now()
        rps, p99 = wrk(url, cap, conns)
        for who, b, a in zip(("proxy", "user", "api", "wrk"), before, now()):
            add(key + (who, "cpu"), (a - b) * 1e6 / last_requests)
        return rps, p99
    loads = [os.getloadavg()[0]]
    for r in range(rounds):
        for ci, c in enumerate((1, 8, 64, 256)):
            # nginx runs twice in each round: keyless is compared with both
            # runs, and the second run with the first says how far two runs
            # of the same proxy differ (the bench's own resolution).
            runs = [("nginx", nginx_url, "x"), ("keyless", kurl, kcap), ("nginx again", nginx_url, "x")]
            if floor:
                runs.append(("floor", f"http://127.0.0.1:{floor_port}", "x"))
            # A row further on for each connection count, so that what ran
            # last at one count does not always go before the same run.
            for name, url, cap in in_turn(runs, r + ci):
                rps, p99 = measured((name, c), proxy_pid[name.split()[0]], url, cap, c)
                add((name, c, "rps"), rps)
                add((name, c, "p99"), p99)
        for kind, proto in in_turn(list(tls_proxies), r):
            pp, url, cap = tls_proxies[kind, proto]
            add((kind, proto, "rps"), measured((kind, proto), pp.pid, url, cap, 64)[0])
        for name, url, cap in in_turn([("gate", kurl, kcap), ("nogate", ngurl, ngcap)], r):
            add((name, "rps"), wrk(url, cap, 1)[0])
        loads.append(os.getloadavg()[0])
    rss = vmhwm_mib(kp.pid)
    for r in range(rounds):
        for name, url, cap in in_turn([("nginx", nginx_url, "x"), ("keyless", kurl, kcap)], r):
            add((name, "big"), big(url, cap))
    if os.environ.get("BENCH_PROXY_RAW"):
        # Every figure, in the order it was measured, for a closer look.
        with open(os.environ["BENCH_PROXY_RAW"], "w") as f:
            for r, k, v in log:
                print(r, " ".join(map(str, k)), f"{v:.6g}", sep="\t", file=f)
    med = {k: statistics.median(v) for k, v in res.items()}

    def per_round(num, dens):
        """`num`'s figure in each round over the geometric mean of `dens`'
        figures in the same round (runs seconds apart)."""
        return [a / math.prod(b) ** (1 / len(b))
                for a, *b in zip(res[num], *(res[d] for d in dens), strict=True)]

    rng = random.Random(21)
    def estimate(ratios):
        """The geometric mean of per-round ratios and its 95% interval, by
        resampling the rounds (a median of ratios would sit near 1.0 for two
        sides that each jump between the same two levels, however unequally
        often)."""
        logs = [math.log(x) for x in ratios]
        n = 4000
        means = sorted(statistics.fmean(rng.choices(logs, k=len(logs))) for _ in range(n))
        return tuple(math.exp(m) for m in (statistics.fmean(logs), means[n // 40], means[n - 1 - n // 40]))

    def ratio(num, dens):
        return estimate(per_round(num, dens))

    def spread(lo, hi):
        return f"95%: {lo:.2f}-{hi:.2f}×"

    nginxes = ("nginx", "nginx again")
    rows = []
    for c in (1, 8, 64, 256):
        x, lo, hi = ratio(("keyless", c, "rps"), [(n, c, "rps") for n in nginxes])
        k, n = med[("keyless", c, "rps")], statistics.median(res[("nginx", c, "rps")] + res[("nginx again", c, "rps")])
        rows.append((f"req/s through `exec --proxy` / nginx, {c} connection{'s' if c > 1 else ''}",
                     f"{x:.2f}× ({spread(lo, hi)}; medians {k / 1000:.1f}k / {n / 1000:.1f}k)", "≥ 1.0×", x >= 1.0))
    aa = [ratio(("nginx again", c, "rps"), [("nginx", c, "rps")]) for c in (1, 8, 64, 256)]
    rows.append(("for reference, the bench's resolution: req/s of nginx's second run in each round / its first, "
                 "1 / 8 / 64 / 256 connections",
                 " / ".join(f"{x:.2f}× ({spread(lo, hi)})" for x, lo, hi in aa), "none", None))
    if floor:
        fl = [ratio(("floor", c, "rps"), [(n, c, "rps") for n in nginxes]) for c in (1, 8, 64, 256)]
        rows.append(("for reference, the floor: req/s through a bare forwarder that checks nothing / nginx, "
                     "1 / 8 / 64 / 256 connections",
                     " / ".join(f"{x:.2f}× ({spread(lo, hi)})" for x, lo, hi in fl), "none", None))
    names = ("keyless", "nginx") + (("floor",) if floor else ())
    rows.append((f"for reference, CPU time per call at 64 connections, {' / '.join(names)}: "
                 "the proxy (its user time); the API's nginx; wrk",
                 "; ".join(" / ".join(f"{med[(n, 64, w, 'cpu')]:.1f}" + (f" ({med[(n, 64, 'user', 'cpu')]:.1f})"
                                                                          if w == "proxy" else "")
                                      for n in names) + " µs"
                           for w in ("proxy", "api", "wrk")),
                 "none", None))
    for c in (1, 64):
        x, lo, hi = ratio(("keyless", c, "p99"), [(n, c, "p99") for n in nginxes])
        k, n = med[("keyless", c, "p99")], statistics.median(res[("nginx", c, "p99")] + res[("nginx again", c, "p99")])
        aa_x, aa_lo, aa_hi = ratio(("nginx again", c, "p99"), [("nginx", c, "p99")])
        rows.append((f"p99 latency through `exec --proxy` / nginx, {c} connection{'s' if c > 1 else ''} "
                     "(nginx's second run / its first)",
                     f"{x:.2f}× ({spread(lo, hi)}; medians {k:.2f} / {n:.2f} ms) ({aa_x:.2f}×, {spread(aa_lo, aa_hi)})",
                     "≤ 1.0×", x <= 1.0))
    rows.append(("upstream connections a cold proxy opened during a 64-connection run",
                 f"{opened64}", "≤ 64", opened64 <= 64))
    def cpu_row(kind, what):
        cpu = {(p, w): med[(kind, p, w, "cpu")] for p in ("h2", "h1") for w in ("proxy", "api", "wrk")}
        return (f"for reference, CPU time per call over h2 / over HTTP/1.1 ({what}): keyless; the API's nginx; wrk",
                "; ".join(f"{cpu[('h2', w)]:.1f} / {cpu[('h1', w)]:.1f} µs" for w in ("proxy", "api", "wrk")),
                "none", None)
    # Against the faster HTTP/1.1 of the two stand-ins in each round: over
    # HTTP/1.1 they differ only in nginx's own work, which shares the CPUs
    # with keyless.
    res["faster h1"] = [max(a, b) for a, b in zip(res[("reads", "h1", "rps")], res[("early", "h1", "rps")], strict=True)]
    x, lo, hi = ratio(("reads", "h2", "rps"), ["faster h1"])
    h2, h1r, h1 = med[("reads", "h2", "rps")], med[("reads", "h1", "rps")], statistics.median(res["faster h1"])
    rows.append(("h2 API over TLS, 64 concurrent streams: upstream connections; req/s / HTTP/1.1 to the same API "
                 "(the faster of its two stand-ins in each round; HTTP/1.1 to the one that reads the body)",
                 f"{opened_h2}; {x:.2f}× ({spread(lo, hi)}; {h2 / 1000:.1f}k / {h1 / 1000:.1f}k; {h1r / 1000:.1f}k)",
                 "≤ 2; ≥ 1.0×", opened_h2 <= 2 and x >= 1.0))
    rows.append(cpu_row("reads", "the runs above"))
    x, lo, hi = ratio(("early", "h2", "rps"), [("early", "h1", "rps")])
    h2, h1 = med[("early", "h2", "rps")], med[("early", "h1", "rps")]
    rows.append(("for reference, the same with an API that answers before it reads the body "
                 "(and so resets each h2 stream): req/s over h2 / HTTP/1.1",
                 f"{x:.2f}× ({spread(lo, hi)}; {h2 / 1000:.1f}k / {h1 / 1000:.1f}k)", "none", None))
    rows.append(cpu_row("early", "that API"))
    (x, lo, hi), kb, nb = ratio(("keyless", "big"), [("nginx", "big")]), med[("keyless", "big")], med[("nginx", "big")]
    rows.append(("a 256 MiB response, time through `exec --proxy` / nginx",
                 f"{x:.2f}× ({spread(lo, hi)}; {kb:.2f} / {nb:.2f} s)", "≤ 1.25×", x <= 1.25))
    rows.append(("peak RSS of the proxy after the 256-connection runs", f"{rss:.1f} MiB", "≤ 64 MiB", rss <= 64))
    g, ng = (statistics.fmean(1e6 / x for x in res[(k, "rps")]) for k in ("gate", "nogate"))
    rows.append(("the gate's added latency per request (1 connection, mean, against the proxy built without it)",
                 f"{g - ng:+.1f} µs ({g:.1f} / {ng:.1f} µs)", "a number", True))
    print("| figure | value | target | met |\n|---|---|---|---|")
    for figure, value, target, ok in rows:
        print(f"| {figure} | {value} | {target} | {'reference' if ok is None else 'met' if ok else 'NOT MET'} |")
    print(f"\n{rounds} interleaved rounds of {secs} s `wrk -t1` runs; each ratio is the geometric mean over the rounds "
          "of a round's ratio (against the geometric mean of nginx's two runs in that round), with its 95% interval "
          "(resampling the rounds), then the medians of the figures themselves; "
          f"load average (1 min) during the run: {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    missed = [r[0] for r in rows if r[3] is not None and not r[3]]
    print("all proxy targets met" if not missed else f"{len(missed)} proxy target(s) not met", file=sys.stderr)
finally:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
