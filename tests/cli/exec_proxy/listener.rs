//! The proxy's listener is reachable by every local user: what someone
//! without the capability can do to it is bounded (issue 18, defect 2).
//! A connection that has not passed the gate within seconds is closed, a
//! refused request closes its connection, headers are bounded in size, the
//! number of connections is capped below the open-file limit (raised to
//! the hard one), and when the listener is full the connections of the
//! capability holder (the child) win over the others.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::upstream::Upstream;
use super::{Running, Serve, peak_rss_kib, proxy_env};

/// How long a connection may stay open without passing the gate; the
/// test allows some slack over the proxy's 10 s.
const CLOSED_WITHIN: Duration = Duration::from_secs(16);

fn addr(run: &Running) -> SocketAddr {
    run.anthropic()
        .trim_start_matches("http://")
        .parse()
        .unwrap()
}

/// Reads until the peer closes (true) or `limit` passes with it open (false).
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let t0 = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(t0.elapsed());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            // reset by the peer: closed too
            Err(_) => return true,
        }
    }
}

/// One keep-alive request with the capability on `s`; the status.
fn call_on(s: &mut TcpStream, addr: SocketAddr, cap: &str) -> u16 {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {cap}\r\n\r\n"
    )
    .unwrap();
    // The stand-in's answer is small: one read of the head is enough to
    // see the status; read the rest by Content-Length.
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = crate::common::http::content_length(head);
            if body.len() >= len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&got)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_half_sent_header_an_idle_connection_and_a_refused_one_are_closed() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let addr = addr(&run);
    let mut idle = TcpStream::connect(addr).unwrap();
    let mut half = TcpStream::connect(addr).unwrap();
    write!(
        half,
        "POST /v1/messages HTTP/1.1\r\nHost: {addr}\r\nx-api-key: keyless-pro"
    )
    .unwrap();
    // A request without the capability is answered, and its connection
    // closed: it cannot be kept open by sending refused requests.
    let mut refused = TcpStream::connect(addr).unwrap();
    write!(
        refused,
        "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nx-api-key: guess\r\n\r\n"
    )
    .unwrap();
    assert!(
        closed_within(&mut refused, Duration::from_secs(5)),
        "a refused request's connection stayed open"
    );
    let t0 = Instant::now();
    assert!(
        closed_within(&mut half, CLOSED_WITHIN),
        "a half-sent header was still open after {:?}",
        t0.elapsed()
    );
    assert!(
        closed_within(&mut idle, CLOSED_WITHIN.saturating_sub(t0.elapsed())),
        "a connection that never sent a byte was still open after {:?}",
        t0.elapsed()
    );
    // The child's own keep-alive connection outlives those deadlines.
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let mut kept = TcpStream::connect(addr).unwrap();
    assert_eq!(call_on(&mut kept, addr, &cap), 200);
    std::thread::sleep(Duration::from_secs(11));
    assert_eq!(
        call_on(&mut kept, addr, &cap),
        200,
        "the child's idle connection was closed"
    );
    assert_eq!(up.api_count(), 2, "nothing of the others was forwarded");
    assert_eq!(run.stop(0).0, 0);
}

#[test]
fn oversized_headers_are_refused_and_hold_bounded_memory() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let addr = addr(&run);
    let before = peak_rss_kib(run.keyless.id());
    // 150 connections each sending 400 KB of header that never ends.
    let senders: Vec<_> = (0..150)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
                let _ = write!(s, "POST /v1/messages HTTP/1.1\r\nHost: {addr}\r\nx-pad: ");
                let chunk = vec![b'a'; 16 << 10];
                for _ in 0..25 {
                    if s.write_all(&chunk).is_err() {
                        break;
                    }
                }
                s
            })
        })
        .collect();
    let open: Vec<TcpStream> = senders.into_iter().map(|t| t.join().unwrap()).collect();
    let peak = peak_rss_kib(run.keyless.id());
    assert!(
        peak < before + 24 * 1024,
        "150 half-sent 400 KB headers took the proxy from {before} KiB to {peak} KiB"
    );
    drop(open);
    // A complete request with a header over the bound: 431, not forwarded.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let pad = "a".repeat(100 << 10);
    let _ = write!(
        s,
        "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {cap}\r\nx-pad: {pad}\r\n\r\n"
    );
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.80}");
    assert_eq!(up.api_count(), 0);
    assert_eq!(run.stop(0).0, 0);
}

/// The soft and hard "Max open files" of a process.
fn nofile(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = s.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (v[0], v[1])
}

/// The pids of the direct children of `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

