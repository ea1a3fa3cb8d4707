use super::*;
use crate::http::api::{MAX_ANSWER_HEAD, MAX_ANSWER_HEADERS};
use crate::http::framing::*;
use crate::test_runtime::rt;
use axum::http::{HeaderName, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A connection to a loopback "API" whose side the test drives.
async fn pair() -> (H1, TcpStream) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (H1::new(Io::Plain(c)), s)
}

fn head(raw: &str) -> Result<Option<Head>, String> {
    parse_head(&mut BytesMut::from(raw.as_bytes()), false)
}

fn post(headers: &[(&str, &str)]) -> Parts {
    let mut r = axum::http::Request::post("/v1/messages").body(()).unwrap();
    for (n, v) in headers {
        r.headers_mut().append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    r.into_parts().0
}

#[test]
fn an_answer_head_is_framed_as_rfc_9112_says() {
    let ok = |raw: &str| head(raw).unwrap().unwrap();
    let (p, f, keep) = ok("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: b\r\n\r\n");
    assert_eq!(
        (p.status, p.headers["x-a"].as_bytes()),
        (StatusCode::OK, &b"b"[..])
    );
    assert!(matches!(f, Framing::Length(5)) && keep);
    // the same length twice (or in a list) is one length
    let (_, f, _) = ok("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5, 5\r\n\r\n");
    assert!(matches!(f, Framing::Length(5)));
    // chunked wins over a length, which is dropped
    let (p, f, keep) =
        ok("HTTP/1.1 200 OK\r\ncontent-length: 9\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
    assert!(matches!(f, Framing::Chunked(Chunk::Size)) && keep);
    assert!(!p.headers.contains_key("content-length"));
    // a coding that is not chunked last, or no framing at all: to the end
    for raw in [
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",
    ] {
        let (_, f, keep) = ok(raw);
        assert!(matches!(f, Framing::ToEnd) && !keep, "{raw}");
    }
    // who may keep the connection
    assert!(!ok("HTTP/1.1 200 OK\r\nconnection: x, Close\r\ncontent-length: 0\r\n\r\n").2);
    assert!(!ok("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n").2);
    assert!(ok("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n").2);
    assert!(!ok("HTTP/1.0 200 OK\r\nconnection: close, keep-alive\r\ncontent-length: 0\r\n\r\n").2);
    // informational answers are passed over
    let (p, _, _) = ok(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nlink: x\r\n\r\nHTTP/1.1 401 No\r\ncontent-length: 0\r\n\r\n",
    );
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(!p.headers.contains_key("link"));
    // not yet whole
    assert!(head("HTTP/1.1 200 OK\r\ncontent-le").unwrap().is_none());
    // no body after a HEAD, a 204 or a 304, whatever the headers say; the
    // connection stays usable without a length
    let no_body = |raw: &str, head_req| {
        parse_head(&mut BytesMut::from(raw), head_req)
            .unwrap()
            .unwrap()
    };
    let (p, f, keep) = no_body("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n", true);
    assert!(matches!(f, Framing::Length(0)) && keep);
    assert_eq!(
        p.headers["content-length"], "10",
        "a HEAD's length is the GET's, passed on"
    );
    for raw in ["HTTP/1.1 204 No\r\n\r\n", "HTTP/1.1 304 Same\r\n\r\n"] {
        let (_, f, keep) = no_body(raw, false);
        assert!(matches!(f, Framing::Length(0)) && keep, "{raw}");
    }
}

#[test]
fn a_malformed_or_oversized_answer_head_is_refused() {
    for raw in [
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 0x5\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 5,\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nx-a: b\r\n folded\r\ncontent-length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching\r\nupgrade: h2c\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
    ] {
        assert!(head(raw).is_err(), "{raw:?}");
    }
    let many: String = (0..=MAX_ANSWER_HEADERS)
        .map(|i| format!("x-{i}: v\r\n"))
        .collect();
    assert!(head(&format!("HTTP/1.1 200 OK\r\n{many}\r\n")).is_err());
    let long = format!("HTTP/1.1 200 OK\r\nx-a: {}", "v".repeat(MAX_ANSWER_HEAD));
    assert!(head(&long).is_err(), "a head past the bound, unfinished");
    assert!(
        head(&format!("{long}\r\n\r\n")).is_err(),
        "a head past the bound, whole"
    );
}

#[test]
fn the_request_head_carries_the_bodys_length_and_no_framing_of_the_clients() {
    let host = HeaderValue::from_static("api.example:8443");
    let mut out = Vec::new();
    let h = post(&[
        ("content-length", "999"),
        ("transfer-encoding", "chunked"),
        ("host", "127.0.0.1:1"),
        ("x-a", "1"),
        ("x-a", "2"),
    ]);
    encode(&mut out, &h, "/v1/messages?beta=true", &host, 12);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "POST /v1/messages?beta=true HTTP/1.1\r\nhost: api.example:8443\r\nx-a: 1\r\nx-a: 2\r\ncontent-length: 12\r\n\r\n"
    );
    encode(&mut out, &post(&[]), "/", &host, 0);
    assert!(
        out.ends_with(b"\r\ncontent-length: 0\r\n\r\n"),
        "an empty POST says so"
    );
    let mut get = post(&[]);
    get.method = Method::GET;
    encode(&mut out, &get, "/v1/models", &host, 0);
    assert_eq!(
        out,
        b"GET /v1/models HTTP/1.1\r\nhost: api.example:8443\r\n\r\n"
    );
}

/// Read a whole answer through a call, the API sending `raw` `step`
/// bytes at a time: its status, body, and whether the connection came back.
fn call_with(raw: &'static [u8], step: usize) -> Result<(u16, Vec<u8>, bool), String> {
    rt().block_on(async move {
        let (h1, mut api) = pair().await;
        let server = tokio::spawn(async move {
            let mut req = vec![0u8; 4096];
            let mut got = 0;
            while !req[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                got += api.read(&mut req[got..]).await.unwrap();
            }
            for part in raw.chunks(step) {
                api.write_all(part).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            api // kept open: the client must know the end from the framing
        });
        let h = post(&[]);
        let host = HeaderValue::from_static("h");
        let resp = match h1.call(&h, "/", &host, b"").await {
            Ok(r) => r,
            Err(CallError::Failed(f) | CallError::NotSent(f)) => return Err(f.reason),
        };
        let (parts, mut answer) = resp.into_parts();
        let mut body = Vec::new();
        while let Some(f) = std::future::poll_fn(|cx| answer.poll_frame(cx)).await {
            body.extend_from_slice(&f?.into_data().unwrap());
        }
        let back = answer.take_idle().is_some();
        drop(server);
        Ok((parts.status.as_u16(), body, back))
    })
}

#[test]
fn bodies_end_where_their_framing_says_however_the_bytes_arrive() {
    let chunked: &[u8] = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nx-trailer: t\r\n\r\n";
    let length: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\nhello, world!!!";
    for step in [1, 2, 3, 7, 4096] {
        for raw in [chunked, length] {
            let (status, body, back) = call_with(raw, step).unwrap();
            assert_eq!(
                (status, &body[..], back),
                (200, &b"hello, world!!!"[..], true),
                "{step}"
            );
        }
    }
    // no body for a 204 or a 304, whatever the headers say
    let (_, body, back) = call_with(b"HTTP/1.1 204 No\r\ncontent-length: 3\r\n\r\n", 4096).unwrap();
    assert!(body.is_empty() && back);
}

#[test]
fn a_connection_is_not_given_back_after_a_bad_or_unfinished_answer() {
    // bytes past the answer's end: the API is not speaking HTTP/1.1 as agreed
    let (_, body, back) =
        call_with(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA", 4096).unwrap();
    assert_eq!((&body[..], back), (&b"ok"[..], false));
    // the API asked to close
    let (_, _, back) = call_with(
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
        4096,
    )
    .unwrap();
    assert!(!back);
    for bad in [
        &b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"[..],
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
    ] {
        assert!(
            call_with(bad, 4096).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // an empty line where a size belongs is not the last chunk
    let extra_crlf = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n\r\n6\r\nworld!\r\n0\r\n\r\n";
    assert!(call_with(extra_crlf, 4096).is_err());
    // extensions: at most MAX_EXTENSIONS in all, however many chunks
    let mut many = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let ext = format!("1;{}\r\nx\r\n", "e".repeat(1000));
    for _ in 0..MAX_EXTENSIONS / 1000 + 1 {
        many.extend_from_slice(ext.as_bytes());
    }
    many.extend_from_slice(b"0\r\n\r\n");
    assert!(call_with(many.leak(), 1 << 20).is_err());
    let mut line = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;".to_vec();
    line.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
    assert!(
        call_with(line.leak(), 4096).is_err(),
        "an endless chunk line"
    );
}

#[test]
fn chunk_lines_are_hex_digits_then_extensions_and_crlf() {
    assert_eq!(chunk_line(b"5\r\nhello"), Ok(Some((3, 5, 0))));
    assert_eq!(chunk_line(b"1aF \r\n"), Ok(Some((6, 0x1af, 1))));
    assert_eq!(chunk_line(b"0;a=b;c\r\n\r\n"), Ok(Some((9, 0, 6))));
    assert_eq!(
        chunk_line(b"000000000000000000005\r\n"),
        Ok(Some((23, 5, 0)))
    );
    assert_eq!(chunk_line(b"00\r\n"), Ok(Some((4, 0, 0))));
    assert_eq!(chunk_line(b"5;a=b"), Ok(None));
    for bad in [
        &b"\r\n"[..],
        b" \r\n",
        b";x\r\n",
        b"5\n",
        b"5;a\nb\r\n",
        b"5 x\r\n",
        b"-5\r\n",
        b"5;\x01\r\n",
        b"11111111111111111\r\n",
    ] {
        assert_eq!(
            chunk_line(bad),
            Err(()),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        chunk_line(&[b'1'; MAX_LINE + 1]),
        Err(()),
        "an endless line"
    );
    assert_eq!(trailers(b"\r\nnext"), Ok(Some(2)));
    assert_eq!(trailers(b"x-a: 1\r\nx-b: 2\r\n\r\n"), Ok(Some(18)));
    assert_eq!(trailers(b"x-a: 1\r\n"), Ok(None));
    assert_eq!(trailers(b"not a header\r\n\r\n"), Err(()));
}

#[test]
fn an_answer_cut_short_is_an_error_not_a_short_body() {
    rt().block_on(async {
        let (h1, mut api) = pair().await;
        let server = tokio::spawn(async move {
            let mut req = [0u8; 4096];
            let _ = api.read(&mut req).await.unwrap();
            api.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
                .await
                .unwrap();
        });
        let h = post(&[]);
        let resp = h1.call(&h, "/", &HeaderValue::from_static("h"), b"").await;
        let Ok(resp) = resp else { panic!("no answer") };
        server.await.unwrap();
        let mut answer = resp.into_body();
        let first = std::future::poll_fn(|cx| answer.poll_frame(cx)).await;
        assert_eq!(first.unwrap().unwrap().into_data().unwrap(), "abc");
        let next = std::future::poll_fn(|cx| answer.poll_frame(cx)).await;
        assert!(matches!(next, Some(Err(_))), "{next:?}");
        assert!(answer.take_idle().is_none());
    });
}

#[test]
fn a_call_on_a_connection_the_api_closed_never_left() {
    rt().block_on(async {
        let (mut h1, api) = pair().await;
        drop(api);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!h1.is_usable(), "the API's close is seen before a call");
        let (h1, api) = pair().await;
        drop(api);
        let h = post(&[]);
        let r = h1.call(&h, "/", &HeaderValue::from_static("h"), b"").await;
        // written into the socket before the close was seen: it left
        assert!(matches!(
            r,
            Err(CallError::Failed(_) | CallError::NotSent(_))
        ));
    });
}

/// The API answers after the request's head, `answer_first`, then reads
/// the body (or not, `reads`) and sends `rest`: the status, the body and
/// whether the connection came back, for an 8 MiB body.
fn early(answer_first: &'static [u8], reads: bool, rest: &'static [u8]) -> (u16, Vec<u8>, bool) {
    rt().block_on(async move {
        let (h1, mut api) = pair().await;
        const BODY: usize = 8 << 20;
        let server = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = vec![0u8; 64 << 10];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = api.read(&mut chunk).await.unwrap();
                got.extend_from_slice(&chunk[..n]);
            }
            api.write_all(answer_first).await.unwrap();
            if reads {
                let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let mut body = got.len() - head_end;
                while body < BODY {
                    body += api.read(&mut chunk).await.unwrap();
                }
            }
            api.write_all(rest).await.unwrap();
            api
        });
        let h = post(&[]);
        let big = vec![b'x'; BODY];
        let host = HeaderValue::from_static("h");
        let call = h1.call(&h, "/", &host, &big);
        let resp = match tokio::time::timeout(std::time::Duration::from_secs(30), call).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => panic!("no answer"),
            Err(_) => panic!("the call hung"),
        };
        let (parts, mut answer) = resp.into_parts();
        let mut body = Vec::new();
        while let Some(f) = std::future::poll_fn(|cx| answer.poll_frame(cx)).await {
            body.extend_from_slice(&f.unwrap().into_data().unwrap());
        }
        let back = answer.take_idle().is_some();
        drop(server);
        (parts.status.as_u16(), body, back)
    })
}

#[test]
fn an_answer_before_the_upload_ends_is_read_and_the_upload_finished_while_the_api_reads_on() {
    // An error that does not wait for the body: answered at once, the
    // connection dropped after it (the API never read the rest).
    let (status, body, back) = early(
        b"HTTP/1.1 413 Too big\r\ncontent-length: 3\r\n\r\nbig",
        false,
        b"",
    );
    assert_eq!((status, &body[..], back), (413, &b"big"[..], false));
    // A head first, then the body read, then the answer's body: the whole
    // request is sent, and the connection still not used again (whether
    // the API read the rest as this request's body cannot be told).
    let (status, body, back) = early(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", true, b"ok");
    assert_eq!((status, &body[..], back), (200, &b"ok"[..], false));
    // A whole answer, and the API never reads the rest: answered once the
    // request has not moved for a while, not after the call's 600 s.
    let (status, body, back) = early(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        false,
        b"",
    );
    assert_eq!((status, &body[..], back), (200, &b"ok"[..], false));
}

#[test]
fn known_header_names_are_the_names_the_http_crate_parses() {
    use std::hash::{BuildHasher, RandomState};
    let hash = RandomState::new();
    for n in [
        "x-api-key",
        "anthropic-version",
        "keep-alive",
        "cf-ray",
        "x-stainless-os",
    ] {
        let known = header_name(n.as_bytes()).unwrap();
        let parsed = HeaderName::from_bytes(n.as_bytes()).unwrap();
        assert_eq!(known, parsed);
        assert_eq!(known.as_str(), n);
        assert_eq!(hash.hash_one(&known), hash.hash_one(&parsed), "{n}");
        let mut map = axum::http::HeaderMap::new();
        map.insert(parsed, HeaderValue::from_static("v"));
        assert!(map.contains_key(&known), "{n}");
    }
    // other names, and other cases, as the http crate parses them
    for n in ["X-Api-Key", "x-other", "content-type"] {
        assert_eq!(
            header_name(n.as_bytes()).unwrap(),
            HeaderName::from_bytes(n.as_bytes()).unwrap()
        );
    }
    assert!(header_name(b"bad name").is_err());
}
