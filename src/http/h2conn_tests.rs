use super::*;
use crate::test_runtime::{paused_rt, rt};
use tokio::io::DuplexStream;

/// Run `test` on a one-thread runtime with the two ends of a pipe: the
/// client's (ours) and the API's (theirs).
fn over_a_pipe<F>(test: impl FnOnce(DuplexStream, DuplexStream) -> F)
where
    F: std::future::Future<Output = ()>,
{
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    rt().block_on(test(ours, theirs));
}

/// A call's head comes back with its answer (the proxy retries a 401
/// with it and a new token), as it was sent: one copy per call serves
/// both that retry and a second try on another connection.
#[test]
fn an_answered_call_gives_its_head_back_as_sent() {
    over_a_pipe(|ours, theirs| async move {
        let api = tokio::spawn(async move {
            let mut conn = h2::server::handshake(theirs).await.unwrap();
            let (req, mut respond) = conn.accept().await.unwrap().unwrap();
            let seen = req.headers()["authorization"].clone();
            let answer = Response::builder().status(401).body(()).unwrap();
            respond.send_response(answer, true).unwrap();
            tokio::spawn(async move { while conn.accept().await.is_some() {} });
            seen
        });
        let h = H2::handshake(ours).await.map_err(|e| e.reason).unwrap();
        let req = Request::post("https://api.test/v1/messages?beta=true")
            .header("authorization", "Bearer old")
            .header("anthropic-version", "2023-06-01")
            .body(ReqBody::Held(Some(Bytes::from_static(b"{}"))))
            .unwrap();
        let Ok(Sent::Answered(r, head)) = h.call(req).await else {
            panic!("the call was not answered");
        };
        assert_eq!(r.status(), 401);
        assert_eq!(api.await.unwrap(), "Bearer old");
        assert_eq!(head.method, "POST");
        assert_eq!(head.uri, "https://api.test/v1/messages?beta=true");
        assert_eq!(head.headers["authorization"], "Bearer old");
        assert_eq!(head.headers["anthropic-version"], "2023-06-01");
        assert_eq!(head.headers.len(), 2);
    });
}

/// An API that takes calls and answers pings but never answers a call:
/// the call times out, and the connection takes no more calls (the next
/// opens a new one rather than wait as long on this one).
#[test]
fn a_call_left_unanswered_retires_its_connection() {
    paused_rt().block_on(async {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            let mut conn = h2::server::handshake(theirs).await.unwrap();
            let mut held = Vec::new();
            while let Some(Ok(call)) = conn.accept().await {
                held.push(call);
            }
        });
        let h = H2::handshake(ours).await.map_err(|e| e.reason).unwrap();
        let req = Request::get("https://api.test/v1/models")
            .body(ReqBody::Held(None))
            .unwrap();
        let t0 = tokio::time::Instant::now();
        let Err(e) = h.clone().call(req).await else {
            panic!("an unanswered call was answered");
        };
        assert!(e.timed_out, "{}", e.reason);
        let took = t0.elapsed();
        assert!(
            took >= API_READ_TIMEOUT && took < API_READ_TIMEOUT + Duration::from_secs(1),
            "{took:?}"
        );
        assert!(h.is_closed(), "the connection still takes calls");
    });
}

/// The API's answer: `head` built by the test, and whether the API
/// could push a stream alongside it.
fn answered_with(
    head: axum::http::response::Builder,
) -> (Result<Response<h2::RecvStream>, String>, bool) {
    let mut out = (Err(String::new()), false);
    over_a_pipe(|ours, theirs| async {
        let api = tokio::spawn(async move {
            let mut conn = h2::server::handshake(theirs).await.unwrap();
            let (_req, mut respond) = conn.accept().await.unwrap().unwrap();
            let promise = Request::get("https://api.test/pushed").body(()).unwrap();
            let pushed = respond.push_request(promise).is_ok();
            respond.send_response(head.body(()).unwrap(), true).unwrap();
            tokio::spawn(async move { while conn.accept().await.is_some() {} });
            pushed
        });
        let h = H2::handshake(ours).await.map_err(|e| e.reason).unwrap();
        let req = Request::get("https://api.test/v1/models")
            .body(ReqBody::Held(None))
            .unwrap();
        let answer = match h.call(req).await {
            Ok(Sent::Answered(r, _)) => Ok(r),
            Ok(Sent::Unprocessed(_)) => Err("unprocessed".into()),
            Err(e) => Err(e.reason),
        };
        out = (answer, api.await.unwrap());
    });
    out
}

/// An answer's head is bounded over HTTP/2 as over HTTP/1.1 (h2's own
/// default is 16 MiB, with no bound on the number of headers): a
/// bigger one fails the call, and is not passed on to the child.
#[test]
fn an_answer_head_past_the_bounds_fails_the_call() {
    let fine = Response::builder().header("x-fine", "a".repeat(1000));
    let (answer, _) = answered_with(fine);
    assert_eq!(answer.expect("a head within bounds").status(), 200);

    let big = Response::builder().header("x-big", "a".repeat(MAX_ANSWER_HEAD));
    let (answer, _) = answered_with(big);
    let e = answer.expect_err("a head of over 64 KiB was taken");
    assert!(e.contains("over 64 KiB"), "{e}");

    let many =
        (0..=MAX_ANSWER_HEADERS).fold(Response::builder(), |b, i| b.header(format!("x-{i}"), "v"));
    let (answer, _) = answered_with(many);
    let e = answer.expect_err("an answer of over 100 headers was taken");
    assert!(e.contains("headers"), "{e}");
}

