//! The answer to one of `exec --proxy`'s own HTTP/1.1 calls
//! ([`super::h1conn`]): its head parsed with httparse (hyper's parser), and
//! its body read from the connection as the listener asks for it.
//!
//! Bounded like hyper's: a head is at most [`MAX_HEAD`] bytes and
//! [`MAX_HEADERS`] headers, a chunk-size line at most [`MAX_LINE`], the
//! trailers at most [`MAX_TRAILERS`] (read and dropped); obsolete line
//! folding, a Content-Length that is not one number, and an upgrade are
//! refused. A connection goes back to the pool only after an answer whose
//! end its framing told (a Content-Length or the last chunk), with nothing
//! read past it and neither side asking to close.

use std::task::{Context, Poll, ready};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use bytes::{Buf, BytesMut};
use hyper::body::Frame;

use super::h1conn::{H1, read_more};

/// The largest answer head read.
pub const MAX_HEAD: usize = 64 << 10;
/// The most headers an answer may carry (hyper's limit).
pub const MAX_HEADERS: usize = 100;
/// The longest chunk-size line (size and extensions).
pub const MAX_LINE: usize = 4 << 10;
/// The most chunk-extension bytes a body may carry in all (hyper's bound).
pub const MAX_EXTENSIONS: usize = 16 << 10;
/// The most trailer bytes read (and dropped) after the last chunk.
pub const MAX_TRAILERS: usize = 16 << 10;
pub(super) type Head = (axum::http::response::Parts, Framing, bool);

