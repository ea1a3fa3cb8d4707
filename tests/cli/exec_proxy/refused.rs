//! An HTTP/2 API may turn a call away unprocessed: it closes a long-lived
//! connection with GOAWAY (whose last_stream_id says which streams it
//! processed) or refuses a stream (RST_STREAM REFUSED_STREAM, RFC 9113
//! §8.7). Such a call is safe to send again, and `exec --proxy` does (its
//! body is held), on a new connection after a GOAWAY; the child sees only
//! its answer. A call the API may have processed (its stream at or below
//! a GOAWAY's last_stream_id, or reset for any other reason) is never
//! sent again, whatever h2 reports for it: that would be a second POST.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::client;
use super::reuse::{burst_with, start_at};
use super::upstream::Upstream;

/// An API stand-in over TLS (a private CA) speaking only `h2`, counting
/// connections, streams opened (requests received, over all its
/// connections) and calls answered.
struct Refusing {
    url: String,
    ca_pem: String,
    connections: Arc<AtomicUsize>,
    streams: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
}

#[derive(Clone, Copy)]
enum Turn {
    /// The first connection answers the client's first HEADERS with a
    /// GOAWAY whose last_stream_id is 0: none of its streams was processed.
    GoAwayFirst,
    /// The first connections, one for each reason, take a whole request
    /// (the API processed it: its stream is the GOAWAY's last_stream_id),
    /// then say GOAWAY with that reason and close without answering.
    ProcessedThenGoAway(&'static [u32]),
    /// The first streams, one for each reason, are reset with it.
    Reset(&'static [h2::Reason]),
}

const REFUSE_FIRST: Turn = Turn::Reset(&[h2::Reason::REFUSED_STREAM]);

impl Refusing {
    fn start(turn: Turn) -> Self {
        let pki = crate::common::Pki::new(&["localhost"]);
        let cfg = pki.server_config(&[b"h2"]);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let api = Refusing {
            url: format!("https://localhost:{port}"),
            ca_pem: pki.ca_pem,
            connections: Arc::default(),
            streams: Arc::default(),
            answered: Arc::default(),
        };
        let (n, streams, answered) = (
            api.connections.clone(),
            api.streams.clone(),
            api.answered.clone(),
        );
        let resets: &'static [h2::Reason] = match turn {
            Turn::Reset(reasons) => reasons,
            _ => &[],
        };
        let reset = Arc::new(AtomicUsize::new(0));
        super::upstream::serve_in_background(listener, move |l| async move {
            loop {
                let Ok((tcp, _)) = l.accept().await else {
                    continue;
                };
                let nth = n.fetch_add(1, Ordering::SeqCst);
                let (acceptor, streams, answered, reset) = (
                    acceptor.clone(),
                    streams.clone(),
                    answered.clone(),
                    reset.clone(),
                );
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    match turn {
                        Turn::GoAwayFirst if nth == 0 => go_away_at_once(tls, streams, None).await,
                        Turn::ProcessedThenGoAway(reasons) if nth < reasons.len() => {
                            go_away_at_once(tls, streams, Some(reasons[nth])).await;
                        }
                        _ => answer_all(tls, streams, answered, resets, reset).await,
                    }
                });
            }
        });
        api
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn streams(&self) -> usize {
        self.streams.load(Ordering::SeqCst)
    }

    fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

/// One HTTP/2 frame on stream 0.
fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut f = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}