/// The API cannot push streams: nothing reads them, and their data
/// would hold the connection's window until every call stalled.
#[test]
fn the_api_may_not_push() {
    let (answer, pushed) = answered_with(Response::builder());
    assert_eq!(answer.unwrap().status(), 200);
    assert!(!pushed, "the API pushed a stream");
}

/// An API that keeps its connection but stops granting window: the
/// upload gives up after its bound and resets its stream (CANCEL), so
/// the call's response fails too, and nothing is held forever.
#[test]
fn an_upload_the_api_grants_no_window_to_is_cancelled() {
    // Only keeps a hang from stalling the suite (never measures speed).
    const HANG: Duration = Duration::from_secs(120);
    over_a_pipe(|ours, theirs| async move {
        // The API: reads what arrives, never releases it (its windows,
        // 64 KiB, close), and keeps its connection driven.
        let api = tokio::spawn(async move {
            let mut conn = h2::server::handshake(theirs).await.unwrap();
            let (req, _respond) = conn.accept().await.unwrap().unwrap();
            let mut body = req.into_body();
            let reset = async {
                loop {
                    match body.data().await {
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return e.reason(),
                        None => return None,
                    }
                }
            };
            tokio::select! {
                r = reset => r,
                _ = conn.accept() => None,
            }
        });
        let h = H2::handshake(ours).await.map_err(|e| e.reason).unwrap();
        let mut s = h.send.clone().ready().await.unwrap();
        let head = axum::http::Request::post("https://api.test/v1/upload")
            .body(())
            .unwrap();
        let (response, tx) = s.send_request(head, false).unwrap();
        let endless = futures_util::stream::repeat_with(|| {
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 16 << 10]))
        });
        let body = ReqBody::Streaming(axum::body::Body::from_stream(endless));
        tokio::spawn(pipe(body, tx, Duration::from_millis(200)));
        let reason = tokio::time::timeout(HANG, api)
            .await
            .expect("the upload still waits for window")
            .unwrap();
        assert_eq!(reason, Some(h2::Reason::CANCEL));
        let answer = tokio::time::timeout(HANG, response).await.unwrap();
        assert!(answer.is_err(), "the call fails with its stream");
    });
}

/// Before the API's SETTINGS say how many streams it takes, at most 100
/// are opened (hyper's choice; RFC 9113 asks servers to take at least
/// 100): a burst on a new connection is not refused, or failed, past the
/// API's limit.
#[test]
fn before_the_apis_settings_at_most_100_streams_open() {
    paused_rt().block_on(async {
        use tokio::io::AsyncReadExt;
        let (ours, mut theirs) = tokio::io::duplex(1 << 20);
        let h = H2::handshake(ours).await.map_err(|e| e.reason).unwrap();
        for _ in 0..150 {
            let req = Request::get("https://api.test/v1/models")
                .body(ReqBody::Held(None))
                .unwrap();
            tokio::spawn(h.clone().call(req));
        }
        // All the client sends while the API says nothing (on a paused
        // clock, the read times out once every task waits).
        let mut sent = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(Ok(n @ 1..)) =
            tokio::time::timeout(Duration::from_secs(1), theirs.read(&mut buf)).await
        {
            sent.extend_from_slice(&buf[..n]);
        }
        let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        assert!(sent.starts_with(preface));
        let (mut at, mut heads) = (preface.len(), 0);
        while at + 9 <= sent.len() {
            let len = u32::from_be_bytes([0, sent[at], sent[at + 1], sent[at + 2]]) as usize;
            heads += usize::from(sent[at + 3] == 0x1);
            at += 9 + len;
        }
        assert_eq!(heads, 100);
    });
}

/// Answers no child reads (a stalled child's, before its write gap ends
/// it) hold their streams' windows; four of them do not hold the whole
/// connection's, and a fifth call's answer still arrives.
#[test]
fn answers_left_unread_do_not_stall_the_other_calls() {
    over_a_pipe(|ours, theirs| async move {
        tokio::spawn(async move {
            let mut conn = h2::server::handshake(theirs).await.unwrap();
            let mut sending = Vec::new();
            let mut n = 0;
            while let Some(Ok((_, mut respond))) = conn.accept().await {
                n += 1;
                let size = if n <= 4 { 3 << 19 } else { 100 << 10 };
                let mut s = respond.send_response(Response::new(()), false).unwrap();
                s.send_data(Bytes::from(vec![b'x'; size]), true).unwrap();
                sending.push(s);
            }
        });
        let h = H2::handshake(ours).await.map_err(|e| e.reason).unwrap();
        let call = || async {
            let req = Request::get("https://api.test/v1/files")
                .body(ReqBody::Held(None))
                .unwrap();
            match h.clone().call(req).await {
                Ok(Sent::Answered(r, _)) => r.into_body(),
                _ => panic!("the call was not answered"),
            }
        };
        let mut unread = Vec::new();
        for _ in 0..4 {
            unread.push(call().await);
        }
        let mut body = call().await;
        let whole = async {
            let mut got = 0;
            while let Some(d) = body.data().await {
                let d = d.unwrap();
                got += d.len();
                body.flow_control().release_capacity(d.len()).unwrap();
            }
            got
        };
        let got = tokio::time::timeout(Duration::from_secs(10), whole)
            .await
            .expect("the fifth answer stalled behind four unread ones");
        assert_eq!(got, 100 << 10);
        drop(unread);
    });
}
