//! The listener's HTTP/1.1 server: one connection's requests read, handed
//! to the handler one at a time, and their answers written (issue 21:
//! hyper's server parsed each head into its own structures, relayed the
//! body through a channel, and armed a timer per head; this one reads and
//! writes on the connection's task, and the head-read limit is kept by the
//! listener's sweeper).
//!
//! - A head may take `HEADER_TIMEOUT` to arrive, counted from when the
//!   listener starts waiting for it: also how long a kept-alive connection
//!   may sit idle. The listener's sweeper closes a connection past it
//!   ([`HeadWait`]). A refused head is answered (400, 431) and the
//!   connection closed.
//! - An answer is framed by its Content-Length (the header's, else its
//!   body's exact size), else chunked (HTTP/1.1) or by the connection's
//!   end (HTTP/1.0); a HEAD's, a 204's and a 304's have no body. Its head
//!   goes out with the first piece of its body, or alone if that is not
//!   there yet (a stream's events).
//! - A connection takes another request once the answer is written and
//!   the request's body read to its end (by the handler, or by whoever
//!   the handler passed it to); a body left unread, an answer that ended
//!   short, or either side asking closes it.

use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::Response;
use hyper::body::Body as _;

use super::h1close::{Closing, close, refuse};
use super::h1request::{
    CONTINUE, ChildBody, ChildIo, HeadWait, Link, NOT_WAITING, Parsed, Refused, lock, parse,
};
use super::headers::date_now;
use super::listen::Conn;
use crate::http::api::API_READ_TIMEOUT;
use crate::http::framing::add_length;

/// Serve the requests of one connection with `handle` until it closes.
pub async fn serve<H, F>(io: Box<dyn ChildIo>, handle: &H, conn: &Conn, wait: &HeadWait)
where
    H: Fn(Request<ChildBody>, Conn) -> F,
    F: Future<Output = Response>,
{
    let link = Arc::new(Mutex::new(Link::new(io, wait.clone())));
    // However it ends, a body still held elsewhere reads no more.
    let _closing = Closing(&link);
    let mut out = Vec::new();
    let mut number = 0u64;
    loop {
        number += 1;
        let parsed = match read_head(&link, number, wait).await {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(refused) => return refuse(&link, refused).await,
        };
        let Parsed {
            req,
            keep_alive,
            head,
        } = parsed;
        // Pinned here, not in `unless_gone`: the handler's future is
        // large (kilobytes), and each move of it is a copy per request.
        // In a block of its own: a call the child hung up on is dropped
        // before the connection closes.
        let answer = {
            let handler = std::pin::pin!(handle(req, conn.clone()));
            unless_gone(&link, handler).await
        };
        let Some(answer) = answer else {
            return close(&link).await;
        };
        let (keep_alive, owed) = {
            let mut l = lock(&link);
            // Answered: a `100 Continue` is no longer owed (one begun is
            // finished first); a body dropped unread closes the
            // connection, which the answer says.
            let owed = l.continue_owed.take().filter(|&at| at > 0);
            (keep_alive && (l.framing.is_done() || l.body_out), owed)
        };
        if let Some(at) = owed
            && write_all(&link, &mut [IoSlice::new(&CONTINUE[at..])])
                .await
                .is_err()
        {
            return;
        }
        let Ok(keep) = write_answer(&link, &mut out, answer, head, keep_alive).await else {
            return;
        };
        if !keep || !body_read(&link).await {
            return close(&link).await;
        }
    }
}

/// The handler's answer; None if the child hung up first (its call to
/// the API is then dropped, as hyper's server did). Once the request's
/// body is read, the connection is watched for its end; bytes of a next
/// request end the watch.
async fn unless_gone<F: Future<Output = Response>>(
    link: &Mutex<Link>,
    mut handler: Pin<&mut F>,
) -> Option<Response> {
    let mut watching = true;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(answer) = handler.as_mut().poll(cx) {
            return Poll::Ready(Some(answer));
        }
        if watching {
            let mut l = lock(link);
            // Until the body is read it is its reader's to read; its end
            // (or its reader's going) wakes this watch.
            if !l.framing.is_done() {
                l.waiting = Some(cx.waker().clone());
            } else {
                if !l.buf.is_empty() {
                    watching = false;
                } else {
                    match l.read_more(cx) {
                        Poll::Ready(Ok(true)) => watching = false,
                        Poll::Ready(_) => return Poll::Ready(None),
                        Poll::Pending => {}
                    }
                }
            }
        }
        Poll::Pending
    })
    .await
}

