//! The one HTTP/1.1 client of the tests that speak raw HTTP: to the tests'
//! own servers, the sandbox, and keyless's listeners (the sign-in callback,
//! `exec --proxy`). One request per connection (`Connection: close`), read
//! to the end. What it sends is plain and well-formed; the tests of the wire
//! itself, which must send what no client should (half requests, slow
//! lorises, smuggling), write their bytes by hand.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A reply, as read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The status line and the headers.
    pub head: String,
    pub body: String,
}

impl Response {
    /// Everything read: head, blank line, body.
    pub fn text(&self) -> String {
        format!("{}\r\n\r\n{}", self.head, self.body)
    }

    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as JSON; a chunked body's size lines around it are passed
    /// over. Null when there is no JSON.
    pub fn json(&self) -> serde_json::Value {
        let b = &self.body;
        let json = match (b.find(['{', '[']), b.rfind(['}', ']'])) {
            (Some(a), Some(z)) if z >= a => &b[a..=z],
            _ => b.as_str(),
        };
        serde_json::from_str(json).unwrap_or(serde_json::Value::Null)
    }
}

/// `method url` with `headers` and `body` (a `Content-Length` is added when
/// there is a body, or the method is not GET); panics when no connection or
/// no reply.
#[track_caller]
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Response {
    try_request(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// [`request`], with a refused connection or a missing reply as an error.
pub fn try_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Response> {
    let u = url::Url::parse(url).map_err(std::io::Error::other)?;
    let host = &u[url::Position::BeforeHost..url::Position::AfterPort];
    let target = &u[url::Position::BeforePath..url::Position::AfterQuery];
    let addr = u
        .socket_addrs(|| None)?
        .into_iter()
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut s = TcpStream::connect(addr)?;
    // A guard against a hang, not a measure: a test server answers at once.
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if !body.is_empty() || method != "GET" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    // A server that resets after its reply still gave it.
    if let Err(e) = s.read_to_end(&mut raw)
        && raw.is_empty()
    {
        return Err(e);
    }
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw.as_str(), ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP reply: {raw:?}")))?;
    Ok(Response {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

/// [`request`] to `path` (with any query) below `base`.
#[track_caller]
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    request(method, &format!("{base}{path}"), headers, body)
}

/// `GET url`.
#[track_caller]
/// The `Content-Length` an HTTP/1.1 head names (any case), else 0.
pub fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
}

pub fn get(url: &str) -> Response {
    request("GET", url, &[], "")
}

/// `GET url`, its body as JSON (which it must be).
#[track_caller]
pub fn get_json(url: &str) -> serde_json::Value {
    let r = get(url);
    let v = r.json();
    assert!(!v.is_null(), "GET {url}: no JSON in {:?}", r.body);
    v
}
