//! The loopback listener of the browser sign-in (RFC 8252 §7.3): bound on
//! every loopback address the redirect host names, on one port; each
//! connection served on its own thread with a deadline for its request
//! head, so a local program that connects and stalls delays nothing; the
//! first callback with this sign-in's `state` ends it, and only that one.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::output;

/// The whole request head (request line and headers) must arrive within this.
const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// A callback's request head is a few hundred bytes; more is not a browser.
const MAX_HEAD: usize = 16 * 1024;
/// Tries at an ephemeral port free on every address at once.
const BIND_TRIES: usize = 16;

/// The listeners for `host` ("localhost": 127.0.0.1, ::1 and any other
/// loopback address it resolves to; otherwise 127.0.0.1) on `port`, or on
/// one ephemeral port free on all of them when `port` is 0.
pub fn bind(host: &str, port: u16) -> Result<Vec<TcpListener>> {
    let mut addrs: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into()];
    if host == "localhost" {
        addrs.push(Ipv6Addr::LOCALHOST.into());
        let resolved = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", 0));
        for a in resolved.into_iter().flatten() {
            if a.ip().is_loopback() && !addrs.contains(&a.ip()) {
                addrs.push(a.ip());
            }
        }
    }
    let failed = |at: SocketAddr, e: &std::io::Error| {
        Error::failure(format!(
            "cannot listen on {at} for the sign-in callback: {}",
            crate::error::io_reason(e)
        ))
        .hint("another program holds the port; choose another with `keyless setup issuer --redirect-port`")
    };
    'attempt: for _ in 0..BIND_TRIES {
        let first = SocketAddr::new(addrs[0], port);
        let l = TcpListener::bind(first).map_err(|e| failed(first, &e))?;
        let chosen = l
            .local_addr()
            .map_err(|e| Error::failure(format!("cannot read the callback port: {e}")))?
            .port();
        let mut all = vec![l];
        for ip in &addrs[1..] {
            let at = SocketAddr::new(*ip, chosen);
            match TcpListener::bind(at) {
                Ok(l) => all.push(l),
                // a machine without IPv6: nobody can squat there either
                Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {}
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && port == 0 => {
                    continue 'attempt;
                }
                Err(e) => return Err(failed(at, &e)),
            }
        }
        return Ok(all);
    }
    Err(Error::failure(
        "cannot find a port free on every loopback address for the sign-in callback",
    )
    .hint("choose one with `keyless setup issuer --redirect-port`"))
}

pub enum Callback {
    Code(String),
    Refused(Error),
}

const PAGE_OK: &str = "<!doctype html><meta charset=utf-8><title>keyless</title><body style=\"font-family:sans-serif\"><h1>Signed in</h1><p>keyless has what it needs. You can close this tab.</p>";

fn page_fail(why: &str) -> String {
    let esc = why
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><meta charset=utf-8><title>keyless</title><body style=\"font-family:sans-serif\"><h1>Sign-in failed</h1><p>{esc}</p><p>Return to the terminal for details.</p>"
    )
}

fn respond(mut s: &TcpStream, status: &str, body: &str) {
    let _ = s.set_write_timeout(Some(HEAD_DEADLINE));
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
}

/// Read the request head within [`HEAD_DEADLINE`] and [`MAX_HEAD`] bytes;
/// return the path-and-query of a GET. Each read gets only the time left,
/// so a head trickled in byte by byte is still cut off at the deadline.
fn read_target(mut stream: &TcpStream) -> Option<String> {
    let end = Instant::now() + HEAD_DEADLINE;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let complete =
        |h: &[u8]| h.windows(4).any(|w| w == b"\r\n\r\n") || h.windows(2).any(|w| w == b"\n\n");
    while !complete(&head) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() || head.len() > MAX_HEAD {
            return None;
        }
        stream.set_read_timeout(Some(left)).ok()?;
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    (parts.next()? == "GET").then(|| parts.next().map(str::to_string))?
}

/// Answer one connection; send the outcome when it is this sign-in's callback.
fn serve(stream: TcpStream, state: &str, done: &AtomicBool, tx: &Sender<Callback>) {
    let Some(target) = read_target(&stream) else {
        return;
    };
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        return;
    };
    if url.path() != "/callback" {
        respond(&stream, "404 Not Found", "not found");
        return;
    }
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    // A callback that is not this sign-in's (another tab, a web page
    // probing the port) is answered and ignored: it must not end it.
    if q.get("state").map(String::as_str) != Some(state) {
        respond(
            &stream,
            "400 Bad Request",
            &page_fail("The sign-in response did not match this request (state)."),
        );
        output::warn("ignored a sign-in callback whose state does not match this sign-in");
        return;
    }
    // One callback: a second with the right state (a replay) is not used.
    if done.swap(true, Ordering::SeqCst) {
        respond(
            &stream,
            "409 Conflict",
            &page_fail("This sign-in has already received its response."),
        );
        return;
    }
    let result = if let Some(err) = q.get("error") {
        let desc = q
            .get("error_description")
            .map(|d| crate::redact::server_text(d));
        respond(
            &stream,
            "200 OK",
            &page_fail(&format!("The identity provider said: {err}")),
        );
        let e = crate::redact::server_text(err);
        Callback::Refused(
            Error::denied(format!(
                "the identity provider refused the sign-in ({e}{})",
                desc.map(|d| format!(": {d}")).unwrap_or_default()
            ))
            .hint("check that your account may use this client"),
        )
    } else if let Some(code) = q.get("code") {
        respond(&stream, "200 OK", PAGE_OK);
        Callback::Code(code.clone())
    } else {
        respond(
            &stream,
            "400 Bad Request",
            &page_fail("The callback had no code."),
        );
        Callback::Refused(Error::denied(
            "the sign-in callback had no authorization code",
        ))
    };
    let _ = tx.send(result);
}

/// Serve the listeners until one callback arrives (other paths, such as
/// /favicon.ico, get a 404 and do not count) or the deadline passes.
pub fn await_callback(
    listeners: Vec<TcpListener>,
    state: String,
    deadline: Instant,
) -> Result<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let state = Arc::new(state);
    let done = Arc::new(AtomicBool::new(false));
    for listener in listeners {
        let (tx, state, done) = (tx.clone(), state.clone(), done.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if done.load(Ordering::SeqCst) {
                    return;
                }
                let (tx, state, done) = (tx.clone(), state.clone(), done.clone());
                std::thread::spawn(move || serve(stream, &state, &done, &tx));
            }
        });
    }
    drop(tx);
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(Callback::Code(c)) => Ok(c),
        Ok(Callback::Refused(e)) => Err(e),
        Err(_) => Err(Error::sign_in("timed out waiting for the browser sign-in")
            .hint("run `keyless login` again, or `keyless login --device` where no browser can reach this machine")),
    }
}
