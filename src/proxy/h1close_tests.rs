use super::*;
use crate::proxy::h1request::ChildBody;
use crate::proxy::h1serve::tests::serve_on;
use crate::test_runtime::{paused_rt, rt};
use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads the body and answers with its length and bytes.
async fn echo(req: Request<ChildBody>) -> Response {
    let b = axum::body::to_bytes(Body::new(req.into_body()), 1 << 20)
        .await
        .unwrap();
    Response::new(Body::from(format!(
        "{}:{}",
        b.len(),
        String::from_utf8_lossy(&b)
    )))
}

/// A body answered before it was read: the answer and the connection's
/// end reach the client while it is still sending, and what it sends
/// after is read and dropped (no reset) until it pauses for
/// [`LINGER_PAUSE`], or for [`LINGER`] in all while it keeps sending.
#[test]
fn an_unread_body_is_read_and_dropped_for_a_bounded_time_after_the_answer() {
    for trickle in [false, true] {
        paused_rt().block_on(async move {
            let (client, server) = tokio::io::duplex(4096);
            let served = tokio::spawn(serve_on(server, |_, _| async {
                Response::new(Body::from("ignored"))
            }));
            let (mut rx, mut tx) = tokio::io::split(client);
            tx.write_all(b"POST / HTTP/1.1\r\ncontent-length: 100000000\r\n\r\n")
                .await
                .unwrap();
            // More than the pipe holds: sent only if the listener reads it.
            tx.write_all(&[b'x'; 64 << 10]).await.unwrap();
            let mut out = Vec::new();
            rx.read_to_end(&mut out).await.unwrap();
            let out = String::from_utf8(out).unwrap();
            assert!(out.starts_with("HTTP/1.1 200 "), "{out}");
            assert!(out.ends_with("ignored"), "{out}");
            let t0 = tokio::time::Instant::now();
            if trickle {
                // A peer that never stops: cut at LINGER.
                let sending = tokio::spawn(async move {
                    while tx.write_all(&[b'x'; 100]).await.is_ok() {
                        tokio::time::sleep(LINGER_PAUSE / 4).await;
                    }
                });
                served.await.unwrap();
                let took = t0.elapsed();
                assert!(took >= LINGER - LINGER_PAUSE && took <= LINGER, "{took:?}");
                sending.await.unwrap();
            } else {
                // A peer that stops sending but keeps the connection.
                served.await.unwrap();
                let took = t0.elapsed();
                assert!(took <= LINGER_PAUSE, "{took:?}");
                drop(tx);
            }
        });
    }
}

/// Send `head` (a `Connection: close` request), read the answer to the
/// connection's end; the answer, and how long after it the connection's
/// service ended.
async fn answered_then_ended(
    client: &mut tokio::io::DuplexStream,
    served: tokio::task::JoinHandle<()>,
    head: &[u8],
) -> (String, Duration) {
    client.write_all(head).await.unwrap();
    let mut out = Vec::new();
    client.read_to_end(&mut out).await.unwrap();
    let t0 = tokio::time::Instant::now();
    served.await.unwrap();
    (String::from_utf8(out).unwrap(), t0.elapsed())
}

/// A body read to its end leaves nothing to linger for: a `Connection:
/// close` request's connection ends with its answer, though the client
/// keeps its side open.
#[test]
fn a_read_body_does_not_keep_a_closing_connection() {
    paused_rt().block_on(async {
        let (mut client, server) = tokio::io::duplex(4096);
        let served = tokio::spawn(serve_on(server, |req, _| echo(req)));
        let head = b"POST / HTTP/1.1\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi";
        let (out, took) = answered_then_ended(&mut client, served, head).await;
        assert_eq!(took, Duration::ZERO);
        assert!(out.ends_with("2:hi"), "{out}");
    });
}

