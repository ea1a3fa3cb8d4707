//! Real TLS: a private CA made in the test (rcgen), endpoints served over
//! rustls, and a CONNECT proxy stand-in. Verification is strict: a private
//! CA is trusted only when the profile's `--ca-file` or `KEYLESS_CA_FILE`
//! names it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::common::*;

const TOKEN: &str = "sk-ant-oat01-overTLSfromAprivateCA_0123456789";
const CA_VAR: &str = "KEYLESS_CA_FILE";
/// The names the endpoints' certificate is for.
const TLS_NAMES: &[&str] = &["127.0.0.1", "localhost", "api.keyless.test"];

/// Reads an HTTP/1.1 head (up to the blank line) one byte at a time, so
/// nothing after it is consumed.
fn read_head(r: &mut impl Read) -> Option<String> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if r.read(&mut b).ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(b[0]);
    }
    String::from_utf8(head).ok()
}

/// An https server for token endpoints, the models API and discovery; it
/// records "METHOD PATH" of each request that got past the handshake.
struct TlsServer {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    fn start(pki: &Pki) -> Self {
        let cfg = Arc::new(pki.server_config(&[]));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (cfg, log) = (cfg.clone(), log.clone());
                std::thread::spawn(move || {
                    tcp.set_read_timeout(Some(Duration::from_secs(10))).ok();
                    let conn = rustls::ServerConnection::new(cfg).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let Some(head) = read_head(&mut tls) else {
                        return;
                    };
                    let line: Vec<&str> = head.split_whitespace().take(2).collect();
                    let length = http::content_length(&head);
                    let mut body = vec![0; length];
                    if tls.read_exact(&mut body).is_err() {
                        return;
                    }
                    log.lock().unwrap().push(line.join(" "));
                    let base = format!("https://127.0.0.1:{port}");
                    let answer = match line[..] {
                        ["GET", "/.well-known/openid-configuration"] => json!({
                            "issuer": base, "authorization_endpoint": format!("{base}/authorize"),
                            "token_endpoint": format!("{base}/token"), "jwks_uri": format!("{base}/jwks"),
                        }),
                        ["GET", p] if p.ends_with("/models") => json!({"data": []}),
                        _ => json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 600}),
                    }
                    .to_string();
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = tls.write_all(reply.as_bytes());
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        TlsServer { port, seen }
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// An HTTP proxy that only tunnels: it records each request head and every
/// byte it forwards, and connects `CONNECT host:port` to 127.0.0.1:port
/// whatever the host (a name that resolves nowhere else).
struct ConnectProxy {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
    forwarded: Arc<Mutex<Vec<u8>>>,
}

impl ConnectProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let forwarded = Arc::new(Mutex::new(Vec::new()));
        let (h, f) = (heads.clone(), forwarded.clone());
        std::thread::spawn(move || {
            for mut client in listener.incoming().flatten() {
                let (h, f) = (h.clone(), f.clone());
                std::thread::spawn(move || {
                    let Some(head) = read_head(&mut client) else {
                        return;
                    };
                    h.lock().unwrap().push(head.clone());
                    let target = head
                        .strip_prefix("CONNECT ")
                        .and_then(|r| r.split_whitespace().next())
                        .and_then(|hp| hp.rsplit_once(':'))
                        .and_then(|(_, p)| TcpStream::connect(("127.0.0.1", p.parse().ok()?)).ok());
                    let Some(mut upstream) = target else {
                        let _ = client
                            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
                        return;
                    };
                    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                    let (mut c2, mut u2) =
                        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                    let back = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut u2, &mut c2);
                    });
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n @ 1..) = client.read(&mut buf) {
                        f.lock().unwrap().extend_from_slice(&buf[..n]);
                        if upstream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = upstream.shutdown(std::net::Shutdown::Write);
                    let _ = back.join();
                });
            }
        });
        ConnectProxy {
            url,
            heads,
            forwarded,
        }
    }
}

fn fresh_jwt(file: &std::path::Path) {
    std::fs::write(file, shaped_jwt(300)).unwrap();
}

