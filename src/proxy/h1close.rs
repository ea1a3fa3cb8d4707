//! How the listener's connections end ([`super::h1serve`]): a refused
//! head answered, and a connection closed so that its peer reads the
//! answer rather than a reset. Closed with bytes unread, or with bytes
//! still arriving, a TCP connection is reset, and a client that sends its
//! whole upload before it reads (Python's http.client, most SDKs) gets a
//! broken pipe instead of the answer: what the peer still sends is read
//! and dropped for a bounded time first (nginx's lingering close).

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use super::h1request::{Link, Refused, lock};
use super::h1serve::write_all;
use super::headers::date_now;

/// Marks the connection closed when its service ends.
pub(super) struct Closing<'a>(pub(super) &'a Mutex<Link>);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        lock(self.0).close_reads();
    }
}

/// Answer a refused head and close.
pub(super) async fn refuse(link: &Mutex<Link>, why: Refused) {
    let status = match why {
        Refused::Bad => "400 Bad Request",
        Refused::TooLarge => "431 Request Header Fields Too Large",
    };
    let date = date_now()
        .map(|d| format!("date: {d}\r\n"))
        .unwrap_or_default();
    let answer =
        format!("HTTP/1.1 {status}\r\n{date}content-length: 0\r\nconnection: close\r\n\r\n");
    let _ = write_all(link, &mut [IoSlice::new(answer.as_bytes())]).await;
    // The head was not read to its end: what follows it may still come.
    // The wait for a head starts again, so that the listener's sweeper
    // does not cut the linger short however long the connection sat idle.
    {
        let mut l = lock(link);
        l.close_reads();
        l.wait.moved();
    }
    shut(link).await;
    linger(link).await;
}

/// How long a closing connection's peer may go on sending what was not
/// read (it is read and dropped), and the longest pause in it (nginx's
/// lingering close: 30 s and 5 s; the listener is on loopback, and a
/// connection that never passed the gate is cut at its deadline anyway).
pub(super) const LINGER: Duration = Duration::from_secs(10);
pub(super) const LINGER_PAUSE: Duration = Duration::from_secs(2);

/// Close the connection: no more is read from it (a body still being read
/// sees an error), and the peer sees its end. If the peer may still be
/// sending (a body refused before it was read), what it sends is read and
/// dropped for a bounded time first: closed with bytes unread or still
/// arriving, the connection would be reset, and a client that sends its
/// whole upload before it reads (Python's http.client, most SDKs) would
/// get a broken pipe instead of the answer.
pub(super) async fn close(link: &Mutex<Link>) {
    lock(link).close_reads();
    shut(link).await;
    // A body someone else still reads is theirs until they give it up
    // (the socket wakes one reader): told of the close, their read fails.
    // Waited for a bounded time (they may be waiting on something else),
    // then what is left of the body is read and dropped here.
    let given_up = std::future::poll_fn(|cx| {
        let mut l = lock(link);
        if !l.body_out || l.framing.is_done() {
            return Poll::Ready(());
        }
        l.waiting = Some(cx.waker().clone());
        Poll::Pending
    });
    if tokio::time::timeout(LINGER, given_up).await.is_ok() && !lock(link).framing.is_done() {
        linger(link).await;
    }
}

/// Shut the connection's sending side: the peer sees the answer's end.
async fn shut(link: &Mutex<Link>) {
    let _ = std::future::poll_fn(|cx| Pin::new(&mut *lock(link).io).poll_shutdown(cx)).await;
}

/// Read and drop what the peer sends until its end, a pause of
/// [`LINGER_PAUSE`], or [`LINGER`] in all.
async fn linger(link: &Mutex<Link>) {
    let end = tokio::time::Instant::now() + LINGER;
    loop {
        // Checked here too: the timeout below looks at its clock only
        // when the read waits, and a peer's bytes may always be there.
        let now = tokio::time::Instant::now();
        if now >= end {
            return;
        }
        let read = std::future::poll_fn(|cx| {
            let mut l = lock(link);
            l.buf.clear();
            l.read_more(cx)
        });
        let until = end.min(now + LINGER_PAUSE);
        if !matches!(tokio::time::timeout_at(until, read).await, Ok(Ok(true))) {
            return;
        }
    }
}

#[cfg(test)]
#[path = "h1close_tests.rs"]
mod tests;
