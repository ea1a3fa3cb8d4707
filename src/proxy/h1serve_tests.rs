use super::*;
use crate::proxy::h1request::MAX_HEADERS;
use crate::proxy::listen::MAX_HEADER;
use crate::test_runtime::{paused_rt, rt};
use axum::body::{Body, Bytes};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the test handler does with a request.
#[derive(Clone, Copy)]
enum Does {
    /// Reads the body and answers with what it saw (a sized body).
    Echo,
    /// Answers without reading the body.
    Ignore,
    /// Reads the body, answers with a body of unknown length, in two pieces.
    Stream,
    /// Answers with the request's header names, and headers of its own.
    Names,
    /// Answers with a `Date` of its own.
    Dated,
}

async fn answer(does: Does, req: Request<ChildBody>) -> Response {
    let (parts, body) = req.into_parts();
    let seen = |b: &[u8]| {
        format!(
            "{} {} {:?} {}:{}",
            parts.method,
            parts.uri,
            parts.version,
            b.len(),
            String::from_utf8_lossy(b)
        )
    };
    match does {
        Does::Ignore => Response::new(Body::from("ignored")),
        Does::Dated => {
            let mut r = Response::new(Body::from("dated"));
            let date = axum::http::HeaderValue::from_static("Tue, 01 Jan 2030 00:00:00 GMT");
            r.headers_mut().insert(header::DATE, date);
            r
        }
        Does::Names => {
            let names: Vec<&str> = parts.headers.keys().map(|k| k.as_str()).collect();
            let mut r = Response::new(Body::from(names.join(",")));
            let h = r.headers_mut();
            h.insert("x-answer", axum::http::HeaderValue::from_static("1"));
            // given twice, and as a list of one number: written once
            h.append(
                header::CONTENT_LENGTH,
                axum::http::HeaderValue::from(names.join(",").len()),
            );
            let both = format!("{0}, {0}", names.join(",").len());
            h.append(header::CONTENT_LENGTH, both.parse().unwrap());
            r
        }
        Does::Echo => match axum::body::to_bytes(Body::new(body), usize::MAX).await {
            Ok(b) => Response::new(Body::from(seen(&b))),
            Err(e) => Response::new(Body::from(format!("body error: {e}"))),
        },
        Does::Stream => {
            let b = axum::body::to_bytes(Body::new(body), usize::MAX)
                .await
                .unwrap();
            let parts = [
                Ok::<_, std::io::Error>(Bytes::from(seen(&b))),
                Ok(Bytes::from("|end")),
            ];
            Response::new(Body::from_stream(futures_util::stream::iter(parts)))
        }
    }
}

/// [`serve`] on the listener's side of a pipe.
pub(in crate::proxy) async fn serve_on<H, F>(server: tokio::io::DuplexStream, handle: H)
where
    H: Fn(Request<ChildBody>, Conn) -> F,
    F: Future<Output = Response>,
{
    serve(
        Box::new(server),
        &handle,
        &Conn::default(),
        &HeadWait::default(),
    )
    .await
}

/// Everything the listener writes back for `input` (the client's side
/// then ends), with the handler doing `does`.
fn exchange(input: &[u8], does: Does) -> String {
    rt().block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let served = tokio::spawn(async move {
            let handle = move |req, _| answer(does, req);
            serve_on(server, handle).await
        });
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            client.read_to_end(&mut out),
        )
        .await
        .expect("the listener closed the connection")
        .unwrap();
        served.await.unwrap();
        String::from_utf8(out).unwrap()
    })
}

#[test]
fn requests_on_one_connection_are_answered_in_order_with_their_bodies() {
    let out = exchange(
        b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhelloGET /b?q=1 HTTP/1.1\r\nhost: x\r\n\r\n\
          POST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nt: v\r\n\r\n",
        Does::Echo,
    );
    let want = [
        ("POST /a HTTP/1.1", "5:hello"),
        ("GET /b?q=1 HTTP/1.1", "0:"),
        ("POST /c HTTP/1.1", "5:abcde"),
    ];
    let answers: Vec<&str> = out.split("HTTP/1.1 200 OK\r\n").skip(1).collect();
    assert_eq!(answers.len(), 3, "{out}");
    for ((line, body), a) in want.iter().zip(&answers) {
        let text = format!("{line} {body}");
        assert!(a.ends_with(&text), "{a:?} should end with {text:?}");
        assert!(
            a.contains(&format!("content-length: {}\r\n", text.len())),
            "{a}"
        );
        assert!(!a.contains("connection: close"), "{a}");
    }
}

