//! HTTP/1.1 message framing (RFC 9112 §6, §7), shared by keyless's own
//! client ([`super::h1answer`], the API's answers) and the proxy's
//! listener (`crate::proxy::h1serve`, the child's requests): how a body
//! ends, and reading it out of a connection's buffer.
//!
//! Bounded like hyper's: a chunk-size line is at most [`MAX_LINE`] bytes,
//! a body's chunk extensions at most [`MAX_EXTENSIONS`] in all, and the
//! trailers (checked and dropped) at most [`MAX_TRAILERS`] bytes and
//! [`MAX_TRAILER_FIELDS`] fields.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, header};
use bytes::{Buf, BytesMut};

/// The longest chunk-size line (size and extensions).
pub const MAX_LINE: usize = 4 << 10;
/// The most chunk-extension bytes a body may carry in all (hyper's bound).
pub const MAX_EXTENSIONS: usize = 16 << 10;
/// The most trailer bytes read (and dropped) after the last chunk.
pub const MAX_TRAILERS: usize = 16 << 10;
/// The most trailer fields (hyper's limit on a head's).
pub const MAX_TRAILER_FIELDS: usize = 100;

/// How a body ends.
#[derive(Debug)]
pub enum Framing {
    /// This many bytes more.
    Length(u64),
    Chunked(Chunk),
    /// At the connection's end (an answer only; never reused).
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

impl Framing {
    /// Whether the body has ended (nothing more belongs to it).
    pub fn is_done(&self) -> bool {
        matches!(self, Framing::Done | Framing::Length(0))
    }
}

/// Where a header's name and value lie in the buffer httparse read it
/// from: (name start, name end, value start, value end).
pub type Span = (u32, u32, u32, u32);

/// The [`Span`]s of `headers`, parsed from `buf` (at most 4 GiB), into
/// `out`: the names and values can then be cut from the head once it is
/// split off the buffer (no copy of them, no allocation).
pub fn spans<'a>(buf: &[u8], headers: &[httparse::Header<'_>], out: &'a mut [Span]) -> &'a [Span] {
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| (s.as_ptr() as usize - base) as u32;
    for (span, h) in out.iter_mut().zip(headers) {
        let (name, value) = (h.name.as_bytes(), h.value);
        *span = (
            at(name),
            at(name) + name.len() as u32,
            at(value),
            at(value) + value.len() as u32,
        );
    }
    &out[..headers.len().min(out.len())]
}

/// The header names of the SDKs' requests and the APIs' answers that
/// the http crate has no constant for: parsed into one of these, a name
/// costs no allocation (each new custom name is otherwise a copy).
static KNOWN: [HeaderName; 24] = [
    HeaderName::from_static("x-api-key"),
    HeaderName::from_static("anthropic-version"),
    HeaderName::from_static("anthropic-beta"),
    HeaderName::from_static("anthropic-dangerous-direct-browser-access"),
    HeaderName::from_static("x-stainless-arch"),
    HeaderName::from_static("x-stainless-lang"),
    HeaderName::from_static("x-stainless-os"),
    HeaderName::from_static("x-stainless-package-version"),
    HeaderName::from_static("x-stainless-runtime"),
    HeaderName::from_static("x-stainless-runtime-version"),
    HeaderName::from_static("x-stainless-retry-count"),
    HeaderName::from_static("x-stainless-timeout"),
    HeaderName::from_static("x-stainless-async"),
    HeaderName::from_static("x-stainless-helper-method"),
    HeaderName::from_static("openai-organization"),
    HeaderName::from_static("openai-project"),
    HeaderName::from_static("openai-beta"),
    HeaderName::from_static("request-id"),
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("openai-processing-ms"),
    HeaderName::from_static("openai-version"),
    HeaderName::from_static("anthropic-organization-id"),
    HeaderName::from_static("cf-ray"),
    HeaderName::from_static("keep-alive"),
];

/// A header's name, from the bytes httparse found (a known custom name
/// in lower case is one of [`KNOWN`]).
pub fn header_name(name: &[u8]) -> Result<HeaderName, axum::http::header::InvalidHeaderName> {
    let known = match name {
        b"x-api-key" => 0,
        b"anthropic-version" => 1,
        b"anthropic-beta" => 2,
        b"anthropic-dangerous-direct-browser-access" => 3,
        b"x-stainless-arch" => 4,
        b"x-stainless-lang" => 5,
        b"x-stainless-os" => 6,
        b"x-stainless-package-version" => 7,
        b"x-stainless-runtime" => 8,
        b"x-stainless-runtime-version" => 9,
        b"x-stainless-retry-count" => 10,
        b"x-stainless-timeout" => 11,
        b"x-stainless-async" => 12,
        b"x-stainless-helper-method" => 13,
        b"openai-organization" => 14,
        b"openai-project" => 15,
        b"openai-beta" => 16,
        b"request-id" => 17,
        b"x-request-id" => 18,
        b"openai-processing-ms" => 19,
        b"openai-version" => 20,
        b"anthropic-organization-id" => 21,
        b"cf-ray" => 22,
        b"keep-alive" => 23,
        _ => return HeaderName::from_bytes(name),
    };
    Ok(KNOWN[known].clone())
}

