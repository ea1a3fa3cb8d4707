//! An independent fake token endpoint: a plain std::net HTTP/1.1 server that
//! records every request and answers from a script. It shares no code with
//! keyless, so the wire format tests pin what actually crosses the socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Accept, then say nothing for this long, or until the client hangs
    /// up (counted in [`Fake::abandoned`]).
    pub stall: Option<Duration>,
    /// Send the body with chunked transfer encoding (no Content-Length).
    pub chunked: bool,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("request-id".into(), "req_fake_123".into()),
            ],
            body: body.to_string().into_bytes(),
            stall: None,
            chunked: false,
        }
    }
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            stall: None,
            chunked: false,
        }
    }
    /// A black hole: the request is read and never answered; the server
    /// holds the connection until the client hangs up. A client that waits
    /// for the answer waits past any test's watchdog ([`crate::common::HANG`]).
    pub fn silent() -> Self {
        Reply {
            stall: Some(Duration::from_secs(3600)),
            ..Self::raw(200, "text/plain", "")
        }
    }
    pub fn token(token: &str, expires_in: i64) -> Self {
        Self::json(
            200,
            serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": "workspace:developer"}),
        )
    }
}

type Script = Box<dyn Fn(usize, &Request) -> Reply + Send + Sync>;

pub struct Fake {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// Connections accepted, whether or not a request followed.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    /// Requests that came on a kept-alive connection and were dropped
    /// unanswered (see [`Fake::start_closing_reused`]).
    pub dropped: Arc<AtomicUsize>,
    /// Stalled requests whose client hung up before the stall ended.
    pub abandoned: Arc<AtomicUsize>,
}

impl Fake {
    /// `script(n, request)` answers the n-th request (0-based).
    pub fn start(script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_at("127.0.0.1:0", false, script)
    }

    /// Like [`Fake::start`], but each answer keeps the connection open, and a
    /// request that then arrives on it is dropped unanswered: a server closing
    /// an idle connection just as the client reuses it.
    pub fn start_closing_reused(
        script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_at("127.0.0.1:0", true, script)
    }

    /// [`Fake::start`] listening on `bind` (e.g. `[::1]:0`); None if it cannot bind.
    pub fn try_start_at(
        bind: &str,
        script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
    ) -> Option<Self> {
        TcpListener::bind(bind).ok()?;
        Some(Self::start_at(bind, false, script))
    }

    fn start_at(
        bind: &str,
        keep_alive: bool,
        script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(bind).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reqs = requests.clone();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let conns = connections.clone();
        let dropped = Arc::new(AtomicUsize::new(0));
        let drops = dropped.clone();
        let abandoned = Arc::new(AtomicUsize::new(0));
        let hung_up = abandoned.clone();
        let script: Arc<Script> = Arc::new(Box::new(script));
        let connection = if keep_alive { "keep-alive" } else { "close" };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                conns.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let reqs = reqs.clone();
                let drops = drops.clone();
                let hung_up = hung_up.clone();
                let script = script.clone();
                std::thread::spawn(move || {
                    let Some(req) = read_request(&mut stream) else {
                        return;
                    };
                    let n = {
                        let mut g = reqs.lock().unwrap();
                        g.push(req.clone());
                        g.len() - 1
                    };
                    let reply = script(n, &req);
                    if let Some(d) = reply.stall {
                        if client_hangs_up_within(&mut stream, d) {
                            hung_up.fetch_add(1, Ordering::SeqCst);
                        }
                        return;
                    }
                    let length = if reply.chunked {
                        "Transfer-Encoding: chunked".to_string()
                    } else {
                        format!("Content-Length: {}", reply.body.len())
                    };
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\n{length}\r\nConnection: {connection}\r\n",
                        reply.status
                    );
                    for (k, v) in &reply.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = stream.write_all(head.as_bytes());
                    if reply.chunked {
                        for c in reply.body.chunks(64 * 1024) {
                            let _ = stream.write_all(format!("{:x}\r\n", c.len()).as_bytes());
                            let _ = stream.write_all(c);
                            let _ = stream.write_all(b"\r\n");
                        }
                        let _ = stream.write_all(b"0\r\n\r\n");
                    } else {
                        let _ = stream.write_all(&reply.body);
                    }
                    if keep_alive && read_request(&mut stream).is_some() {
                        drops.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        Fake {
            url,
            requests,
            connections,
            dropped,
            abandoned,
        }
    }

    /// `n` stalled requests were hung up on by their client before the
    /// stall ended (a client's exit hangs up too: the server sees it a
    /// moment later, so this waits, under the [`crate::common::HANG`]
    /// watchdog).
    #[track_caller]
    pub fn assert_abandoned(&self, n: usize) {
        let end = std::time::Instant::now() + crate::common::HANG;
        while self.abandoned.load(Ordering::SeqCst) < n && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            self.abandoned.load(Ordering::SeqCst),
            n,
            "stalled requests hung up on"
        );
    }
    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
    pub fn last(&self) -> Request {
        self.requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("no request")
    }
}

/// Wait up to `d` for the client to close its side; true if it did.
fn client_hangs_up_within(stream: &mut std::net::TcpStream, d: Duration) -> bool {
    let end = std::time::Instant::now() + d;
    let mut buf = [0u8; 512];
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}
