//! The sign-in callback listener against local attackers: a slow-loris
//! connection does not hold up the real callback, and with
//! `--redirect-host localhost` no other program can take [::1] on the port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::common::*;
use crate::fake_idp::{FakeIdp, browser_login, query};

fn setup(extra: &[&str]) -> (FakeIdp, TestEnv) {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-c")));
    let env = TestEnv::new();
    idp.setup_issuer(&env, extra);
    (idp, env)
}

/// The callback for `url`'s sign-in, sent to `addr`; returns the response.
fn callback(addr: SocketAddr, url: &url::Url) -> String {
    http::get(&format!(
        "http://{addr}/callback?code=c0de&state={}",
        query(url, "state")
    ))
    .text()
}

fn redirect_port(url: &url::Url) -> u16 {
    url::Url::parse(&query(url, "redirect_uri"))
        .unwrap()
        .port()
        .unwrap()
}

#[test]
fn a_slow_loris_connection_does_not_delay_the_callback() {
    // The token exchange (after the callback page) waits until the test has
    // looked at the stalled connections, so that keyless's exit, which
    // closes them too, cannot come first.
    let looked = Arc::new((Mutex::new(false), Condvar::new()));
    let gate = looked.clone();
    let idp = FakeIdp::start(move |ctx, _| {
        let (done, cv) = &*gate;
        let _ = cv.wait_timeout_while(done.lock().unwrap(), HANG, |d| !*d);
        ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-c"))
    });
    let env = TestEnv::new();
    idp.setup_issuer(&env, &[]);
    let (child, url, _) = browser_login(&env);
    *idp.ctx.nonce.lock().unwrap() = Some(query(&url, "nonce"));
    let addr: SocketAddr = ([127, 0, 0, 1], redirect_port(&url)).into();
    // two connections that never finish their request line
    let mut loris: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /callback?sta").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let page = callback(addr, &url);
    assert!(page.contains("Signed in"), "{page}");
    // answered while both stalled connections were still pending: a
    // listener that served them in turn would have had to give up on
    // them (close or answer them) first
    for s in &mut loris {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 64];
        let still_open =
            matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        assert!(
            still_open,
            "the callback waited for a stalled connection to end"
        );
    }
    *looked.0.lock().unwrap() = true;
    looked.1.notify_all();
    let out = Run::from(child.wait_with_output().unwrap());
    out.success();
    loris.clear();
}

#[test]
fn with_redirect_host_localhost_ipv6_loopback_is_keyless_too() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        skipping("the IPv6 test: this machine has no ::1");
        return;
    }
    let (idp, env) = setup(&["--redirect-host", "localhost"]);
    let (child, url, _) = browser_login(&env);
    *idp.ctx.nonce.lock().unwrap() = Some(query(&url, "nonce"));
    let port = redirect_port(&url);
    assert!(query(&url, "redirect_uri").starts_with("http://localhost:"));
    let squat = std::net::TcpListener::bind(("::1", port));
    assert!(
        squat.is_err(),
        "another program could listen on [::1]:{port} and receive the code"
    );
    // and a browser that resolves localhost to ::1 reaches keyless
    let page = callback((std::net::Ipv6Addr::LOCALHOST, port).into(), &url);
    assert!(page.contains("Signed in"), "{page}");
    Run::from(child.wait_with_output().unwrap()).success();
}
