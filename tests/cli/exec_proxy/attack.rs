//! A hostile child of `exec --proxy` (it holds the capability) must not be
//! able to make keyless put bytes of its choosing on keyless's own
//! connection to the API after the request keyless framed: what follows
//! there is keyless's next request, which carries the real token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::upstream::Upstream;
use super::{Serve, proxy_env};

/// A raw HTTP/1.1 API stand-in on 127.0.0.1: parses requests by
/// Content-Length, exactly as a server would, and records each one's
/// request line and body; answers `200 {}` keeping the connection.
/// Each request's line and body, as the stand-in parsed them.
type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

struct Raw {
    url: String,
    requests: Requests,
    connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl Raw {
    fn start() -> Raw {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let n = connections.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let seen = seen.clone();
                std::thread::spawn(move || serve(s, &seen));
            }
        });
        Raw {
            url,
            requests,
            connections,
        }
    }
}

fn serve(s: TcpStream, seen: &Mutex<Vec<(String, Vec<u8>)>>) {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        seen.lock()
            .unwrap()
            .push((line.trim_end().to_string(), body));
        let _ = w.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        );
    }
}

/// `exec --proxy` of a child that only waits, in front of a [`Raw`] API:
/// the test plays the hostile child with the capability the child got.
struct Hostile {
    raw: Raw,
    cap: String,
    /// The proxy's host:port.
    addr: String,
    out: std::path::PathBuf,
    keyless: std::process::Child,
    _up: Upstream,
    _env: crate::common::TestEnv,
}

impl Hostile {
    fn start() -> Hostile {
        let up = Upstream::start(600);
        let raw = Raw::start();
        let env = proxy_env(&up, Serve::OpenAi);
        let out = env.path("out");
        std::fs::create_dir_all(&out).unwrap();
        let script = r#"env > "$OUT/env.tmp"; mv "$OUT/env.tmp" "$OUT/env";
        while [ ! -e "$OUT/stop" ]; do sleep 0.05; done"#;
        let keyless = env
            .exec_proxy_sh("openai", script, &out)
            .env("OPENAI_BASE_URL", format!("{}/v1", raw.url))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !out.join("env").exists() {
            assert!(t0.elapsed() < crate::common::HANG, "no child");
            std::thread::sleep(Duration::from_millis(20));
        }
        let vars = std::fs::read_to_string(out.join("env")).unwrap();
        let var = |n: &str| crate::common::assigned(&vars, n);
        let cap = var("OPENAI_API_KEY");
        let addr = var("OPENAI_BASE_URL")
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .to_string();
        Hostile {
            raw,
            cap,
            addr,
            out,
            keyless,
            _up: up,
            _env: env,
        }
    }

    /// Ends the child, and with it keyless.
    fn stop(&mut self) {
        std::fs::write(self.out.join("stop"), "0").unwrap();
        let _ = self.keyless.wait();
    }
}

#[test]
fn a_conflicting_content_length_cannot_smuggle_a_request_to_the_api() {
    let mut h = Hostile::start();
    let (cap, addr) = (h.cap.clone(), h.addr.clone());
    // The child frames its body with chunked encoding and also claims a
    // short Content-Length: the chunked body is the real one (RFC 9112).
    let smuggled = "GET /v1/smuggled HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";
    let body = format!("{{}}{smuggled}");
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {cap}\r\n\
         Content-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    // keyless's next call, on the connection it keeps to the API
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {cap}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer2 = String::new();
    let _ = s.read_to_string(&mut answer2);
    std::thread::sleep(Duration::from_millis(300));
    h.stop();
    let seen = h.raw.requests.lock().unwrap().clone();
    let lines: Vec<&str> = seen.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        lines,
        [
            "POST /v1/chat/completions HTTP/1.1",
            "GET /v1/models HTTP/1.1"
        ],
        "first answer: {answer}\nsecond: {answer2}"
    );
    assert_eq!(seen[0].1, body.as_bytes(), "the chunked body, whole");
    assert!(
        !lines.iter().any(|l| l.contains("/v1/smuggled")),
        "the child's bytes became a request of their own on keyless's connection: {lines:?}\nfirst answer: {answer}\nsecond: {answer2}"
    );
}