/// The next request head: None when the connection closed.
async fn read_head(
    link: &Arc<Mutex<Link>>,
    number: u64,
    wait: &HeadWait,
) -> Result<Option<Parsed>, Refused> {
    let mut waiting = false;
    std::future::poll_fn(|cx| {
        let mut l = lock(link);
        loop {
            if !l.buf.is_empty()
                && let Some(p) = parse(&mut l, link, number)?
            {
                if waiting {
                    wait.since.store(NOT_WAITING, Ordering::Relaxed);
                }
                return Poll::Ready(Ok(Some(p)));
            }
            match l.read_more(cx) {
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(_) => return Poll::Ready(Ok(None)),
                Poll::Pending => {
                    if !waiting {
                        waiting = true;
                        wait.moved();
                    }
                    return Poll::Pending;
                }
            }
        }
    })
    .await
}

/// How an answer's body is framed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framed {
    None,
    Length(u64),
    Chunked,
    ToEnd,
}

/// Write `answer` (to a HEAD request if `head`); whether the connection
/// may take another request, as far as the answer goes.
async fn write_answer(
    link: &Mutex<Link>,
    out: &mut Vec<u8>,
    answer: Response,
    head: bool,
    keep_alive: bool,
) -> std::io::Result<bool> {
    let (parts, mut body) = answer.into_parts();
    let status = parts.status;
    let bodyless = head
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    // Content-Lengths that are not one number are not passed on.
    let (length, close) = encode_head(out, status, &parts.headers);
    let length = length.ok().flatten();
    let framed = match (length, body.size_hint().exact()) {
        _ if bodyless => Framed::None,
        (Some(n), _) | (None, Some(n)) => Framed::Length(n),
        _ if keep_alive => Framed::Chunked,
        _ => Framed::ToEnd,
    };
    let keep = keep_alive && framed != Framed::ToEnd && !close;
    // A HEAD's or a 304's length is the body's it stands for.
    let told = match framed {
        Framed::Length(n) => Some(n),
        Framed::None if head || status == StatusCode::NOT_MODIFIED => length,
        _ => None,
    };
    end_head(out, framed, told, keep);
    let mut left = match framed {
        Framed::Length(n) => n,
        _ => u64::MAX,
    };
    let mut head_out = !out.is_empty();
    let mut ended = framed == Framed::None || left == 0;
    while !ended {
        // Its head goes with the first piece of the body, or alone when
        // that is not there yet.
        let frame = match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx)))
            .await
        {
            Poll::Ready(f) => f,
            Poll::Pending if head_out => {
                write_all(link, &mut [IoSlice::new(out)]).await?;
                head_out = false;
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
            }
            Poll::Pending => std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await,
        };
        let data = match frame {
            None => break,
            Some(Err(_)) => return Err(std::io::ErrorKind::BrokenPipe.into()),
            Some(Ok(f)) => match f.into_data() {
                Ok(d) if !d.is_empty() => d,
                _ => continue, // trailers are not passed on
            },
        };
        if data.len() as u64 > left {
            // More than its length said: the connection cannot go on.
            return Err(std::io::ErrorKind::InvalidData.into());
        }
        left -= data.len() as u64;
        ended = left == 0 || body.is_end_stream();
        let mut size = [0u8; 20];
        let size = chunk_size(&mut size, framed, data.len());
        let tail: &[u8] = match framed {
            Framed::Chunked if ended => b"\r\n0\r\n\r\n",
            Framed::Chunked => b"\r\n",
            _ => b"",
        };
        let h: &[u8] = if head_out { out } else { b"" };
        write_all(link, &mut [h, size, &data, tail].map(IoSlice::new)).await?;
        head_out = false;
        if ended && framed == Framed::Chunked {
            return finish(link, keep, true, parts.headers).await;
        }
    }
    let tail: &[u8] = if framed == Framed::Chunked {
        b"0\r\n\r\n"
    } else {
        b""
    };
    let h: &[u8] = if head_out { out } else { b"" };
    write_all(link, &mut [h, tail].map(IoSlice::new)).await?;
    // An answer shorter than its length leaves the client waiting for more.
    let whole = !matches!(framed, Framed::Length(_)) || left == 0;
    finish(link, keep, whole, parts.headers).await
}