/// An upload read on a task of its own, answered before its end, on a
/// connection that closes after the answer: its reader, waiting for the
/// body's next bytes, is told at once (its read fails), rather than when
/// the client sends more; then what the client sends is read and dropped.
#[test]
fn a_body_read_elsewhere_is_not_taken_from_its_reader_by_the_close() {
    rt().block_on(async {
        let (mut client, server) = tokio::io::duplex(4096);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<bool>();
        let done_tx = Arc::new(Mutex::new(Some(done_tx)));
        let served = tokio::spawn(async move {
            let handle = move |req: Request<ChildBody>, _| {
                let done = done_tx.lock().unwrap().take();
                async move {
                    use hyper::body::Body as _;
                    // Answered once the reader has the body's first piece
                    // and waits for the rest.
                    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
                    tokio::spawn(async move {
                        let mut body = req.into_body();
                        let mut first = Some(first_tx);
                        let whole = loop {
                            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
                                .await
                            {
                                Some(Ok(_)) => {
                                    if let Some(t) = first.take() {
                                        let _ = t.send(());
                                    }
                                }
                                Some(Err(_)) => break false,
                                None => break true,
                            }
                        };
                        let _ = done.unwrap().send(whole);
                    });
                    let _ = first_rx.await;
                    Response::new(Body::from("early"))
                }
            };
            serve_on(server, handle).await
        });
        client
            .write_all(b"POST / HTTP/1.1\r\nconnection: close\r\ncontent-length: 10\r\n\r\nhello")
            .await
            .unwrap();
        // The answer, then the connection's end: it is closing.
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200 "));
        // The reader is told at once, not when the client sends more.
        let wait = Duration::from_secs(5);
        let read = tokio::time::timeout(wait, done_rx)
            .await
            .expect("the body's reader was not told of the close")
            .unwrap();
        assert!(!read, "a body cut by the close is an error");
        // What the client still sends is read and dropped.
        client.write_all(b"world").await.unwrap();
        drop(client);
        tokio::time::timeout(wait, served)
            .await
            .expect("the connection ended")
            .unwrap();
    });
}

/// Serve `server` with a handler that answers at once and hands the
/// request's body to a task of its own, which holds it unread until the
/// sender returned is used or dropped.
fn serve_holding_the_body(
    server: tokio::io::DuplexStream,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let released = Arc::new(Mutex::new(Some(released)));
    let served = tokio::spawn(serve_on(server, move |req: Request<ChildBody>, _| {
        let released = released.lock().unwrap().take();
        async move {
            let body = req.into_body();
            tokio::spawn(async move {
                if let Some(released) = released {
                    let _ = released.await;
                }
                drop(body);
            });
            Response::new(Body::from("early"))
        }
    }));
    (served, release)
}

/// An upload read on a task of its own that gives it up unread after the
/// answer: the connection cannot go on (its next head is somewhere in the
/// body's rest), or was not to (`Connection: close`), and closes once the
/// body is given up, reading and dropping what the client still sends
/// rather than resetting it.
#[test]
fn a_body_given_up_after_the_answer_is_read_and_dropped_as_the_connection_closes() {
    for close in ["", "connection: close\r\n"] {
        given_up_after_the_answer(close);
    }
}

fn given_up_after_the_answer(close: &'static str) {
    paused_rt().block_on(async move {
        let (client, server) = tokio::io::duplex(4096);
        let (served, give_up) = serve_holding_the_body(server);
        let (mut rx, mut tx) = tokio::io::split(client);
        let head = format!("POST / HTTP/1.1\r\n{close}content-length: 100000000\r\n\r\nhello");
        tx.write_all(head.as_bytes()).await.unwrap();
        let mut answer = [0u8; 1024];
        let n = rx.read(&mut answer).await.unwrap();
        assert!(answer[..n].starts_with(b"HTTP/1.1 200 "), "{close:?}");
        give_up.send(()).unwrap();
        // More than the pipe holds: sent only if the listener reads it.
        let sent = tx.write_all(&[b'x'; 64 << 10]).await;
        assert!(sent.is_ok(), "{close:?}: {sent:?}");
        tx.shutdown().await.unwrap();
        let mut rest = Vec::new();
        rx.read_to_end(&mut rest).await.unwrap();
        served.await.unwrap();
    });
}