/// One raw request to the proxy at `addr`; the status of its answer.
fn raw_request(addr: &str, head: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The request target may name another host (absolute form, CONNECT, a
/// `//host` path): the token still goes only to the profile's API, and
/// nothing but API paths is forwarded.
#[test]
fn a_request_target_naming_another_host_never_takes_the_token_there() {
    let up = Upstream::start(600);
    let elsewhere = Raw::start();
    let env = proxy_env(&up, Serve::Anthropic);
    let run = super::Running::start(&env, &["--type", "anthropic"]);
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let addr = run.anthropic().trim_start_matches("http://").to_string();
    let other = elsewhere.url.trim_start_matches("http://").to_string();
    let head = |target: &str, method: &str| {
        format!(
            "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {cap}\r\nConnection: close\r\n\r\n"
        )
    };
    // absolute form naming another host: forwarded to the profile's API
    let status = raw_request(&addr, &head(&format!("http://{other}/v1/models"), "GET"));
    assert_eq!(status, 200);
    assert_eq!(up.api_count(), 1, "the profile's API answered it");
    // CONNECT, `//host` and encoded tricks: refused, never forwarded
    for (method, target) in [
        ("CONNECT", other.clone()),
        ("GET", format!("//{other}/v1/models")),
        ("GET", format!("/v1/..%2f..%2f{other}/v1/models")),
        ("GET", "/v1/%2E%2e/%2e%2E/admin".to_string()),
        ("GET", "/v1/.%2e/admin".to_string()),
        ("GET", "*".to_string()),
    ] {
        let status = raw_request(&addr, &head(&target, method));
        assert!(
            status == 404 || status == 400,
            "{method} {target}: {status}"
        );
    }
    assert_eq!(up.api_count(), 1, "nothing refused reached the API");
    assert_eq!(
        elsewhere
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the other host"
    );
    assert_eq!(run.stop(0).0, 0);
}

/// The identity JWT keyless exchanges (the `env` source's
/// ANTHROPIC_IDENTITY_TOKEN) is as good as a token to whoever holds it: it
/// buys one at the token endpoint. Under `--proxy` the child holds only the
/// capability, so the JWT must not be passed on either.
#[test]
fn the_identity_jwt_in_the_environment_is_not_the_childs() {
    let up = Upstream::start(600);
    let env = crate::common::TestEnv::new();
    env.setup(&up.url, "env");
    let jwt = crate::common::shaped_jwt(300);
    let out = env.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let script = r#"env > "$OUT/env.tmp"; mv "$OUT/env.tmp" "$OUT/env""#;
    let status = env
        .exec_proxy_sh("anthropic", script, &out)
        .env("ANTHROPIC_IDENTITY_TOKEN", &jwt)
        .env("OPENAI_IDENTITY_TOKEN", &jwt)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(up.seen().exchanges, 1, "keyless exchanged the JWT");
    let vars = std::fs::read_to_string(out.join("env")).unwrap();
    assert!(
        vars.contains("ANTHROPIC_AUTH_TOKEN=keyless-proxy-"),
        "the child got the capability"
    );
    assert!(
        !vars.contains(&jwt),
        "the child's environment holds the identity JWT: {}",
        vars.lines()
            .filter(|l| l.contains(&jwt))
            .map(|l| l.split('=').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Smuggling variants a front end and a back end may read differently:
/// duplicate Content-Length, an obfuscated or non-final Transfer-Encoding,
/// bare-LF framing. Each must be refused or framed one way only: the bytes
/// after the body the proxy read never become a request of their own on
/// keyless's connection to the API, where its next request carries the
/// real token.
#[test]
fn smuggling_variants_are_refused_or_framed_one_way_only() {
    let mut h = Hostile::start();
    let (cap, addr) = (h.cap.clone(), h.addr.clone());
    let smuggled = "GET /v1/smuggled HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";
    let body = format!("{{}}{smuggled}");
    let chunked = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    let start = |eol: &str| {
        format!(
            "POST /v1/chat/completions HTTP/1.1{eol}Host: {addr}{eol}Authorization: Bearer {cap}{eol}Connection: close{eol}"
        )
    };
    let crlf = start("\r\n");
    let variants = [
        // two Content-Lengths that disagree
        format!(
            "{crlf}Content-Length: 2\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        format!("{crlf}Content-Length: 2, {}\r\n\r\n{body}", body.len()),
        // chunked not last, or spelled so one parser sees it and another not
        format!("{crlf}Content-Length: 2\r\nTransfer-Encoding: chunked, identity\r\n\r\n{chunked}"),
        format!("{crlf}Content-Length: 2\r\nTransfer-Encoding:  chunked\r\n\r\n{chunked}"),
        format!("{crlf}Content-Length: 2\r\nTransfer-Encoding : chunked\r\n\r\n{chunked}"),
        format!("{crlf}Content-Length: 2\r\nTransfer-Encoding: xchunked\r\n\r\n{chunked}"),
        format!("{crlf}Content-Length: 2\r\n Transfer-Encoding: chunked\r\n\r\n{chunked}"),
        format!(
            "{crlf}Content-Length: 2\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"
        ),
        // bare LF line endings in the head, and in the chunk framing
        format!("{}Content-Length: 2\n\n{body}", start("\n")),
        format!(
            "{}Transfer-Encoding: chunked\nContent-Length: 2\n\n{:x}\n{body}\n0\n\n",
            start("\n"),
            body.len()
        ),
    ];
    let mut answers = Vec::new();
    for v in &variants {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all(v.as_bytes());
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answers.push(answer.lines().next().unwrap_or("").to_string());
    }
    // keyless's next call, on the connection it keeps to the API
    let status = raw_request(
        &addr,
        &format!(
            "GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {cap}\r\nConnection: close\r\n\r\n"
        ),
    );
    h.stop();
    assert_eq!(status, 200, "answers: {answers:#?}");
    let seen = h.raw.requests.lock().unwrap().clone();
    let lines: Vec<&str> = seen.iter().map(|(l, _)| l.as_str()).collect();
    assert!(
        !lines.iter().any(|l| l.contains("/v1/smuggled")),
        "the child's bytes became a request of their own on keyless's connection: {lines:?}\nanswers: {answers:#?}"
    );
    assert_eq!(lines.last(), Some(&"GET /v1/models HTTP/1.1"), "{lines:?}");
    // what was forwarded went whole, framed one way: the body as read
    for (line, b) in &seen[..seen.len() - 1] {
        assert_eq!(line, "POST /v1/chat/completions HTTP/1.1");
        assert!(
            b.as_slice() == b"{}" || b.as_slice() == body.as_bytes(),
            "forwarded body: {:?}",
            String::from_utf8_lossy(b)
        );
    }
}
