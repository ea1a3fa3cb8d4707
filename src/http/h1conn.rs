//! `exec --proxy`'s HTTP/1.1 calls to the API with a held body (nearly
//! all of them), written and read on the call's own task ([`super::pool`]):
//! the head is encoded straight from the request's header map, head and
//! body leave in one vectored write, and the answer's head is parsed with
//! httparse (hyper's parser) into the response handed to the listener.
//! hyper's client connection ran a task of its own per connection, with a
//! channel and a wake-up each way per call, and took the request's head,
//! which the proxy then had to copy for a 401 retry (issue 21). A call
//! whose body streams still goes through hyper's client, which sends the
//! body while it reads the answer: its connection is handed to hyper.
//!
//! The answer is read by [`super::h1answer`].

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Response, header};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::h1answer::{Answer, Head, parse_head};
use super::pool::Failed;

/// How much is read at a time.
const READ_SIZE: usize = 16 << 10;

/// A connection to the API: plain TCP, or TLS over it.
pub enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An idle HTTP/1.1 connection to the API.
pub struct H1 {
    pub(super) io: Io,
    /// What was read and not yet used (empty between calls).
    pub(super) buf: BytesMut,
    /// The request head being written (its allocation kept between calls).
    out: Vec<u8>,
}

/// How long a call whose request stopped moving (a write failed, or the
/// API answered early and stopped reading) waits before it is answered
/// with what came (or fails, if nothing did).
const WRITE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// The most of an early answer's body read while the rest of its request
/// is still being written.
const EARLY_HOLD: usize = 1 << 20;

/// How a call on an [`H1`] ended without an answer.
pub enum CallError {
    /// No write of the request succeeded: the API cannot hold it whole
    /// (over TLS part may have left, never its end), so it may go on
    /// another connection.
    NotSent(Failed),
    Failed(Failed),
}

impl H1 {
    pub fn new(io: Io) -> Self {
        H1 {
            io,
            buf: BytesMut::new(),
            out: Vec::new(),
        }
    }

    /// Whether an idle connection can take a call: the API has neither
    /// closed it nor sent anything unasked (a read that would wait).
    pub fn is_usable(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut one = [0u8; 1];
        let io = &mut self.io;
        // Outside tokio's cooperative budget: a task that spent it would
        // see every read wait, a closed connection's too.
        let probe = tokio::task::unconstrained(std::future::poll_fn(|cx| {
            let mut rb = ReadBuf::new(&mut one);
            Poll::Ready(Pin::new(&mut *io).poll_read(cx, &mut rb).is_pending())
        }));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        matches!(std::pin::pin!(probe).poll(&mut cx), Poll::Ready(true))
    }

    /// The connection, for hyper's client (a call whose body streams).
    pub fn into_io(self) -> Io {
        self.io
    }

    /// Send a call (`head`'s method and headers, `path`, `host`, the whole
    /// `body`) and read its answer's head. `head` is only read: it stays
    /// the caller's (a 401 is retried with it).
    pub async fn call(
        mut self,
        head: &Parts,
        path: &str,
        host: &HeaderValue,
        body: &[u8],
    ) -> Result<Response<Answer>, CallError> {
        encode(&mut self.out, head, path, host, body.len());
        let mut ex = Exchange {
            total: self.out.len() + body.len(),
            conn: &mut self,
            body,
            no_body: head.method == Method::HEAD,
            written: 0,
            flushed: false,
            write_error: None,
            early: None,
            answered_early: false,
            moved: std::time::Instant::now(),
            stall: None,
        };
        let (head_read, reusable) = std::future::poll_fn(|cx| ex.poll(cx)).await?;
        let (parts, framing, keep) = head_read;
        // The connection is used again only after a whole exchange, in
        // order (the request's `Connection` never reaches here: the
        // proxy strips it).
        let keep = keep && reusable;
        Ok(Response::from_parts(
            parts,
            Answer::new(self, framing, keep),
        ))
    }
}

