//! `./bench.sh proxy`'s floor (issue 21): the least work an HTTP/1.1
//! credential proxy can do on this machine, measured beside `exec --proxy`
//! and the nginx anchor in the same run. It reads a request head, swaps
//! `x-api-key` for an `Authorization` header, sends head and body over a
//! kept-alive connection to the API, and copies the answer back: one
//! thread, four system calls per request, no allocation per request.
//!
//! It checks nothing (no gate, no framing rules, no timeouts, no limits,
//! Content-Length bodies only) and is never a proxy to use: its figure is
//! the ceiling that any proxy doing at least this much can reach here.
//!
//!     bare_forwarder LISTEN_ADDR API_ADDR

// A bench tool run by hand or by bench.sh, not keyless: its usage line is
// its only output.
#![allow(clippy::print_stderr)]

use std::cell::RefCell;
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Idle = Rc<RefCell<Vec<(TcpStream, Vec<u8>)>>>;

/// The largest body read into memory (the bench's are a few hundred
/// bytes): a bigger Content-Length closes the connection rather than
/// reserving what it names.
const MAX_BODY: usize = 1 << 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(api)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_forwarder LISTEN_ADDR API_ADDR");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = TcpListener::bind(&listen)
            .await
            .expect("the listen address");
        let idle: Idle = Rc::default();
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let (idle, api) = (idle.clone(), api.clone());
            tokio::task::spawn_local(async move {
                let _ = serve(client, idle, &api).await;
            });
        }
    });
}

/// A message's head length and its Content-Length, once the head is in `buf`.
fn head(buf: &[u8], request: bool, out: &mut Vec<u8>) -> Result<Option<(usize, usize)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let (len, headers) = if request {
        let mut req = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(len) = req.parse(buf).map_err(|_| ())? else {
            return Ok(None);
        };
        out.clear();
        out.extend_from_slice(req.method.ok_or(())?.as_bytes());
        out.push(b' ');
        out.extend_from_slice(req.path.ok_or(())?.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        (len, &*req.headers)
    } else {
        let mut resp = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(len) = resp.parse(buf).map_err(|_| ())? else {
            return Ok(None);
        };
        (len, &*resp.headers)
    };
    let mut body = 0;
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            body = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .filter(|&n: &usize| n <= MAX_BODY)
                .ok_or(())?;
        }
        if request && !h.name.eq_ignore_ascii_case("x-api-key") {
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(h.value);
            out.extend_from_slice(b"\r\n");
        }
    }
    if request {
        out.extend_from_slice(b"authorization: Bearer sk-ant-oat01-bench-floor\r\n\r\n");
    }
    Ok(Some((len, body)))
}

/// Read one whole message (head and Content-Length body) into `buf`.
async fn message(
    io: &mut TcpStream,
    buf: &mut Vec<u8>,
    request: bool,
    out: &mut Vec<u8>,
) -> Option<usize> {
    loop {
        if let Some((len, body)) = head(buf, request, out).ok()? {
            while buf.len() < len + body {
                buf.reserve(len + body - buf.len());
                if io.read_buf(buf).await.ok()? == 0 {
                    return None;
                }
            }
            if request {
                out.extend_from_slice(&buf[len..len + body]);
            }
            return Some(len + body);
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        if io.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
}

async fn serve(mut client: TcpStream, idle: Idle, api: &str) -> Option<()> {
    let (mut buf, mut out) = (Vec::with_capacity(4096), Vec::with_capacity(4096));
    loop {
        let used = message(&mut client, &mut buf, true, &mut out).await?;
        buf.drain(..used);
        let pooled = idle.borrow_mut().pop();
        let (mut up, mut ubuf) = match pooled {
            Some(c) => c,
            None => {
                let s = TcpStream::connect(api).await.ok()?;
                let _ = s.set_nodelay(true);
                (s, Vec::with_capacity(4096))
            }
        };
        up.write_all(&out).await.ok()?;
        let used = message(&mut up, &mut ubuf, false, &mut out).await?;
        client.write_all(&ubuf[..used]).await.ok()?;
        ubuf.drain(..used);
        idle.borrow_mut().push((up, ubuf));
    }
}
