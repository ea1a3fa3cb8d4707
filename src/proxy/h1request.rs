//! The child's requests as the listener reads them ([`super::h1serve`]):
//! the head parsed with httparse (hyper's parser) into a request, checked
//! as hyper's server checks it, and its body read from the connection as
//! the handler asks for it.
//!
//! - A head is at most [`MAX_HEADER`] bytes and [`MAX_HEADERS`] headers
//!   (431 past either); one httparse refuses, an invalid method or
//!   request target, or faulty framing is a 400.
//! - Framing (RFC 9112 §6.3): a Transfer-Encoding must end in `chunked`
//!   and is refused in HTTP/1.0; beside it a Content-Length is dropped and
//!   the connection closes after the answer; Content-Lengths must agree.
//!   No framing: no body.
//! - `Expect: 100-continue` is answered when the body is first read, as
//!   hyper's server does.

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Uri, Version, header};
use bytes::BytesMut;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite};

use super::listen::MAX_HEADER;
use crate::http::framing::{self, Bad, Chunk, Framing, Step, add_length, chunked_last, decode};

/// The most headers a request may carry (hyper's limit).
pub const MAX_HEADERS: usize = 100;
/// How much is read at a time.
const READ_SIZE: usize = 16 << 10;
/// Less room than this left in the buffer, and more is made.
const MIN_ROOM: usize = 4 << 10;
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Where a connection tells its listener's sweeper ([`super::listen`])
/// since when it waits for a request head: one store when the wait
/// begins and one when the head is read, no timer per request.
#[derive(Clone, Default)]
pub struct HeadWait {
    /// The listener's clock, in seconds, ticked by its sweeper.
    pub clock: Arc<AtomicU64>,
    /// The clock's reading when the wait began; [`NOT_WAITING`] while a
    /// request is in hand.
    pub since: Arc<AtomicU64>,
}

pub const NOT_WAITING: u64 = u64::MAX;

impl HeadWait {
    /// The wait begins, or moves on: from now.
    pub fn moved(&self) {
        let now = self.clock.load(Ordering::Relaxed);
        self.since.store(now, Ordering::Relaxed);
    }

    pub(super) fn done(&self) {
        self.since.store(NOT_WAITING, Ordering::Relaxed);
    }
}

/// A connection the listener serves.
pub trait ChildIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ChildIo for T {}

/// A connection, shared by the listener and the body of its current
/// request (read, while the answer is written, by whoever sends it on).
pub struct Link {
    pub io: Box<dyn ChildIo>,
    /// What was read and not yet used.
    pub buf: BytesMut,
    /// The current request's body.
    pub framing: Framing,
    extensions: usize,
    /// Which request of the connection `framing` is the body of.
    pub request: u64,
    /// How much of an owed `100 Continue` is written.
    pub continue_owed: Option<usize>,
    /// No more is read: the listener is closing the connection.
    pub closed: bool,
    /// Whether the current request's body is still held (by the handler,
    /// or whoever it passed the body to).
    pub body_out: bool,
    /// The last answer's header map, emptied, for the next request's.
    pub spare: Option<HeaderMap>,
    /// The listener's sweeper's view of the connection: while the
    /// listener waits for the rest of a body (`draining`), each piece
    /// read moves it on.
    pub wait: HeadWait,
    pub draining: bool,
    /// The listener, waiting for the body's end or its reader to go.
    pub waiting: Option<Waker>,
    /// The body's reader, waiting for more of it.
    reader: Option<Waker>,
}

impl Link {
    pub fn new(io: Box<dyn ChildIo>, wait: HeadWait) -> Self {
        Link {
            io,
            buf: BytesMut::new(),
            framing: Framing::Done,
            extensions: 0,
            request: 0,
            continue_owed: None,
            closed: false,
            body_out: false,
            spare: None,
            wait,
            draining: false,
            waiting: None,
            reader: None,
        }
    }

