//! The bodies of `exec --proxy`'s calls to the API ([`super::pool`]): the
//! request's, held in full or streamed, and the response's, which hands its
//! HTTP/1.1 connection back to the pool the moment its end is read (and,
//! for a streamed request, its body's end sent: [`Handoff`]) and bounds the
//! wait for each frame.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::body::Bytes;
use axum::http::Request;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1;

use super::api::{API_READ_TIMEOUT, API_TOTAL_TIMEOUT};
use super::h1answer::Answer;
use super::pool::Pool;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body: held in full (it can be sent again), or streamed.
pub enum ReqBody {
    Held(Option<Bytes>),
    Streaming(axum::body::Body),
    /// The pool's: a streamed body on an HTTP/1.1 connection, whose end
    /// tells its [`Handoff`].
    Tracked(axum::body::Body, Sending),
}

/// The [`Handoff`] of a streamed body, told that the body's end is sent
/// when the body says so, or when hyper lets the body go: a body with a
/// Content-Length is over once that many bytes are written, and hyper
/// then drops it without asking for its end (its connection never went
/// back to the pool). After any other drop (the body failed, the client
/// went away, the connection failed) hyper's connection is closing: it
/// takes a new request only from a clean state, with both the answer and
/// the upload finished, so the pool's [`super::pool`] `ready()` check
/// fails on it and the call goes on another connection; no byte of a
/// new call is written after a short upload.
pub struct Sending(Arc<Handoff>);

impl Drop for Sending {
    fn drop(&mut self) {
        self.0.body_sent();
    }
}

impl ReqBody {
    /// This body, and the [`Handoff`] of its connection when it streams:
    /// the API may answer before the upload is over (a 413 after the
    /// head), and until the body's end is sent the connection is not one
    /// to send another call on.
    pub(super) fn tracked(self) -> (Self, Option<Arc<Handoff>>) {
        match self {
            ReqBody::Held(b) => (ReqBody::Held(b), None),
            ReqBody::Streaming(b) | ReqBody::Tracked(b, _) => {
                let h = Arc::new(Handoff(Mutex::new(Phase::Sending)));
                (ReqBody::Tracked(b, Sending(h.clone())), Some(h))
            }
        }
    }
}

/// An HTTP/1.1 connection whose request body streams goes back to the
/// pool when both its response's end is read and its request body's end
/// is sent, whichever comes last.
pub struct Handoff(Mutex<Phase>);

enum Phase {
    Sending,
    Sent,
    /// The response was read to its end first: the connection waits here.
    Parked(http1::SendRequest<ReqBody>, Arc<Pool>),
}

impl Handoff {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Idempotent: the end may be told by the body, then by its drop.
    fn body_sent(&self) {
        let was = std::mem::replace(&mut *self.phase(), Phase::Sent);
        if let Phase::Parked(s, pool) = was {
            pool.give_back(s);
        }
    }