/// The answer's head, once `buf` holds it (informational answers are
/// passed over); what follows it stays in `buf`. `no_body`: the answer to
/// a HEAD request, which has none whatever its headers say.
pub(super) fn parse_head(buf: &mut BytesMut, no_body: bool) -> Result<Option<Head>, String> {
    loop {
        let mut slots = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut r = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut r, buf, &mut slots);
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => return Ok(None),
            Ok(_) => {
                return Err(format!(
                    "the API's answer head is over {} KiB",
                    MAX_HEAD >> 10
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
        // The names now; the values once the head is split off, as
        // slices of it (no copy of them).
        let base = buf.as_ptr() as usize;
        let mut named = Vec::with_capacity(r.headers.len());
        for h in r.headers.iter() {
            let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|e| e.to_string())?;
            let at = h.value.as_ptr() as usize - base;
            named.push((name, at, at + h.value.len()));
        }
        let (mut framing, mut close, mut keep_alive) = (None, false, false);
        let mut headers = HeaderMap::with_capacity(named.len());
        let head = buf.split_to(len).freeze();
        for (name, v0, v1) in named {
            let value = HeaderValue::from_maybe_shared(head.slice(v0..v1))
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
                let last = value
                    .as_bytes()
                    .rsplit(|&b| b == b',')
                    .next()
                    .unwrap_or_default();
                framing = Some(if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
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
            None => match content_length(&headers)? {
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

/// The answer's Content-Length: every value (and every comma-separated
/// part) the same number, else the answer is refused.
fn content_length(h: &HeaderMap) -> Result<Option<u64>, String> {
    let mut found = None;
    for v in h.get_all(header::CONTENT_LENGTH) {
        for part in v.as_bytes().split(|&b| b == b',') {
            let part = part.trim_ascii();
            let n = (!part.is_empty() && part.len() <= 19 && part.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(part).ok()?.parse::<u64>().ok())
                .flatten()
                .ok_or("the API's answer has an invalid Content-Length")?;
            if found.is_some_and(|f| f != n) {
                return Err("the API's answer has two Content-Lengths".into());
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// How the answer's body ends.
#[derive(Debug)]
pub enum Framing {
    /// This many bytes more.
    Length(u64),
    Chunked(Chunk),
    /// At the connection's end (never reused).
    ToEnd,
    Done,
}

#[derive(Debug)]
pub enum Chunk {
    /// A chunk-size line is next.
    Size,
    /// This many bytes of a chunk's data, then its CRLF.
    Data(u64),
    /// The CRLF after a chunk's data.
    End,
    /// The trailer section, until an empty line.
    Trailers,
}

/// An answer's body, read from its connection as the listener asks for it;
/// the connection is given back ([`Answer::take_idle`]) once its end is read.
pub struct Answer {
    conn: Option<H1>,
    framing: Framing,
    keep: bool,
    /// Chunk-extension bytes read so far ([`MAX_EXTENSIONS`]).
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
        matches!(self.framing, Framing::Done | Framing::Length(0))
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
            let buf = &mut conn.buf;
            match &mut self.framing {
                Framing::Done | Framing::Length(0) => {
                    self.framing = Framing::Done;
                    return Poll::Ready(None);
                }
                Framing::Length(rem) if !buf.is_empty() => {
                    let take = (*rem).min(buf.len() as u64) as usize;
                    *rem -= take as u64;
                    return Poll::Ready(Some(Ok(Frame::data(buf.split_to(take).freeze()))));
                }
                Framing::Chunked(Chunk::Data(rem)) if !buf.is_empty() => {
                    let take = (*rem).min(buf.len() as u64) as usize;
                    *rem -= take as u64;
                    if *rem == 0 {
                        self.framing = Framing::Chunked(Chunk::End);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(buf.split_to(take).freeze()))));
                }
                Framing::ToEnd if !buf.is_empty() => {
                    return Poll::Ready(Some(Ok(Frame::data(buf.split().freeze()))));
                }
                Framing::Chunked(Chunk::Size) if !buf.is_empty() => match chunk_line(buf) {
                    Ok(Some((used, size, ext))) => {
                        self.extensions += ext;
                        if self.extensions > MAX_EXTENSIONS {
                            return Poll::Ready(Some(Err(BAD_CHUNK.into())));
                        }
                        buf.advance(used);
                        self.framing = Framing::Chunked(match size {
                            0 => Chunk::Trailers,
                            n => Chunk::Data(n),
                        });
                        continue;
                    }
                    Ok(None) => {}
                    Err(()) => return Poll::Ready(Some(Err(BAD_CHUNK.into()))),
                },
                Framing::Chunked(Chunk::End) if buf.len() >= 2 => {
                    if &buf[..2] != b"\r\n" {
                        return Poll::Ready(Some(Err(BAD_CHUNK.into())));
                    }
                    buf.advance(2);
                    self.framing = Framing::Chunked(Chunk::Size);
                    continue;
                }
                Framing::Chunked(Chunk::Trailers) if !buf.is_empty() => match trailers(buf) {
                    Ok(Some(used)) => {
                        buf.advance(used);
                        self.framing = Framing::Done;
                        return Poll::Ready(None);
                    }
                    Ok(None) => {}
                    Err(()) => {
                        return Poll::Ready(Some(Err("the API's answer has bad trailers".into())));
                    }
                },
                _ => {}
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

const BAD_CHUNK: &str = "the API's answer has a bad chunk";

/// A chunk-size line at the start of `buf` (hex digits, optional
/// whitespace and `;` extensions, CRLF): its length, the size, and its
/// extensions' length; None until it is whole.
pub(super) fn chunk_line(buf: &[u8]) -> Result<Option<(usize, u64, usize)>, ()> {
    let Some(lf) = buf.iter().position(|&b| b == b'\n') else {
        return if buf.len() > MAX_LINE {
            Err(())
        } else {
            Ok(None)
        };
    };
    if lf == 0 || lf > MAX_LINE || buf[lf - 1] != b'\r' {
        return Err(());
    }
    let line = &buf[..lf - 1];
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let zeros = line[..digits].iter().take_while(|&&b| b == b'0').count();
    if digits == 0 || digits - zeros > 16 {
        return Err(());
    }
    let hex = std::str::from_utf8(&line[zeros.min(digits - 1)..digits]).map_err(|_| ())?;
    let size = u64::from_str_radix(hex, 16).map_err(|_| ())?;
    let rest = &line[digits..];
    let after_space = rest.trim_ascii_start();
    if !(after_space.is_empty() || after_space.starts_with(b";")) {
        return Err(());
    }
    if rest.iter().any(|&b| b != b'\t' && (b < 0x20 || b == 0x7f)) {
        return Err(());
    }
    Ok(Some((lf + 1, size, rest.len())))
}

/// The trailer section at the start of `buf` (header lines, then an empty
/// line), checked and dropped: its length; None until it is whole.
pub(super) fn trailers(buf: &[u8]) -> Result<Option<usize>, ()> {
    if buf.starts_with(b"\r\n") {
        return Ok(Some(2));
    }
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_TRAILERS {
            Err(())
        } else {
            Ok(None)
        };
    };
    if end + 4 > MAX_TRAILERS {
        return Err(());
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(&buf[..end + 4], &mut slots) {
        Ok(httparse::Status::Complete((used, _))) if used == end + 4 => Ok(Some(used)),
        _ => Err(()),
    }
}