/// One call on an [`H1`] under way: what is written, and what came back.
struct Exchange<'a> {
    conn: &'a mut H1,
    body: &'a [u8],
    /// The answer to a HEAD, which has no body.
    no_body: bool,
    total: usize,
    written: usize,
    flushed: bool,
    write_error: Option<std::io::Error>,
    /// An answer that came before the request was all sent, waiting for
    /// it to be (the API reads on while it answers).
    early: Option<Head>,
    /// Whether any of the answer was read before the request was all
    /// sent: its connection is not used again, whatever the answer says
    /// (the API may not have read the rest as a body).
    answered_early: bool,
    /// When the request last moved, and a timer for a write that stalls.
    moved: std::time::Instant,
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Exchange<'_> {
    /// The answer's head, and whether its connection may be used again.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<(Head, bool), CallError>> {
        loop {
            // Write while the API reads; read its answer all along (it
            // may answer before the request is all sent: a 413, a 401).
            while self.write_error.is_none() && self.written < self.total {
                let slices = unsent(&self.conn.out, self.body, self.written);
                match Pin::new(&mut self.conn.io).poll_write_vectored(cx, &slices) {
                    Poll::Ready(Ok(0)) => {
                        self.write_error = Some(std::io::ErrorKind::WriteZero.into())
                    }
                    Poll::Ready(Ok(n)) => {
                        self.written += n;
                        self.moved = std::time::Instant::now();
                    }
                    Poll::Ready(Err(e)) => self.write_error = Some(e),
                    Poll::Pending => break,
                }
            }
            if self.write_error.is_none() && self.written == self.total && !self.flushed {
                match Pin::new(&mut self.conn.io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.flushed = true,
                    Poll::Ready(Err(e)) => self.write_error = Some(e),
                    Poll::Pending => {}
                }
            }
            let sent = self.written == self.total && self.flushed;
            if let Some(h) = self.early.take() {
                if sent {
                    return Poll::Ready(Ok((h, false)));
                }
                // Past what an answer may hold while the request is
                // still going, or no more can be written: answered as
                // it is, the connection not used again.
                if self.write_error.is_some() || self.conn.buf.len() >= EARLY_HOLD {
                    return Poll::Ready(Ok((h, false)));
                }
                match read_more(&mut self.conn.io, &mut self.conn.buf, cx) {
                    Poll::Ready(Ok(true)) => {
                        self.early = Some(h);
                        continue;
                    }
                    Poll::Ready(_) => return Poll::Ready(Ok((h, false))),
                    // The API stopped reading the rest: answered as it is.
                    Poll::Pending if stalled(&mut self.stall, self.moved, cx) => {
                        return Poll::Ready(Ok((h, false)));
                    }
                    Poll::Pending => {
                        self.early = Some(h);
                        return Poll::Pending;
                    }
                }
            }
            match parse_head(&mut self.conn.buf, self.no_body) {
                Ok(Some(h)) if sent => return Poll::Ready(Ok((h, !self.answered_early))),
                // An error, or a close: the rest is not sent.
                Ok(Some(h)) if h.0.status.as_u16() >= 400 || !h.2 => {
                    return Poll::Ready(Ok((h, false)));
                }
                Ok(Some(h)) => {
                    self.answered_early = true;
                    self.early = Some(h);
                    continue;
                }
                Ok(None) => {}
                Err(e) => return Poll::Ready(Err(CallError::Failed(Failed::new(e)))),
            }
            match read_more(&mut self.conn.io, &mut self.conn.buf, cx) {
                Poll::Ready(Ok(true)) => {
                    self.answered_early |= !sent;
                    continue;
                }
                Poll::Ready(Ok(false)) => {
                    return Poll::Ready(Err(closed(self.written, self.write_error.take())));
                }
                Poll::Ready(Err(e)) => {
                    let e = self.write_error.take().unwrap_or(e);
                    return Poll::Ready(Err(closed(self.written, Some(e))));
                }
                Poll::Pending if self.write_error.is_some() => {
                    // No more can be self.written, but the API may still be
                    // answering (a 413 before it closes): a little while.
                    if stalled(&mut self.stall, self.moved, cx) {
                        return Poll::Ready(Err(closed(self.written, self.write_error.take())));
                    }
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The parts of head and body not yet written.
fn unsent<'a>(out: &'a [u8], body: &'a [u8], written: usize) -> [std::io::IoSlice<'a>; 2] {
    let (h, b) = if written < out.len() {
        (&out[written..], body)
    } else {
        (&out[..0], &body[written - out.len()..])
    };
    [std::io::IoSlice::new(h), std::io::IoSlice::new(b)]
}

/// Why a call got no answer: nothing sent is safe to send again.
fn closed(written: usize, e: Option<std::io::Error>) -> CallError {
    let f = Failed::new(match e {
        Some(e) => e.to_string(),
        None => "the API closed the connection before answering".into(),
    });
    if written == 0 {
        CallError::NotSent(f)
    } else {
        CallError::Failed(f)
    }
}

/// The request head: request line, `Host`, the headers but the framing
/// ones, and the body's `Content-Length` (also when empty, if the request
/// carried one or is a POST, PUT or PATCH: what hyper's client sends).
fn encode(out: &mut Vec<u8>, head: &Parts, path: &str, host: &HeaderValue, len: usize) {
    out.clear();
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut had_length = false;
    for (name, value) in &head.headers {
        if name == header::CONTENT_LENGTH {
            had_length = true;
            continue;
        }
        if name == header::HOST || name == header::TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let needs = matches!(head.method, Method::POST | Method::PUT | Method::PATCH);
    if len > 0 || had_length || needs {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether the request has not moved for [`WRITE_GRACE`] since `moved`
/// (else `cx` is woken when it will have).
fn stalled(
    timer: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    moved: std::time::Instant,
    cx: &mut Context<'_>,
) -> bool {
    let deadline = tokio::time::Instant::from_std(moved + WRITE_GRACE);
    let t = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if t.deadline() != deadline {
        t.as_mut().reset(deadline);
    }
    t.as_mut().poll(cx).is_ready()
}

/// Read what the connection has into `buf`: false at its end.
pub(super) fn read_more(
    io: &mut Io,
    buf: &mut BytesMut,
    cx: &mut Context<'_>,
) -> Poll<std::io::Result<bool>> {
    buf.reserve(READ_SIZE);
    let n = ready!(tokio_util::io::poll_read_buf(Pin::new(io), cx, buf))?;
    Poll::Ready(Ok(n > 0))
}

#[cfg(test)]
#[path = "h1conn_tests.rs"]
mod tests;