#[test]
fn faulty_framing_and_oversized_heads_are_refused_and_close() {
    let refused = |raw: &str, status: &str| {
        let out = exchange(raw.as_bytes(), Does::Echo);
        assert!(out.starts_with(status), "{raw:?}: {out:?}");
        assert!(out.contains("connection: close\r\n"), "{out}");
        // nothing after the refusal is read: no second answer
        assert_eq!(out.matches("HTTP/1.1").count(), 1, "{raw:?}: {out}");
    };
    let next = "GET /next HTTP/1.1\r\nhost: x\r\n\r\n";
    for raw in [
        "POST / HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\ncontent-length: 2, 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\ncontent-length: +3\r\n\r\nabc",
        "POST / HTTP/1.1\r\ntransfer-encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\ntransfer-encoding: xchunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\ntransfer-encoding : chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nx: a\r\n folded\r\n\r\n",
        "G@T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
    ] {
        refused(&format!("{raw}{next}"), "HTTP/1.1 400 ");
    }
    let big = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "a".repeat(MAX_HEADER));
    refused(&big, "HTTP/1.1 431 ");
    let partial = format!("GET / HTTP/1.1\r\nx: {}", "a".repeat(MAX_HEADER + 1));
    refused(&partial, "HTTP/1.1 431 ");
    let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: v\r\n")).collect();
    refused(&format!("GET / HTTP/1.1\r\n{many}\r\n"), "HTTP/1.1 431 ");
    // a bad chunk: the handler sees an error, the connection closes
    let out = exchange(
        format!("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n{next}")
            .as_bytes(),
        Does::Echo,
    );
    assert!(out.contains("body error"), "{out}");
    assert_eq!(out.matches("HTTP/1.1").count(), 1, "{out}");
}

#[test]
fn chunked_beside_a_length_frames_the_body_and_the_connection_closes_after() {
    let out = exchange(
        b"POST /v1/x HTTP/1.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
        Does::Echo,
    );
    assert!(out.ends_with("5:hello"), "{out}");
    assert!(out.contains("connection: close\r\n"), "{out}");
    assert!(!out.contains("smuggled"), "{out}");
}

#[test]
fn an_unread_body_closes_the_connection_after_the_answer() {
    let out = exchange(
        b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\n\r\n",
        Does::Ignore,
    );
    assert_eq!(out.matches("HTTP/1.1 200").count(), 1, "{out}");
    assert!(out.ends_with("ignored"), "{out}");
    // and the answer says so
    assert!(out.contains("connection: close\r\n"), "{out}");
}

#[test]
fn an_answer_carries_one_length_and_its_headers_stay_its_own() {
    let out = exchange(
        b"GET / HTTP/1.1\r\nx-a: 1\r\nx-b: 2\r\n\r\nGET / HTTP/1.1\r\nx-c: 3\r\n\r\n",
        Does::Names,
    );
    assert_eq!(
        undated(&out, 2),
        "HTTP/1.1 200 OK\r\nx-answer: 1\r\ncontent-length: 7\r\n\r\nx-a,x-b\
         HTTP/1.1 200 OK\r\nx-answer: 1\r\ncontent-length: 3\r\n\r\nx-c"
    );
}

/// The `Date` lines of `out`, each checked to be an IMF-fixdate.
fn dates(out: &str) -> Vec<time::PrimitiveDateTime> {
    let fixdate = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    out.lines()
        .filter_map(|l| l.strip_prefix("date: "))
        .map(|d| {
            time::PrimitiveDateTime::parse(d, fixdate).unwrap_or_else(|e| panic!("{d:?}: {e}"))
        })
        .collect()
}

/// `out` without its `Date` lines, one to each of its `answers`.
fn undated(out: &str, answers: usize) -> String {
    assert_eq!(dates(out).len(), answers, "{out}");
    out.split_inclusive("\r\n")
        .filter(|l| !l.starts_with("date: "))
        .collect()
}

/// RFC 9110 §6.6.1: an origin server with a clock dates its answers, and a
/// proxy dates a forwarded one that carries no `Date` (hyper's server did
/// both); an answer's own `Date` is passed on as it is.
#[test]
fn answers_are_dated_once() {
    let now = time::OffsetDateTime::now_utc();
    let near_now =
        |d: time::PrimitiveDateTime| (d.assume_utc() - now).abs() < time::Duration::minutes(1);
    // an answer without a Date, and a refused head
    let out = exchange(
        b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nx: a\r\n folded\r\n\r\n",
        Does::Ignore,
    );
    assert_eq!(out.matches("HTTP/1.1 ").count(), 2, "{out}");
    let seen = dates(&out);
    assert_eq!(seen.len(), 2, "{out}");
    assert!(seen.into_iter().all(near_now), "{out}");
    // the API's Date stays, alone
    let out = exchange(b"GET / HTTP/1.1\r\n\r\n", Does::Dated);
    assert_eq!(out.matches("date: ").count(), 1, "{out}");
    assert!(
        out.contains("date: Tue, 01 Jan 2030 00:00:00 GMT\r\n"),
        "{out}"
    );
}

