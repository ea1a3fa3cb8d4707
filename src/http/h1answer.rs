//! The answer to one of `exec --proxy`'s own HTTP/1.1 calls
//! ([`super::h1conn`]): its head parsed with httparse (hyper's parser), and
//! its body read from the connection as the listener asks for it.
//!
//! Bounded like hyper's: a head is at most [`MAX_ANSWER_HEAD`] bytes and
//! [`MAX_ANSWER_HEADERS`] headers (the bounds of every answer from the
//! API), a chunk-size line, its extensions and the trailers (read and
//! dropped) as [`super::framing`] bounds them; obsolete line
//! folding, a Content-Length that is not one number, and an upgrade are
//! refused. A connection goes back to the pool only after an answer whose
//! end its framing told (a Content-Length or the last chunk), with nothing
//! read past it and neither side asking to close.

use std::task::{Context, Poll, ready};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use bytes::{Buf, BytesMut};
use hyper::body::Frame;

use super::api::{MAX_ANSWER_HEAD, MAX_ANSWER_HEADERS};
pub(super) use super::framing::{Bad, Chunk, Framing, Step, chunked_last, content_length, decode};
use super::h1conn::{H1, read_more};

pub(super) type Head = (axum::http::response::Parts, Framing, bool);

/// The answer's head, once `buf` holds it (informational answers are
/// passed over); what follows it stays in `buf`. `no_body`: the answer to
/// a HEAD request, which has none whatever its headers say.
pub(super) fn parse_head(buf: &mut BytesMut, no_body: bool) -> Result<Option<Head>, String> {
    loop {
        let mut slots = [const { std::mem::MaybeUninit::uninit() }; MAX_ANSWER_HEADERS];
        let mut r = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut r, buf, &mut slots);
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) if len <= MAX_ANSWER_HEAD => len,
            Ok(httparse::Status::Partial) if buf.len() <= MAX_ANSWER_HEAD => return Ok(None),
            Ok(_) => {
                return Err(format!(
                    "the API's answer head is over {} KiB",
                    MAX_ANSWER_HEAD >> 10
                ));
            }
            Err(e) => return Err(format!("the API's answer is not HTTP/1.1: {e}")),
        };
        let code = r.code.unwrap_or(0);
        if code == 101 {
            return Err("the API switched protocols, unasked".into());
        }
        if (100..200).contains(&code) {
            buf.advance(len);
            continue;
        }
        let status = StatusCode::from_u16(code).map_err(|e| e.to_string())?;
        let http10 = r.version == Some(0);
        // Offsets now; names and values once the head is split off.
        let mut spans = [(0u32, 0u32, 0u32, 0u32); MAX_ANSWER_HEADERS];
        let spans = super::framing::spans(buf, r.headers, &mut spans);
        let (mut framing, mut close, mut keep_alive) = (None, false, false);
        let mut headers = HeaderMap::with_capacity(spans.len());
        let head = buf.split_to(len).freeze();
        for &(n0, n1, v0, v1) in spans {
            let name = super::framing::header_name(&head[n0 as usize..n1 as usize])
                .map_err(|e| e.to_string())?;
            let value = HeaderValue::from_maybe_shared(head.slice(v0 as usize..v1 as usize))
                .map_err(|e| format!("the API's header {name}: {e}"))?;
            if name == header::CONNECTION {
                for t in value.as_bytes().split(|&b| b == b',') {
                    let t = t.trim_ascii();
                    close |= t.eq_ignore_ascii_case(b"close");
                    keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name == header::TRANSFER_ENCODING && http10 {
                // RFC 9112 6.1: faulty framing (hyper refuses it too).
                return Err("the API's HTTP/1.0 answer has a Transfer-Encoding".into());
            } else if name == header::TRANSFER_ENCODING {
                // The last coding decides: chunked, or the body runs to
                // the connection's end.
                framing = Some(if chunked_last(value.as_bytes()) {
                    Framing::Chunked(Chunk::Size)
                } else {
                    Framing::ToEnd
                });
            }
            headers.append(name, value);
        }
        let framing = match framing {
            _ if no_body
                || status == StatusCode::NO_CONTENT
                || status == StatusCode::NOT_MODIFIED =>
            {
                Framing::Length(0)
            }
            Some(f) => {
                // The transfer coding frames it; a length beside it is not the body's.
                headers.remove(header::CONTENT_LENGTH);
                f
            }
            None => match content_length(&headers)
                .map_err(|()| "the API's answer has an invalid or two Content-Lengths")?
            {
                Some(n) => Framing::Length(n),
                None => Framing::ToEnd,
            },
        };
        // HTTP/1.0 keeps a connection only when asked to; a body that
        // ends with the connection ends it.
        let keep = !close && (!http10 || keep_alive) && !matches!(framing, Framing::ToEnd);
        let mut resp = Response::new(());
        *resp.status_mut() = status;
        *resp.headers_mut() = headers;
        return Ok(Some((resp.into_parts().0, framing, keep)));
    }
}

/// An answer's body, read from its connection as the listener asks for it;
/// the connection is given back ([`Answer::take_idle`]) once its end is read.
pub struct Answer {
    conn: Option<H1>,
    framing: Framing,
    keep: bool,
    /// Chunk-extension bytes read so far ([`super::framing::MAX_EXTENSIONS`]).
    extensions: usize,
}

impl Answer {
    pub(super) fn new(conn: H1, framing: Framing, keep: bool) -> Self {
        Answer {
            conn: Some(conn),
            framing,
            keep,
            extensions: 0,
        }
    }

    pub fn is_end_stream(&self) -> bool {
        self.framing.is_done()
    }

    pub fn exact_len(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            Framing::Done => Some(0),
            _ => None,
        }
    }

    /// The connection, once the body's end is read and it may take another call.
    pub fn take_idle(&mut self) -> Option<H1> {
        if !self.is_end_stream() || !self.keep {
            return None;
        }
        let conn = self.conn.take()?;
        conn.buf.is_empty().then_some(conn)
    }

    pub fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, String>>> {
        let Some(conn) = self.conn.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            match decode(&mut self.framing, &mut conn.buf, &mut self.extensions) {
                Ok(Step::Data(b)) => return Poll::Ready(Some(Ok(Frame::data(b)))),
                Ok(Step::End) => return Poll::Ready(None),
                Ok(Step::More) => {}
                Err(Bad::Chunk) => {
                    return Poll::Ready(Some(Err("the API's answer has a bad chunk".into())));
                }
                Err(Bad::Trailers) => {
                    return Poll::Ready(Some(Err("the API's answer has bad trailers".into())));
                }
            }
            match ready!(read_more(&mut conn.io, &mut conn.buf, cx)) {
                Ok(true) => {}
                Ok(false) if matches!(self.framing, Framing::ToEnd) => {
                    self.framing = Framing::Done;
                    return Poll::Ready(None);
                }
                Ok(false) => {
                    return Poll::Ready(Some(Err(
                        "the API closed the connection before the answer's end".into(),
                    )));
                }
                Err(e) => return Poll::Ready(Some(Err(e.to_string()))),
            }
        }
    }
}
