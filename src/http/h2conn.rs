//! `exec --proxy`'s HTTP/2 connection to an API that chose `h2` in ALPN
//! ([`super::pool`]), driven with the h2 crate directly: each call opens
//! its stream from its own task (hyper's h2 client relayed every call
//! through its dispatcher and spawned a task per call: 74k instructions
//! per call against 43k over HTTP/1.1, issue 21).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{Request, Response};
use hyper::body::Body as _;

use super::api::{API_READ_TIMEOUT, MAX_ANSWER_HEAD, MAX_ANSWER_HEADERS};
use super::pool::{Failed, ReqBody};

/// The HTTP/2 connection: its handle for new streams, and whether it
/// takes no more (its driver has ended, or the API said it is going away).
#[derive(Clone)]
pub(super) struct H2 {
    send: h2::client::SendRequest<Bytes>,
    closed: Arc<AtomicBool>,
}

/// What became of a call on the HTTP/2 connection.
pub(super) enum Sent {
    /// With the call's head, which stayed here while a copy was sent.
    Answered(Response<h2::RecvStream>, Parts),
    /// It never left, or the API provably did not process it: it may go
    /// again, as it is here (on another connection if this one is going
    /// away: it is then closed to new calls).
    Unprocessed(Request<ReqBody>),
}

/// HTTP/2 flow-control windows for what the API sends: a stream's, and
/// the connection's (bounding what all streams together may have buffered
/// before the client reads it). An answer its child does not read holds
/// its stream's window until the write gap ends it; the connection's is
/// sixteen streams' worth, so that a few such answers do not
/// hold all of it and stall every other call.
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

impl H2 {
    /// The HTTP/2 handshake on `io`, and a task that drives the
    /// connection and pings it while it is open.
    pub(super) async fn handshake<T>(io: T) -> Result<Self, Failed>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (send, mut conn) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            // An answer's head is bounded as over HTTP/1.1 (h2's own bound
            // is 16 MiB), and nothing may be pushed: nothing would read a
            // pushed stream, whose data would hold the connection's window.
            .max_header_list_size(MAX_ANSWER_HEAD as u32)
            .enable_push(false)
            // Until the API's SETTINGS say how many streams it takes (h2
            // would open any number; hyper opens 100).
            .initial_max_send_streams(100)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(Failed::new)?;
        let closed = Arc::new(AtomicBool::new(false));
        let (ended, pings) = (closed.clone(), conn.ping_pong());
        tokio::spawn(async move {
            tokio::select! {
                _ = &mut conn => {}
                _ = keep_alive(pings) => {}
            }
            ended.store(true, Ordering::Relaxed);
        });
        Ok(H2 { send, closed })
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Send `req` (its URI absolute) and wait for the response's head.
    pub(super) async fn call(self, req: Request<ReqBody>) -> Result<Sent, Failed> {
        let H2 { send, closed } = self;
        let going_away = |req| {
            closed.store(true, Ordering::Relaxed);
            Ok(Sent::Unprocessed(req))
        };
        let Ok(mut s) = send.ready().await else {
            return going_away(req); // ended or going away: the request never left
        };
        let (head, body) = req.into_parts();
        // A held body that is empty ends the stream with the head.
        let eos = match &body {
            ReqBody::Held(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            _ => body.is_end_stream(),
        };
        // h2 takes the head: a copy goes, `head` stays for a second try,
        // with a held body (a streamed one leaves as it is read), and goes
        // back to the caller with the answer (the proxy's 401 retry).
        let copy = Request::from_parts(super::api::head_copy(&head), ());
        let held = match &body {
            ReqBody::Held(b) => Some(b.clone()),
            _ => None,
        };
        let (response, tx) = match s.send_request(copy, eos) {
            Ok(sent) => sent,
            Err(e) if e.is_go_away() || e.is_io() => {
                return going_away(Request::from_parts(head, body));
            }
            Err(e) => return Err(Failed::new(e)),
        };
        send_body(body, tx);
        let answer = super::pool::wait(response).await.inspect_err(|_| {
            // An API that answers pings but not calls: the next call opens
            // a new connection rather than wait as long on this one.
            closed.store(true, Ordering::Relaxed);
        })?;
        let e = match answer {
            Ok(r) if r.headers().len() > MAX_ANSWER_HEADERS => {
                return Err(Failed::new(format!(
                    "the API's answer carries over {MAX_ANSWER_HEADERS} headers"
                )));
            }
            Ok(r) => return Ok(Sent::Answered(r, head)),
            Err(e) => e,
        };
        let Some(gone) = unprocessed(&e) else {
            return Err(Failed::new(failure(&e)));
        };
        let Some(b) = held else {
            return Err(Failed::new(format!(
                "the API did not process the request ({e}), and its body, streamed, \
                 cannot be sent again"
            )));
        };
        let again = Request::from_parts(head, ReqBody::Held(b));
        match gone {
            true => going_away(again),
            false => Ok(Sent::Unprocessed(again)),
        }
    }
}

/// Whether the API provably did not process the stream that failed with
/// `e`, and if so whether its connection is going away:
/// - a GOAWAY whose last_stream_id is below the stream: h2 fails exactly
///   those streams with the GOAWAY's own (remote) error; one the API did
///   process gets an I/O or reset error if its connection then fails;
/// - RST_STREAM REFUSED_STREAM (RFC 9113 §8.7: not processed, safe to
///   retry): a refusal of one stream, the connection stays.
fn unprocessed(e: &h2::Error) -> Option<bool> {
    if !e.is_remote() {
        None
    } else if e.is_go_away() {
        Some(true)
    } else if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        Some(false)
    } else {
        None
    }
}

