//! Defect 2's 60 s bound: a connection that passed the gate (the child's)
//! may not be held open forever either. Kept alive and idle, or with a
//! request head half sent, the listener closes it after its header-read
//! limit (src/proxy/listen.rs, HEADER_TIMEOUT). There is no test knob for
//! that limit, so this waits for it once, as a hang watchdog: it asserts
//! only that the connections are closed at all within [`HANG`], never how
//! fast.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use crate::common::HANG;
use crate::exec_proxy::upstream::Upstream;
use crate::exec_proxy::{Running, Serve, proxy_env};

/// One keep-alive request with the capability on `s`; its status.
fn call_on(s: &mut TcpStream, addr: SocketAddr, cap: &str) -> u16 {
    s.set_read_timeout(Some(HANG)).unwrap();
    write!(
        s,
        "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {cap}\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && body.len() >= crate::common::http::content_length(head)
        {
            break;
        }
    }
    String::from_utf8_lossy(&got)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Whether the peer closes `s` before `deadline`.
fn closed_before(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn the_childs_idle_or_half_sent_connection_is_closed_by_the_listener() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let addr: SocketAddr = run
        .anthropic()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let mut idle = TcpStream::connect(addr).unwrap();
    let mut half = TcpStream::connect(addr).unwrap();
    assert_eq!(call_on(&mut idle, addr, &cap), 200);
    assert_eq!(call_on(&mut half, addr, &cap), 200);
    // both passed the gate; one goes quiet, the other starts a head and stalls
    write!(half, "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nx-api-").unwrap();
    let deadline = Instant::now() + HANG;
    assert!(
        closed_before(&mut idle, deadline),
        "an idle kept-alive connection of the child's was never closed"
    );
    assert!(
        closed_before(&mut half, deadline),
        "a half-sent head on the child's connection was never closed"
    );
    assert_eq!(up.api_count(), 2, "the half-sent head was not forwarded");
    assert_eq!(run.stop(0).0, 0);
}