/// A head refused after a long idle wait: the wait for a head starts
/// again with the refusal, so the listener's sweeper (which cuts a
/// connection that waited over 60 s for a head) does not cut the
/// refusal's linger short and reset an upload the client still sends.
#[test]
fn a_refused_head_starts_the_head_wait_again() {
    use crate::proxy::h1request::{HeadWait, NOT_WAITING};
    use crate::proxy::h1serve::serve;
    use crate::proxy::listen::Conn;
    use std::sync::atomic::Ordering;
    rt().block_on(async {
        let wait = HeadWait::default();
        let (mut client, server) = tokio::io::duplex(4096);
        let served = tokio::spawn({
            let wait = wait.clone();
            async move {
                let handle = |req, _| echo(req);
                serve(Box::new(server), &handle, &Conn::default(), &wait).await
            }
        });
        // The connection sits idle: its wait for a head begins at 0.
        for _ in 0..100 {
            if wait.since.load(Ordering::Relaxed) != NOT_WAITING {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(wait.since.load(Ordering::Relaxed), 0);
        wait.clock.store(58, Ordering::Relaxed);
        client
            .write_all(b"G@T / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhel")
            .await
            .unwrap();
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        assert!(
            out.starts_with(b"HTTP/1.1 400 "),
            "{}",
            String::from_utf8_lossy(&out)
        );
        // lingering now, its wait counted from the refusal
        assert_eq!(wait.since.load(Ordering::Relaxed), 58);
        drop(client);
        served.await.unwrap();
    });
}

/// A child that stops reading its answer: the write that cannot go on for
/// the API's read gap (600 s) fails, and the connection closes, dropping
/// the answer and what it holds of the API (an h2 stream's window, an
/// HTTP/1.1 connection) rather than holding them for as long as the child
/// lives.
#[test]
fn a_child_that_stops_reading_its_answer_is_cut_after_the_read_gap() {
    paused_rt().block_on(async {
        let (client, server) = tokio::io::duplex(4096);
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let dropped_tx = Arc::new(Mutex::new(Some(dropped_tx)));
        struct Tell(Option<tokio::sync::oneshot::Sender<()>>);
        impl Drop for Tell {
            fn drop(&mut self) {
                let _ = self.0.take().unwrap().send(());
            }
        }
        let served = tokio::spawn(serve_on(server, move |_, _| {
            let tell = Tell(dropped_tx.lock().unwrap().take());
            async move {
                // An answer far bigger than the pipe, in pieces, that
                // tells when it is dropped.
                let pieces = futures_util::stream::iter(0..64).map(move |_| {
                    let _ = &tell;
                    Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 16 << 10]))
                });
                Response::new(Body::from_stream(pieces))
            }
        }));
        let mut client = client;
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let t0 = tokio::time::Instant::now();
        tokio::time::timeout(Duration::from_secs(3600), served)
            .await
            .expect("the stalled answer was never cut")
            .unwrap();
        assert!(
            t0.elapsed() >= crate::http::api::API_READ_TIMEOUT,
            "{:?}",
            t0.elapsed()
        );
        dropped_rx.await.expect("the answer was dropped");
        drop(client);
    });
}

/// A body whose holder never gives it up (it waits on something else)
/// keeps a closing connection at most [`LINGER`]: then it closes without
/// reading the rest.
#[test]
fn a_body_never_given_up_keeps_the_close_at_most_the_linger() {
    paused_rt().block_on(async {
        let (mut client, server) = tokio::io::duplex(4096);
        let (served, release) = serve_holding_the_body(server);
        let head = b"POST / HTTP/1.1\r\nconnection: close\r\ncontent-length: 10\r\n\r\nhello";
        let (_, took) = answered_then_ended(&mut client, served, head).await;
        assert!(
            took >= LINGER && took < LINGER + Duration::from_secs(1),
            "{took:?}"
        );
        let _ = release.send(());
    });
}