/// What a call's failure `e` says to the child. h2 resets a stream whose
/// answer it will not take (a head past [`MAX_ANSWER_HEAD`], or one that
/// breaks HTTP/2's rules) and calls it an "unspecific protocol error".
fn failure(e: &h2::Error) -> String {
    if e.is_library() && e.is_reset() && e.reason() == Some(h2::Reason::PROTOCOL_ERROR) {
        format!(
            "its answer was refused: the head is over {} KiB or breaks HTTP/2's rules ({e})",
            MAX_ANSWER_HEAD >> 10
        )
    } else {
        e.to_string()
    }
}

/// Ping the HTTP/2 connection every 30 s; returns when one is not
/// answered within 20 s (the connection is then dropped).
async fn keep_alive(pings: Option<h2::PingPong>) {
    let Some(mut p) = pings else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        if p.send_ping(h2::Ping::opaque()).is_err() {
            return;
        }
        let pong = std::future::poll_fn(|cx| p.poll_pong(cx));
        if !matches!(
            tokio::time::timeout(Duration::from_secs(20), pong).await,
            Ok(Ok(_))
        ) {
            return;
        }
    }
}

/// Send a request body on its HTTP/2 stream: one held in full at once (h2
/// buffers what the window does not take yet), one that streams from a
/// task of its own that reads the client only as the window opens.
fn send_body(body: ReqBody, mut tx: h2::SendStream<Bytes>) {
    match body {
        ReqBody::Held(Some(b)) if !b.is_empty() => {
            let _ = tx.send_data(b, true);
        }
        ReqBody::Held(_) => {}
        streaming => {
            tokio::spawn(pipe(streaming, tx, API_READ_TIMEOUT));
        }
    }
}

/// Stream `body` onto `tx` as the API's window opens. No wait is longer
/// than `gap` ([`API_READ_TIMEOUT`] for a call: what the response side
/// allows between two reads, and the call's wait for its head): an API
/// that stops granting window while keeping its connection alive, or a
/// client that stops sending, would otherwise hold this task and the
/// child's connection forever. The stream is then reset (CANCEL), which
/// fails the call's response too.
async fn pipe(mut body: ReqBody, mut tx: h2::SendStream<Bytes>, gap: Duration) {
    loop {
        tx.reserve_capacity(1);
        let room = std::future::poll_fn(|cx| tx.poll_capacity(cx));
        match tokio::time::timeout(gap, room).await {
            Ok(Some(Ok(_))) => {}
            Ok(_) => return, // reset, or the connection ended
            Err(_) => {
                tx.send_reset(h2::Reason::CANCEL);
                return;
            }
        }
        let next = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        let Ok(frame) = tokio::time::timeout(gap, next).await else {
            tx.send_reset(h2::Reason::CANCEL);
            return;
        };
        match frame {
            None => {
                let _ = tx.send_data(Bytes::new(), true);
                return;
            }
            Some(Err(_)) => {
                tx.send_reset(h2::Reason::CANCEL);
                return;
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    let end = body.is_end_stream();
                    if tx.send_data(data, end).is_err() || end {
                        return;
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        let _ = tx.send_trailers(trailers);
                        return;
                    }
                }
            },
        }
    }
}

#[cfg(test)]
#[path = "h2conn_tests.rs"]
mod tests;