/// What [`decode`] found in the buffer.
pub enum Step {
    /// The next piece of the body.
    Data(Bytes),
    /// The body's end (whatever follows in the buffer is not its).
    End,
    /// More must be read first.
    More,
}

/// Why a body cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Bad {
    Chunk,
    Trailers,
}

/// The next step of a body framed by `framing` out of `buf` (what was read
/// of the connection and not yet used); `extensions` counts the chunk
/// extensions seen so far. [`Framing::ToEnd`] takes all there is: its end
/// is the connection's, which the caller sees.
pub fn decode(
    framing: &mut Framing,
    buf: &mut BytesMut,
    extensions: &mut usize,
) -> Result<Step, Bad> {
    loop {
        match framing {
            Framing::Done | Framing::Length(0) => {
                *framing = Framing::Done;
                return Ok(Step::End);
            }
            _ if buf.is_empty() => return Ok(Step::More),
            Framing::Length(rem) => {
                let take = (*rem).min(buf.len() as u64) as usize;
                *rem -= take as u64;
                return Ok(Step::Data(buf.split_to(take).freeze()));
            }
            Framing::Chunked(Chunk::Data(rem)) => {
                let take = (*rem).min(buf.len() as u64) as usize;
                *rem -= take as u64;
                if *rem == 0 {
                    *framing = Framing::Chunked(Chunk::End);
                }
                return Ok(Step::Data(buf.split_to(take).freeze()));
            }
            Framing::ToEnd => return Ok(Step::Data(buf.split().freeze())),
            Framing::Chunked(Chunk::Size) => match chunk_line(buf).map_err(|()| Bad::Chunk)? {
                Some((used, size, ext)) => {
                    *extensions += ext;
                    if *extensions > MAX_EXTENSIONS {
                        return Err(Bad::Chunk);
                    }
                    buf.advance(used);
                    *framing = Framing::Chunked(match size {
                        0 => Chunk::Trailers,
                        n => Chunk::Data(n),
                    });
                }
                None => return Ok(Step::More),
            },
            Framing::Chunked(Chunk::End) if buf.len() < 2 => return Ok(Step::More),
            Framing::Chunked(Chunk::End) => {
                if &buf[..2] != b"\r\n" {
                    return Err(Bad::Chunk);
                }
                buf.advance(2);
                *framing = Framing::Chunked(Chunk::Size);
            }
            Framing::Chunked(Chunk::Trailers) => match trailers(buf).map_err(|()| Bad::Trailers)? {
                Some(used) => {
                    buf.advance(used);
                    *framing = Framing::Done;
                    return Ok(Step::End);
                }
                None => return Ok(Step::More),
            },
        }
    }
}

/// A message's Content-Length: every value (and every comma-separated
/// part) the same number of at most 19 digits, else Err.
pub fn content_length(h: &HeaderMap) -> Result<Option<u64>, ()> {
    let mut found = None;
    for v in h.get_all(header::CONTENT_LENGTH) {
        add_length(&mut found, v.as_bytes())?;
    }
    Ok(found)
}

/// One Content-Length value, with those `found` before it.
pub fn add_length(found: &mut Option<u64>, value: &[u8]) -> Result<(), ()> {
    for part in value.split(|&b| b == b',') {
        let part = part.trim_ascii();
        if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
            return Err(());
        }
        let n = part.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        if found.is_some_and(|f| f != n) {
            return Err(());
        }
        *found = Some(n);
    }
    Ok(())
}

/// Whether a Transfer-Encoding value's last coding is `chunked`.
pub fn chunked_last(value: &[u8]) -> bool {
    let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
    last.trim_ascii().eq_ignore_ascii_case(b"chunked")
}

/// A chunk-size line at the start of `buf` (hex digits, optional
/// whitespace and `;` extensions, CRLF): its length, the size, and its
/// extensions' length; None until it is whole.
pub fn chunk_line(buf: &[u8]) -> Result<Option<(usize, u64, usize)>, ()> {
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
pub fn trailers(buf: &[u8]) -> Result<Option<usize>, ()> {
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
    let mut slots = [httparse::EMPTY_HEADER; MAX_TRAILER_FIELDS];
    match httparse::parse_headers(&buf[..end + 4], &mut slots) {
        Ok(httparse::Status::Complete((used, _))) if used == end + 4 => Ok(Some(used)),
        _ => Err(()),
    }
}