#[test]
fn when_the_listener_is_full_the_childs_connections_still_get_through() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start_with(&env, &["--type", "anthropic"], |cmd| {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit(2) only, between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 256,
                    rlim_max: 512,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    let pid = run.keyless.id();
    assert_eq!(
        nofile(pid),
        (512, 512),
        "the soft limit is raised to the hard one"
    );
    for child in children(pid) {
        assert_eq!(
            nofile(child),
            (256, 512),
            "the child keeps the limit it was given"
        );
    }
    let addr = addr(&run);
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let mut kept = TcpStream::connect(addr).unwrap();
    assert_eq!(call_on(&mut kept, addr, &cap), 200);
    // Another user opens 626 connections and sends nothing.
    let mut flood = Vec::new();
    for _ in 0..626 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => flood.push(s),
            Err(_) => break,
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    // The child's open connection and a new one of its both get through.
    assert_eq!(
        call_on(&mut kept, addr, &cap),
        200,
        "the child's connection"
    );
    let fresh = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    let mut fresh = fresh.expect("the listener accepts no new connection");
    assert_eq!(
        call_on(&mut fresh, addr, &cap),
        200,
        "a new connection of the child's"
    );
    drop(flood);
    assert_eq!(run.stop(0).0, 0);
}

/// Defect 2's 60 s bound: a connection that passed the gate (the child's)
/// may not be held open forever either. Kept alive and idle, or with a
/// request head half sent, the listener closes it after its header-read
/// limit (src/proxy/listen.rs, HEADER_TIMEOUT). There is no test knob for
/// that limit, so this waits for it once, as a hang watchdog: it asserts
/// only that the connections are closed at all within [`HANG`], never how
/// fast.
///
/// [`HANG`]: crate::common::HANG
#[test]
fn the_childs_idle_or_half_sent_connection_is_closed_by_the_listener() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let addr = addr(&run);
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let mut idle = TcpStream::connect(addr).unwrap();
    let mut half = TcpStream::connect(addr).unwrap();
    assert_eq!(call_on(&mut idle, addr, &cap), 200);
    assert_eq!(call_on(&mut half, addr, &cap), 200);
    // both passed the gate; one goes quiet, the other starts a head and stalls
    write!(half, "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nx-api-").unwrap();
    assert!(
        closed_within(&mut idle, crate::common::HANG),
        "an idle kept-alive connection of the child's was never closed"
    );
    assert!(
        closed_within(&mut half, crate::common::HANG),
        "a half-sent head on the child's connection was never closed"
    );
    assert_eq!(up.api_count(), 2, "the half-sent head was not forwarded");
    assert_eq!(run.stop(0).0, 0);
}

/// A body held for a retry (up to 32 MiB) costs about its own size, however
/// it is chunked: 2 MiB sent as one-byte chunks. Each chunk was kept as a
/// buffer of its own, each pinning the read buffer it was cut from.
#[test]
fn a_body_of_tiny_chunks_is_held_in_about_its_own_size() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let addr = addr(&run);
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let before = peak_rss_kib(run.keyless.id());
    const LEN: usize = 2 << 20;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /v1/echo HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {cap}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let chunks = "1\r\nx\r\n".repeat(LEN / 2);
    s.write_all(chunks.as_bytes()).unwrap();
    s.write_all(chunks.as_bytes()).unwrap();
    s.write_all(b"0\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.200}");
    assert!(
        answer.ends_with(&format!("{{\"len\":{LEN}}}")),
        "{answer:.400}"
    );
    let grew = peak_rss_kib(run.keyless.id()).saturating_sub(before);
    assert!(
        grew < 24 << 10,
        "holding a 2 MiB body of one-byte chunks took {grew} KiB"
    );
    assert_eq!(run.stop(0).0, 0);
}

/// A client that sends its whole upload before it reads the answer (as
/// Python's http.client and most SDKs do) gets the refusal, not a broken
/// pipe or a reset: the listener reads and drops what still arrives after
/// a refusal before it closes (nginx's lingering close), for a bounded
/// time. Seen failing first: the 30 MB upload failed with "Broken pipe".
#[test]
fn a_refused_upload_gets_its_answer_not_a_reset() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let addr = addr(&run);
    let body = vec![b'x'; 30 << 20];
    for (what, want, head) in [
        (
            "a wrong capability",
            "HTTP/1.1 401 ",
            format!(
                "POST /v1/files HTTP/1.1\r\nHost: {addr}\r\nx-api-key: guess\r\n\
                 content-length: {}\r\n\r\n",
                body.len()
            ),
        ),
        (
            "a wrong Host",
            "HTTP/1.1 403 ",
            format!(
                "POST /v1/files HTTP/1.1\r\nHost: evil.example\r\n\
                 x-api-key: {}\r\ncontent-length: {}\r\n\r\n",
                run.var("ANTHROPIC_AUTH_TOKEN"),
                body.len()
            ),
        ),
    ] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        if let Err(e) = s.write_all(&body) {
            panic!("{what}: the upload failed: {e}");
        }
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        if let Err(e) = s.read_to_end(&mut got) {
            panic!(
                "{what}: reading the answer failed after {} bytes: {e}",
                got.len()
            );
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with(want), "{what}: {text}");
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{what}: {text}"
        );
    }
    assert_eq!(up.api_count(), 0, "nothing refused reached the API");
    assert_eq!(run.stop(0).0, 0);
}