    /// No more is read: a body's reader waiting for more is told now (its
    /// read fails), not when the client sends more or goes.
    pub fn close_reads(&mut self) {
        self.closed = true;
        wake(&mut self.reader);
    }

    /// Read what the connection has into the buffer: false at its end.
    pub fn read_more(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        // Room is made only when little is left: while the last head's
        // bytes are in use, making room is a new buffer.
        if self.buf.capacity() - self.buf.len() < MIN_ROOM {
            self.buf.reserve(READ_SIZE);
        }
        let n = ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut *self.io),
            cx,
            &mut self.buf
        ))?;
        Poll::Ready(Ok(n > 0))
    }
}

pub fn lock(link: &Mutex<Link>) -> MutexGuard<'_, Link> {
    link.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why a head is refused: the answer's status.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// 400
    Bad,
    /// 431
    TooLarge,
}

/// A request head read off a connection.
pub struct Parsed {
    pub req: Request<ChildBody>,
    /// Whether the connection may take another request after this one.
    pub keep_alive: bool,
    /// A HEAD request: its answer has no body.
    pub head: bool,
}

/// The request head at the start of the link's buffer, as request
/// `number` of the connection (its body reads from `shared`); None until
/// the head is whole.
pub fn parse(
    l: &mut Link,
    shared: &Arc<Mutex<Link>>,
    number: u64,
) -> Result<Option<Parsed>, Refused> {
    let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut r = httparse::Request::new(&mut []);
    let len = match httparse::ParserConfig::default()
        .parse_request_with_uninit_headers(&mut r, &l.buf, &mut slots)
    {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEADER => len,
        Ok(httparse::Status::Partial) if l.buf.len() <= MAX_HEADER => return Ok(None),
        Ok(_) | Err(httparse::Error::TooManyHeaders) => return Err(Refused::TooLarge),
        Err(_) => return Err(Refused::Bad),
    };
    let method =
        Method::from_bytes(r.method.unwrap_or_default().as_bytes()).map_err(|_| Refused::Bad)?;
    let http11 = r.version == Some(1);
    let is_head = method == Method::HEAD;
    // Offsets now; names and values once the head is split off.
    let path = r.path.unwrap_or_default().as_bytes();
    let path_at = path.as_ptr() as usize - l.buf.as_ptr() as usize;
    let path = (path_at as u32, (path_at + path.len()) as u32);
    let mut spans = [(0u32, 0u32, 0u32, 0u32); MAX_HEADERS];
    let spans = framing::spans(&l.buf, r.headers, &mut spans);
    let head = l.buf.split_to(len).freeze();
    let slice = |(a, b): (u32, u32)| head.slice(a as usize..b as usize);
    let uri = Uri::from_maybe_shared(slice(path)).map_err(|_| Refused::Bad)?;
    let mut headers = l.spare.take().unwrap_or_default();
    headers.reserve(spans.len());
    let (mut chunked, mut close, mut expect) = (None, false, false);
    // `lists`: a Content-Length given twice, or as a list (of one number).
    let (mut length, mut bad_length, mut lists) = (None, false, false);
    for &(n0, n1, v0, v1) in spans {
        let name =
            framing::header_name(&head[n0 as usize..n1 as usize]).map_err(|_| Refused::Bad)?;
        let value = HeaderValue::from_maybe_shared(slice((v0, v1))).map_err(|_| Refused::Bad)?;
        if name == header::CONTENT_LENGTH {
            lists |= length.is_some() || value.as_bytes().contains(&b',');
            bad_length |= add_length(&mut length, value.as_bytes()).is_err();
        } else if name == header::TRANSFER_ENCODING {
            if !http11 {
                return Err(Refused::Bad);
            }
            chunked = Some(chunked_last(value.as_bytes()));
        } else if name == header::CONNECTION {
            close |= value
                .as_bytes()
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
        } else if name == header::EXPECT {
            expect = value.as_bytes().eq_ignore_ascii_case(b"100-continue");
        }
        headers.append(name, value);
    }
    let framing = match chunked {
        Some(false) => return Err(Refused::Bad),
        Some(true) => {
            // Framed by the transfer coding; a length beside it is not
            // the body's, and the connection is not trusted further.
            close |= headers.remove(header::CONTENT_LENGTH).is_some();
            Framing::Chunked(Chunk::Size)
        }
        None if bad_length => return Err(Refused::Bad),
        None => {
            let n = length.unwrap_or(0);
            if lists {
                // Passed on as one value, as hyper's server kept it.
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
            }
            Framing::Length(n)
        }
    };
    l.continue_owed = (expect && http11 && !framing.is_done()).then_some(0);
    l.framing = framing;
    l.extensions = 0;
    l.request = number;
    l.body_out = true;
    let mut req = Request::new(ChildBody {
        link: shared.clone(),
        request: number,
        done: false,
    });
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = if http11 {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    };
    *req.headers_mut() = headers;
    Ok(Some(Parsed {
        req,
        // HTTP/1.0: one request per connection.
        keep_alive: http11 && !close,
        head: is_head,
    }))
}