/// The server's SETTINGS, then, by hand (the h2 crate's server says
/// GOAWAY only for streams it has taken):
/// - `processed` None: on the client's first HEADERS, GOAWAY
///   (last_stream_id 0, NO_ERROR), then reads until the client closes;
/// - `processed` Some(reason): once the client's first request is whole
///   (END_STREAM), GOAWAY with last_stream_id its stream and `reason`,
///   then closes the connection (TLS close_notify) without answering.
async fn go_away_at_once<T>(mut io: T, streams: Arc<AtomicUsize>, processed: Option<u32>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    const SETTINGS: u8 = 0x4;
    const HEADERS: u8 = 0x1;
    const DATA: u8 = 0x0;
    const GOAWAY: u8 = 0x7;
    const END_STREAM: u8 = 0x1;
    let mut preface = [0u8; 24];
    if io.read_exact(&mut preface).await.is_err() {
        return;
    }
    let (mut said, mut first) = (false, None);
    let mut out = frame(SETTINGS, 0, &[]);
    loop {
        if !out.is_empty() && (io.write_all(&out).await.is_err() || io.flush().await.is_err()) {
            return;
        }
        out.clear();
        let mut head = [0u8; 9];
        if io.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        if io.read_exact(&mut payload).await.is_err() {
            return;
        }
        let id = u32::from_be_bytes([head[5] & 0x7f, head[6], head[7], head[8]]);
        match head[3] {
            SETTINGS if head[4] & 0x1 == 0 => out = frame(SETTINGS, 0x1, &[]),
            HEADERS => {
                streams.fetch_add(1, Ordering::SeqCst);
                first = first.or(Some(id));
                if !said && processed.is_none() {
                    said = true;
                    out = frame(GOAWAY, 0, &[0; 8]);
                }
            }
            _ => {}
        }
        if let Some(reason) = processed
            && matches!(head[3], HEADERS | DATA)
            && head[4] & END_STREAM != 0
            && first == Some(id)
        {
            let mut last = id.to_be_bytes().to_vec();
            last.extend_from_slice(&reason.to_be_bytes());
            let _ = io.write_all(&frame(GOAWAY, 0, &last)).await;
            let _ = io.shutdown().await;
            return;
        }
    }
}

/// The h2 crate's server: each request read to its end and answered 200
/// with a small JSON body, except that the first streams (over all
/// connections; `reset` counts them) are reset with the `resets` in turn.
async fn answer_all<T>(
    io: T,
    streams: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
    resets: &'static [h2::Reason],
    reset: Arc<AtomicUsize>,
) where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut conn) = h2::server::handshake(io).await else {
        return;
    };
    while let Some(Ok((req, mut respond))) = conn.accept().await {
        streams.fetch_add(1, Ordering::SeqCst);
        if let Some(reason) = resets.get(reset.fetch_add(1, Ordering::SeqCst)) {
            respond.send_reset(*reason);
            continue;
        }
        let answered = answered.clone();
        tokio::spawn(async move {
            let mut body = req.into_body();
            while let Some(Ok(data)) = body.data().await {
                let _ = body.flow_control().release_capacity(data.len());
            }
            let head = hyper::Response::builder()
                .header("content-type", "application/json")
                .body(())
                .unwrap();
            let Ok(mut send) = respond.send_response(head, false) else {
                return;
            };
            answered.fetch_add(1, Ordering::SeqCst);
            let _ = send.send_data(Bytes::from_static(b"{\"ok\":true}"), true);
        });
    }
}

/// Every stream of the first connection is above the GOAWAY's
/// last_stream_id: the API processed none, and each call goes again on
/// one new connection (opened by one call; the others share it).
#[test]
fn calls_an_h2_goaway_turned_away_are_sent_again_on_a_new_connection() {
    let up = Upstream::start(600);
    let api = Refusing::start(Turn::GoAwayFirst);
    let (_env, run) = start_at(&up, &api.url, Some(&api.ca_pem), &[]);
    let (rt, c) = client();
    burst_with(&run, &rt, &c, 8);
    burst_with(&run, &rt, &c, 1);
    assert_eq!(api.answered(), 9);
    assert_eq!(
        api.connections(),
        2,
        "the connection that went away, and one new one"
    );
    assert_eq!(run.stop(0).0, 0);
}

/// A refused stream was not processed: the call goes again, on the same
/// connection (a stream-level refusal does not end it).
#[test]
fn a_stream_the_h2_api_refused_is_sent_again() {
    let up = Upstream::start(600);
    let api = Refusing::start(REFUSE_FIRST);
    let (_env, run) = start_at(&up, &api.url, Some(&api.ca_pem), &[]);
    let (rt, c) = client();
    for _ in 0..3 {
        burst_with(&run, &rt, &c, 1);
    }
    assert_eq!(api.answered(), 3);
    assert_eq!(api.streams(), 4, "the refused stream, and three answered");
    assert_eq!(api.connections(), 1);
    assert_eq!(run.stop(0).0, 0);
}