/// Anthropic behind a private CA: refused without it, accepted with
/// `KEYLESS_CA_FILE` or the profile's `--ca-file`, refused with another CA;
/// `auth status --check` reaches the API base with the same trust.
#[test]
fn a_private_ca_is_trusted_only_when_named() {
    let pki = Pki::new(TLS_NAMES);
    let server = TlsServer::start(&pki);
    let (env, file) = env_with_file_source(&format!("https://127.0.0.1:{}", server.port));
    let ca = pki.ca_file(&env, "ca.pem");
    let wrong = Pki::new(TLS_NAMES).ca_file(&env, "wrong-ca.pem");

    env.run(&["credential", "anthropic"])
        .fails(4, "certificate");
    assert_eq!(
        server.count(),
        0,
        "nothing was sent before the handshake failed"
    );

    // the same JWT each time: a refused handshake sent nothing, so spent nothing
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env(CA_VAR, &wrong);
    });
    r.fails(4, "certificate");
    assert_eq!(server.count(), 0);

    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env(CA_VAR, &ca);
    });
    r.success();
    assert_eq!(r.stdout, TOKEN);

    // the profile's own CA file, no variable
    env.run(&["setup", "anthropic", "--ca-file", &wrong])
        .success();
    fresh_jwt(&file);
    env.run(&["credential", "anthropic", "--force-refresh"])
        .fails(4, "certificate");
    env.run(&["setup", "anthropic", "--ca-file", &ca]).success();
    fresh_jwt(&file);
    let r = env.run(&["credential", "anthropic", "--force-refresh"]);
    r.success();
    assert_eq!(r.stdout, TOKEN);

    fresh_jwt(&file);
    let r = env.run(&["auth", "status", "--check", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["check"][0]["models_status"], 200, "{v}");
    assert!(
        server
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|l| l == "GET /v1/models"),
        "the API base was reached over TLS"
    );
}

/// OpenAI's token endpoint behind a private CA, with `setup openai --ca-file`.
#[test]
fn openai_token_endpoint_trusts_the_profiles_ca() {
    let pki = Pki::new(TLS_NAMES);
    let server = TlsServer::start(&pki);
    let endpoint = format!("https://127.0.0.1:{}/oauth/token", server.port);
    let (env, file) = openai_env_with_file_source(&endpoint, 300);
    env.run(&["credential", "openai"]).fails(4, "certificate");
    let ca = pki.ca_file(&env, "ca.pem");
    env.run(&["setup", "openai", "--ca-file", &ca]).success();
    fresh_jwt(&file);
    let r = env.run(&["credential", "openai"]);
    r.success();
    assert_eq!(r.stdout, TOKEN);
}

/// An issuer behind a private CA: discovery with `KEYLESS_CA_FILE` as with
/// `setup issuer --ca-file`, and refused without either.
#[test]
fn an_issuer_behind_a_private_ca() {
    let pki = Pki::new(TLS_NAMES);
    let server = TlsServer::start(&pki);
    let env = TestEnv::new();
    let issuer = format!("https://127.0.0.1:{}", server.port);
    let setup = [
        "setup",
        "issuer",
        "--issuer",
        &issuer,
        "--client-id",
        "keyless-cli",
    ];
    env.run(&setup).fails(4, "certificate");
    let ca = pki.ca_file(&env, "ca.pem");
    env.run_with(&setup, |c| {
        c.env(CA_VAR, &ca);
    })
    .success();
    let mut with_flag = setup.to_vec();
    with_flag.extend(["--ca-file", &ca]);
    env.run(&with_flag).success();
}

/// HTTPS_PROXY: a remote host is reached through a CONNECT tunnel, and the
/// proxy sees the CONNECT line only, never the assertion or the token; a
/// loopback host is reached directly.
#[test]
fn https_proxy_tunnels_with_connect_and_sees_no_secret() {
    let pki = Pki::new(TLS_NAMES);
    let server = TlsServer::start(&pki);
    let proxy = ConnectProxy::start();
    // api.keyless.test resolves nowhere: only the proxy can reach it
    let host = format!("api.keyless.test:{}", server.port);
    let (env, file) = env_with_file_source(&format!("https://{host}"));
    let ca = pki.ca_file(&env, "ca.pem");
    env.run(&["setup", "anthropic", "--ca-file", &ca]).success();
    let jwt = std::fs::read_to_string(&file).unwrap();
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("HTTPS_PROXY", &proxy.url);
    });
    r.success();
    assert_eq!(r.stdout, TOKEN);
    let heads = proxy.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with(&format!("CONNECT {host} HTTP/1.1\r\n")),
        "{heads:?}"
    );
    assert_eq!(*server.seen.lock().unwrap(), ["POST /v1/oauth/token"]);
    let forwarded = proxy.forwarded.lock().unwrap().clone();
    assert!(
        !forwarded.is_empty(),
        "the exchange went through the tunnel"
    );
    let text = String::from_utf8_lossy(&forwarded);
    for secret in [jwt.trim(), "oauth/token", "jwt-bearer"] {
        assert!(!text.contains(secret), "the proxy saw {secret:?} in clear");
    }

    // loopback over https: direct, whatever HTTPS_PROXY says
    env.run(&[
        "setup",
        "anthropic",
        "--base-url",
        &format!("https://127.0.0.1:{}", server.port),
    ])
    .success();
    fresh_jwt(&file);
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("HTTPS_PROXY", &proxy.url);
    });
    r.success();
    assert_eq!(proxy.heads.lock().unwrap().len(), 1, "loopback went direct");
}