/// The body of a request from the child, read off its connection.
pub struct ChildBody {
    link: Arc<Mutex<Link>>,
    request: u64,
    done: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn wake(waiting: &mut Option<Waker>) {
    if let Some(w) = waiting.take() {
        w.wake();
    }
}

fn error(why: &str) -> BoxError {
    why.into()
}

/// [`ChildBody::poll_frame`]'s work, with its connection locked.
fn poll_body(
    done: &mut bool,
    request: u64,
    l: &mut Link,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
    if l.closed {
        *done = true;
        return Poll::Ready(Some(Err(error("the connection closed"))));
    }
    if l.request != request {
        // The connection moved on only after this body's end.
        *done = true;
        return Poll::Ready(None);
    }
    while let Some(at) = l.continue_owed {
        let n = ready!(Pin::new(&mut *l.io).poll_write(cx, &CONTINUE[at..]))?;
        if n == 0 {
            let e = std::io::Error::from(std::io::ErrorKind::WriteZero);
            return Poll::Ready(Some(Err(e.into())));
        }
        l.continue_owed = Some(at + n).filter(|&w| w < CONTINUE.len());
    }
    loop {
        let l = &mut *l;
        match decode(&mut l.framing, &mut l.buf, &mut l.extensions) {
            Ok(Step::Data(b)) => {
                if l.framing.is_done() {
                    wake(&mut l.waiting);
                } else if l.draining {
                    l.wait.moved();
                }
                return Poll::Ready(Some(Ok(Frame::data(b))));
            }
            Ok(Step::End) => {
                *done = true;
                wake(&mut l.waiting);
                return Poll::Ready(None);
            }
            Ok(Step::More) => {}
            Err(Bad::Chunk) => return Poll::Ready(Some(Err(error("a bad chunk")))),
            Err(Bad::Trailers) => return Poll::Ready(Some(Err(error("bad trailers")))),
        }
        if !ready!(l.read_more(cx))? {
            return Poll::Ready(Some(Err(error(
                "the connection closed before the request's end",
            ))));
        }
    }
}

impl hyper::body::Body for ChildBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let mut l = lock(&this.link);
        let polled = poll_body(&mut this.done, this.request, &mut l, cx);
        if polled.is_pending() && !l.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            l.reader = Some(cx.waker().clone());
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        if self.done {
            return true;
        }
        let l = lock(&self.link);
        l.request != self.request || l.framing.is_done()
    }

    fn size_hint(&self) -> SizeHint {
        let l = lock(&self.link);
        if self.done || l.request != self.request {
            return SizeHint::with_exact(0);
        }
        match l.framing {
            Framing::Length(n) => SizeHint::with_exact(n),
            Framing::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

impl Drop for ChildBody {
    fn drop(&mut self) {
        let mut l = lock(&self.link);
        if l.request == self.request {
            l.body_out = false;
            l.reader = None;
            wake(&mut l.waiting);
        }
    }
}

#[cfg(test)]
#[path = "h1request_tests.rs"]
mod tests;