/// Flush what was written; whether the connection may go on. The
/// answer's header map is kept for the next request's (hyper's server
/// did so too): two allocations fewer per request.
async fn finish(
    link: &Mutex<Link>,
    keep: bool,
    whole: bool,
    mut headers: HeaderMap,
) -> std::io::Result<bool> {
    std::future::poll_fn(|cx| Pin::new(&mut *lock(link).io).poll_flush(cx)).await?;
    headers.clear();
    lock(link).spare = Some(headers);
    Ok(keep && whole)
}

/// The chunk-size line of `len` bytes of a chunked body, in `buf`.
fn chunk_size(buf: &mut [u8; 20], framed: Framed, len: usize) -> &[u8] {
    if framed != Framed::Chunked {
        return &buf[..0];
    }
    // Hex digits from the last; `len` has at most 16 (64-bit usize).
    buf[18..].copy_from_slice(b"\r\n");
    let (mut at, mut n) = (18, len);
    loop {
        at -= 1;
        buf[at] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// The answer's status line and headers but the framing and connection
/// ones (Content-Length is written once, by [`end_head`]), dated if it
/// is not (RFC 9110 §6.6.1); its
/// Content-Length (Err if its values are not one number) and whether its
/// `Connection` asks to close.
fn encode_head(
    out: &mut Vec<u8>,
    status: StatusCode,
    headers: &HeaderMap,
) -> (Result<Option<u64>, ()>, bool) {
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let (mut length, mut bad_length, mut close, mut dated) = (None, false, false, false);
    for (name, value) in headers {
        dated |= name == header::DATE;
        if name == header::CONTENT_LENGTH {
            bad_length |= add_length(&mut length, value.as_bytes()).is_err();
            continue;
        } else if name == header::CONNECTION {
            close |= value
                .as_bytes()
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
            continue;
        } else if name == header::TRANSFER_ENCODING || name == "keep-alive" {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(now) = (!dated).then(date_now).flatten() {
        out.extend_from_slice(format!("date: {now}\r\n").as_bytes());
    }
    (if bad_length { Err(()) } else { Ok(length) }, close)
}

/// The listener's headers, and the head's end.
fn end_head(out: &mut Vec<u8>, framed: Framed, length: Option<u64>, keep: bool) {
    if let Some(n) = length {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if framed == Framed::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    if !keep {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Write all of `slices`. A child that takes none of it for the API's
/// read gap fails the write: the answer is dropped, and what it holds of
/// the API (an h2 stream's window, an HTTP/1.1 connection) with it.
pub(super) async fn write_all(
    link: &Mutex<Link>,
    mut slices: &mut [IoSlice<'_>],
) -> std::io::Result<()> {
    let mut stalled: Option<Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        let mut l = lock(link);
        while slices.iter().any(|s| !s.is_empty()) {
            match Pin::new(&mut *l.io).poll_write_vectored(cx, slices) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    IoSlice::advance_slices(&mut slices, n);
                    stalled = None;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    let gap = stalled
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(API_READ_TIMEOUT)));
                    if gap.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(std::io::ErrorKind::TimedOut.into()));
                    }
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// Whether the request's body was read to its end: waits while someone
/// still reads it (an upload the API answered before its end), for as
/// long as pieces of it keep coming within the head-read limit.
async fn body_read(link: &Arc<Mutex<Link>>) -> bool {
    let mut counted = false;
    let read = std::future::poll_fn(|cx| {
        let mut l = lock(link);
        if l.framing.is_done() {
            return Poll::Ready(true);
        }
        if !l.body_out {
            return Poll::Ready(false);
        }
        if !counted {
            counted = true;
            l.draining = true;
            l.wait.moved();
        }
        l.waiting = Some(cx.waker().clone());
        Poll::Pending
    })
    .await;
    if counted {
        let mut l = lock(link);
        l.draining = false;
        l.wait.done();
    }
    read
}

#[cfg(test)]
#[path = "h1serve_tests.rs"]
pub(super) mod tests;
