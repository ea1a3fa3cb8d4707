//! An API that answers a call before its upload is over (a 413 or 400
//! after the head, as servers do) must not leave `exec --proxy`'s next
//! call waiting behind that upload: the connection still carries the
//! first request's body, so it is not one to send on until the body is
//! all sent (issue 21, found in review).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;

use super::upstream::Upstream;
use super::{Running, Serve, client, proxy_env};

/// A plain HTTP/1.1 API on loopback, one thread per connection. `POST
/// /v1/early` is answered 413 as soon as its head is read, and the rest of
/// that connection is read and discarded (it stays open, as a keep-alive
/// server's does while it drains a body); `POST /v1/early-stop` too, but
/// the connection is then neither read nor closed; anything else is
/// answered 200.
struct EarlyApi {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl EarlyApi {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let n = connections.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                n.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || serve(tcp));
            }
        });
        EarlyApi { url, connections }
    }
}

fn serve(tcp: TcpStream) {
    let mut out = tcp.try_clone().unwrap();
    let mut r = BufReader::new(tcp);
    loop {
        let mut head = Vec::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
            head.push(line);
        }
        let line = head.first().map(String::as_str).unwrap_or("");
        if line.contains(" /v1/early") {
            let body = r#"{"error":{"message":"too large","type":"invalid_request_error"}}"#;
            let _ = write!(
                out,
                "HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if line.contains(" /v1/early-stop ") {
                std::thread::sleep(Duration::from_secs(3600));
            }
            let _ = std::io::copy(&mut r, &mut std::io::sink());
            return;
        }
        let _ = std::io::copy(&mut (&mut r).take(length as u64), &mut std::io::sink());
        let body = r#"{"ok":true}"#;
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
    }
}

/// `exec --proxy` for OpenAI in front of an [`EarlyApi`].
fn early_proxy() -> (Upstream, EarlyApi, crate::common::TestEnv, Running) {
    let up = Upstream::start(600);
    let api = EarlyApi::start();
    let env = proxy_env(&up, Serve::OpenAi);
    let base = format!("{}/v1", api.url);
    let run = Running::start_with(&env, &["--type", "openai"], |cmd| {
        cmd.env("OPENAI_BASE_URL", &base);
    });
    (up, api, env, run)
}

#[test]
fn a_call_answered_before_its_upload_ends_does_not_hold_up_the_next_call() {
    let (_up, api, _env, run) = early_proxy();
    let (rt, c) = client();
    let cap = run.var("OPENAI_API_KEY").to_string();
    let openai = run.var("OPENAI_BASE_URL").to_string();
    rt.block_on(async {
        // 33 MiB (past the 32 MiB keyless holds for a retry, so it streams
        // through as it comes), then the upload stalls: a slow client.
        let chunk = axum::body::Bytes::from(vec![b' '; 1 << 20]);
        let sent = futures_util::stream::iter(
            (0..33).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
        )
        .chain(futures_util::stream::pending());
        let first = c
            .post(format!("{openai}/early"))
            .bearer_auth(&cap)
            .body(reqwest::Body::wrap_stream(sent))
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 413);
        first.bytes().await.unwrap();
        // The next call, from another client connection, while the first
        // upload still hangs. The bound is a watchdog: a proxy that sends
        // this call on the first one's connection never answers it.
        let other = reqwest::Client::builder().no_proxy().build().unwrap();
        let second = other
            .get(format!("{openai}/models"))
            .bearer_auth(&cap)
            .send();
        let second = tokio::time::timeout(Duration::from_secs(60), second)
            .await
            .expect("the next call hung behind the unfinished upload of the one before")
            .unwrap();
        assert_eq!(second.status(), 200);
        assert_eq!(second.text().await.unwrap(), r#"{"ok":true}"#);
    });
    // The stalled upload's connection goes with the test's client.
    drop((rt, c));
    assert_eq!(api.connections.load(Ordering::SeqCst), 2);
    assert_eq!(run.stop(0).0, 0);
}

/// The same when keyless held the whole body (it is under the 32 MiB kept
/// for a retry) and the API stops reading it after its answer: the body's
/// end cannot be sent, so the connection must not be waited on for ever.
#[test]
fn a_connection_the_api_stopped_reading_is_not_waited_on_by_the_next_call() {
    let (_up, api, _env, run) = early_proxy();
    let (rt, c) = client();
    let cap = run.var("OPENAI_API_KEY").to_string();
    let openai = run.var("OPENAI_BASE_URL").to_string();
    rt.block_on(async {
        // Far more than loopback's socket buffers hold.
        let first = c
            .post(format!("{openai}/early-stop"))
            .bearer_auth(&cap)
            .body(vec![b' '; 24 << 20])
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 413);
        first.bytes().await.unwrap();
        let second = c.get(format!("{openai}/models")).bearer_auth(&cap).send();
        // A watchdog, as above.
        let second = tokio::time::timeout(Duration::from_secs(60), second)
            .await
            .expect("the next call hung behind a body the API no longer reads")
            .unwrap();
        assert_eq!(second.status(), 200);
    });
    assert_eq!(api.connections.load(Ordering::SeqCst), 2);
    assert_eq!(run.stop(0).0, 0);
}