    fn response_read(&self, s: http1::SendRequest<ReqBody>, pool: Arc<Pool>) {
        let mut phase = self.phase();
        if matches!(*phase, Phase::Sent) {
            drop(phase);
            pool.give_back(s);
        } else {
            *phase = Phase::Parked(s, pool);
        }
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ReqBody::Held(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ReqBody::Streaming(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            ReqBody::Tracked(b, h) => {
                let f = ready!(Pin::new(&mut *b).poll_frame(cx));
                // hyper stops polling once the body says it has ended.
                if f.is_none() || (matches!(f, Some(Ok(_))) && b.is_end_stream()) {
                    h.0.body_sent();
                }
                Poll::Ready(f.map(|f| f.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ReqBody::Held(b) => b.is_none(),
            ReqBody::Streaming(b) | ReqBody::Tracked(b, _) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReqBody::Held(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ReqBody::Streaming(b) | ReqBody::Tracked(b, _) => b.size_hint(),
        }
    }
}

/// A response body from the API: no gap between two frames longer than
/// [`API_READ_TIMEOUT`], the whole call within [`API_TOTAL_TIMEOUT`]; an
/// HTTP/1.1 connection goes back to the pool as soon as its end is read
/// (and its request's end sent, if that streams).
pub struct ApiBody {
    inner: Inner,
    back: Option<(http1::SendRequest<ReqBody>, Arc<Pool>)>,
    handoff: Option<Arc<Handoff>>,
    /// Armed when a frame is awaited; moved on only when it fires.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    last: Instant,
    started: Instant,
}

impl ApiBody {
    /// The body of a response on `back`'s connection (HTTP/1.1), whose
    /// request's body streams if `handoff`, for a call that started at
    /// `started`; an empty one hands it back at once.
    pub(super) fn new(
        inner: Incoming,
        back: Option<(http1::SendRequest<ReqBody>, Arc<Pool>)>,
        handoff: Option<Arc<Handoff>>,
        started: Instant,
    ) -> Self {
        let mut b = ApiBody {
            inner: Inner::H1(inner),
            back,
            handoff,
            timer: None,
            last: Instant::now(),
            started,
        };
        if b.inner.is_end_stream() {
            b.give_back();
        }
        b
    }

    /// The body of an answer on keyless's own HTTP/1.1 connection, which
    /// goes back to `pool` once its end is read.
    pub(super) fn own(inner: Answer, pool: Arc<Pool>, started: Instant) -> Self {
        let mut b = ApiBody {
            inner: Inner::Own(inner, pool),
            back: None,
            handoff: None,
            timer: None,
            last: Instant::now(),
            started,
        };
        if b.inner.is_end_stream() {
            b.give_back();
        }
        b
    }

    /// The body of an HTTP/2 response, for a call that started at `started`.
    pub(super) fn h2(inner: h2::RecvStream, started: Instant) -> Self {
        ApiBody {
            inner: Inner::H2(inner),
            back: None,
            handoff: None,
            timer: None,
            last: Instant::now(),
            started,
        }
    }

    fn give_back(&mut self) {
        if let Inner::Own(a, pool) = &mut self.inner {
            if let Some(conn) = a.take_idle() {
                pool.give_back_own(conn);
            }
            return;
        }
        if let Some((s, pool)) = self.back.take() {
            match self.handoff.take() {
                Some(h) => h.response_read(s, pool),
                None => pool.give_back(s),
            }
        }
    }
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(f))) => {
                this.last = Instant::now();
                if this.inner.is_end_stream() {
                    this.give_back();
                }
                return Poll::Ready(Some(Ok(f)));
            }
            Poll::Ready(None) => {
                this.give_back();
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Err(e))) => {
                this.back = None;
                return Poll::Ready(Some(Err(e)));
            }
            Poll::Pending => {}
        }
        let deadline = (this.last + API_READ_TIMEOUT).min(this.started + API_TOTAL_TIMEOUT);
        let deadline = tokio::time::Instant::from_std(deadline);
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // Armed once, moved on only when it fires before the gap is over
        // (frames came since): no timer work per frame.
        loop {
            ready!(timer.as_mut().poll(cx));
            if timer.deadline() >= deadline {
                break;
            }
            timer.as_mut().reset(deadline);
        }
        this.back = None;
        let e = std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the API sent nothing for too long",
        );
        Poll::Ready(Some(Err(e.into())))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body as the API's connection delivers it.
enum Inner {
    Own(Answer, Arc<Pool>),
    H1(Incoming),
    H2(h2::RecvStream),
}

impl Inner {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let s = match self {
            Inner::Own(a, _) => return a.poll_frame(cx).map_err(Into::into),
            Inner::H1(b) => return Pin::new(b).poll_frame(cx).map_err(Into::into),
            Inner::H2(s) => s,
        };
        match ready!(s.poll_data(cx)) {
            Some(Ok(data)) => {
                // Read: the API may send as much again.
                let _ = s.flow_control().release_capacity(data.len());
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
            None => match ready!(s.poll_trailers(cx)) {
                Ok(Some(t)) => Poll::Ready(Some(Ok(Frame::trailers(t)))),
                Ok(None) => Poll::Ready(None),
                Err(e) => Poll::Ready(Some(Err(e.into()))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Inner::Own(a, _) => a.is_end_stream(),
            Inner::H1(b) => b.is_end_stream(),
            Inner::H2(s) => s.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Inner::Own(a, _) => match a.exact_len() {
                Some(n) => SizeHint::with_exact(n),
                None => SizeHint::default(),
            },
            Inner::H1(b) => b.size_hint(),
            // The Content-Length header, if any, is passed on as it is.
            Inner::H2(_) => SizeHint::default(),
        }
    }
}

/// `req` with its body tracked ([`ReqBody::tracked`]).
pub(super) fn track(req: Request<ReqBody>) -> (Request<ReqBody>, Option<Arc<Handoff>>) {
    let (parts, body) = req.into_parts();
    let (body, handoff) = body.tracked();
    (Request::from_parts(parts, body), handoff)
}