#[test]
fn answers_of_unknown_length_are_chunked_or_close_delimited() {
    let out = exchange(
        b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\nhiGET / HTTP/1.1\r\n\r\n",
        Does::Stream,
    );
    assert_eq!(
        out.matches("transfer-encoding: chunked\r\n").count(),
        2,
        "{out}"
    );
    assert!(
        out.contains("\r\n14\r\nPOST / HTTP/1.1 2:hi\r\n4\r\n|end\r\n0\r\n\r\n"),
        "{out}"
    );
    assert!(out.ends_with("\r\n4\r\n|end\r\n0\r\n\r\n"), "{out}");
    // HTTP/1.0: no chunked coding; the body ends with the connection
    let out = exchange(
        b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        Does::Stream,
    );
    assert_eq!(out.matches("HTTP/1.1 200").count(), 1, "{out}");
    assert!(!out.contains("transfer-encoding"), "{out}");
    assert!(out.contains("connection: close\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nGET / HTTP/1.0 0:|end"), "{out}");
}

#[test]
fn a_head_request_is_answered_without_a_body() {
    let out = exchange(b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", Does::Echo);
    assert_eq!(
        undated(&out, 2),
        "HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 17\r\n\r\nGET / HTTP/1.1 0:"
    );
}

#[test]
fn expect_100_continue_is_answered_when_the_body_is_read() {
    let out = exchange(
        b"POST / HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\nhi",
        Does::Echo,
    );
    assert!(
        out.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{out}"
    );
    // not when the body is not read
    let out = exchange(
        b"POST / HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\nhi",
        Does::Ignore,
    );
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
}

/// The listener's sweeper closes a connection (the child's: it passed
/// the gate) whose next head has not come whole within the limit.
#[test]
fn a_head_that_never_ends_is_closed_after_the_limit() {
    use crate::proxy::listen::{HEADER_TIMEOUT, Limits};
    paused_rt().block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let limits = Limits {
            total: 16,
            unproven: 16,
        };
        tokio::spawn(crate::proxy::listen::serve(l, limits, |req, conn: Conn| {
            conn.prove();
            answer(Does::Echo, req)
        }));
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let t0 = tokio::time::Instant::now();
        s.write_all(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nx: ")
            .await
            .unwrap();
        let mut out = Vec::new();
        let read = tokio::time::timeout(HEADER_TIMEOUT * 3, s.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "the connection was never closed");
        let took = t0.elapsed();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.matches("HTTP/1.1 200").count(), 1, "{out}");
        let limit = HEADER_TIMEOUT;
        assert!(
            took > limit && took <= limit + Duration::from_secs(2),
            "{took:?}"
        );
    });
}

/// A child that hangs up while its call is with the API: the call is
/// dropped (it would run on, and be billed, for nobody).
#[test]
fn a_child_that_hangs_up_drops_its_call() {
    hang_up(false);
}

/// The same when the body is read on another task (an upload passed on
/// to the API as it comes): its end wakes the watch.
#[test]
fn a_child_that_hangs_up_after_a_body_read_elsewhere_drops_its_call() {
    hang_up(true);
}

/// A call whose handler reads the body (on a task of its own if
/// `elsewhere`) and then waits for ever; the child hangs up once the body
/// is read: the handler is dropped and the connection ends.
fn hang_up(elsewhere: bool) {
    rt().block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let dropped_tx = Arc::new(Mutex::new(Some(dropped_tx)));
        let (read_tx, read_rx) = tokio::sync::oneshot::channel::<usize>();
        let read_tx = Arc::new(Mutex::new(Some(read_tx)));
        let served = tokio::spawn(async move {
            let handle = move |req: Request<ChildBody>, _| {
                let tell = dropped_tx.lock().unwrap().take();
                let read = read_tx.lock().unwrap().take();
                async move {
                    let _guard = OnDrop(tell);
                    let reading = async move {
                        let b = axum::body::to_bytes(Body::new(req.into_body()), 1 << 20).await;
                        let _ = read.unwrap().send(b.map_or(0, |b| b.len()));
                    };
                    if elsewhere {
                        tokio::spawn(reading);
                    } else {
                        reading.await;
                    }
                    std::future::pending::<Response>().await
                }
            };
            serve_on(server, handle).await
        });
        client
            .write_all(b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi")
            .await
            .unwrap();
        let wait = std::time::Duration::from_secs(10);
        assert_eq!(
            tokio::time::timeout(wait, read_rx).await.unwrap().unwrap(),
            2
        );
        drop(client);
        tokio::time::timeout(wait, dropped_rx)
            .await
            .expect("the call was dropped")
            .unwrap();
        tokio::time::timeout(wait, served)
            .await
            .expect("the connection ended")
            .unwrap();
    });
}

/// Tells its channel when dropped.
struct OnDrop(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let _ = t.send(());
        }
    }
}

#[test]
fn chunk_size_lines_are_the_lengths_in_hex() {
    let mut buf = [0u8; 20];
    for len in [0, 1, 9, 10, 15, 16, 0xabc, 1 << 20, usize::MAX] {
        let line = chunk_size(&mut buf, Framed::Chunked, len);
        assert_eq!(line, format!("{len:x}\r\n").as_bytes(), "{len}");
    }
    assert_eq!(chunk_size(&mut buf, Framed::Length(3), 3), b"");
}