/// A refused call whose body streamed (past the 32 MiB keyless holds)
/// cannot go again: it fails, saying why, and the connection stays in use.
#[test]
fn a_refused_call_whose_body_streamed_fails_saying_why() {
    let up = Upstream::start(600);
    let api = Refusing::start(REFUSE_FIRST);
    let (_env, run) = start_at(&up, &api.url, Some(&api.ca_pem), &["-v"]);
    let (rt, c) = client();
    let url = format!("{}/chat/completions", run.var("OPENAI_BASE_URL"));
    let cap = run.var("OPENAI_API_KEY").to_string();
    let upload = rt.block_on(async {
        let r = c
            .post(&url)
            .bearer_auth(&cap)
            .body(vec![b'x'; 40 << 20])
            .send()
            .await?;
        Ok::<_, reqwest::Error>((r.status(), r.text().await?))
    });
    // Answered before its upload was over, the child may see its
    // connection cut instead of the answer.
    if let Ok((status, body)) = upload {
        assert_eq!(status, 502, "{body}");
        assert!(body.contains("cannot be sent again"), "{body}");
    }
    burst_with(&run, &rt, &c, 1);
    assert_eq!(api.answered(), 1);
    assert_eq!(api.connections(), 1);
    let (code, err) = run.stop(0);
    assert_eq!(code, 0);
    assert!(err.contains("cannot be sent again"), "{err}");
}

/// One call through the proxy, its status and its JSON body.
fn call(
    run: &super::Running,
    rt: &tokio::runtime::Runtime,
    c: &reqwest::Client,
) -> (u16, serde_json::Value) {
    let url = format!("{}/chat/completions", run.var("OPENAI_BASE_URL"));
    let cap = run.var("OPENAI_API_KEY").to_string();
    rt.block_on(async {
        let r = c
            .post(&url)
            .bearer_auth(&cap)
            .json(&serde_json::json!({"model": "gpt-test"}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

/// The child's 502, in OpenAI's error shape.
fn assert_bad_gateway((status, body): (u16, serde_json::Value), what: &str) {
    assert_eq!(status, 502, "{what}: {body}");
    assert_eq!(body["error"]["type"], "server_error", "{what}: {body}");
}

/// A GOAWAY whose last_stream_id covers the call's stream says the API
/// processed it: the call is not sent again, whatever the GOAWAY's code
/// and however the connection then ends (h2 0.4.21 fails such a stream
/// with an I/O error, not the GOAWAY's; this pins that keyless never takes
/// it for "not processed"). Each call fails once, with a 502, and the
/// API received each request once over all its connections.
#[test]
fn a_call_at_or_below_an_h2_goaway_last_stream_id_is_sent_exactly_once() {
    const NO_ERROR: u32 = 0x0;
    const INTERNAL_ERROR: u32 = 0x2;
    const ENHANCE_YOUR_CALM: u32 = 0xb;
    let up = Upstream::start(600);
    let api = Refusing::start(Turn::ProcessedThenGoAway(&[
        NO_ERROR,
        INTERNAL_ERROR,
        ENHANCE_YOUR_CALM,
    ]));
    let (_env, run) = start_at(&up, &api.url, Some(&api.ca_pem), &[]);
    let (rt, c) = client();
    for (n, code) in ["NO_ERROR", "INTERNAL_ERROR", "ENHANCE_YOUR_CALM"]
        .iter()
        .enumerate()
    {
        assert_bad_gateway(call(&run, &rt, &c), code);
        assert_eq!(api.streams(), n + 1, "{code}: the request received once");
        assert_eq!(api.connections(), n + 1, "{code}: not sent on another");
    }
    // The next call goes on a new connection, and is answered.
    burst_with(&run, &rt, &c, 1);
    assert_eq!(api.streams(), 4);
    assert_eq!(api.answered(), 1);
    assert_eq!(api.connections(), 4);
    assert_eq!(run.stop(0).0, 0);
}

/// A stream reset for any reason but REFUSED_STREAM may have been
/// processed: the call fails with a 502 and is not sent again; the
/// connection stays in use.
#[test]
fn a_stream_the_h2_api_reset_otherwise_is_not_sent_again() {
    use h2::Reason;
    let reasons = &[Reason::INTERNAL_ERROR, Reason::CANCEL, Reason::NO_ERROR];
    let up = Upstream::start(600);
    let api = Refusing::start(Turn::Reset(reasons));
    let (_env, run) = start_at(&up, &api.url, Some(&api.ca_pem), &[]);
    let (rt, c) = client();
    for (n, reason) in reasons.iter().enumerate() {
        assert_bad_gateway(call(&run, &rt, &c), &format!("{reason:?}"));
        assert_eq!(
            api.streams(),
            n + 1,
            "{reason:?}: the request received once"
        );
    }
    burst_with(&run, &rt, &c, 1);
    assert_eq!(api.streams(), 4);
    assert_eq!(api.answered(), 1);
    assert_eq!(api.connections(), 1);
    assert_eq!(run.stop(0).0, 0);
}
