use super::*;
use axum::http::header;
use std::sync::Arc;

#[test]
fn a_length_given_twice_or_as_a_list_is_passed_on_as_one_value() {
    for raw in [
        "POST / HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nhi",
        "POST / HTTP/1.1\r\ncontent-length: 2, 2\r\n\r\nhi",
    ] {
        let (_client, server) = tokio::io::duplex(64);
        let shared = Arc::new(Mutex::new(Link::new(Box::new(server), HeadWait::default())));
        let p = {
            let mut l = lock(&shared);
            l.buf.extend_from_slice(raw.as_bytes());
            parse(&mut l, &shared, 1).unwrap().unwrap()
        };
        let values: Vec<_> = p
            .req
            .headers()
            .get_all(header::CONTENT_LENGTH)
            .iter()
            .collect();
        assert_eq!(values, ["2"], "{raw:?}");
        assert!(p.keep_alive);
    }
}

/// A body's reader leaves its waker with the connection while it waits
/// (a close tells it at once); the waker goes with the body, so that the
/// connection does not keep a task that is done with it.
#[test]
fn a_dropped_body_leaves_no_waker_behind() {
    struct Counted;
    impl futures_util::task::ArcWake for Counted {
        fn wake_by_ref(_: &Arc<Self>) {}
    }
    let (_client, server) = tokio::io::duplex(64);
    crate::test_runtime::rt().block_on(async {
        let shared = Arc::new(Mutex::new(Link::new(Box::new(server), HeadWait::default())));
        let p = {
            let mut l = lock(&shared);
            l.buf
                .extend_from_slice(b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\n");
            parse(&mut l, &shared, 1).unwrap().unwrap()
        };
        let mut body = p.req.into_body();
        let counted = Arc::new(Counted);
        let waker = futures_util::task::waker(counted.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(hyper::body::Body::poll_frame(Pin::new(&mut body), &mut cx).is_pending());
        drop(waker);
        // held by the pipe's read side, and by the connection
        let held = Arc::strong_count(&counted);
        assert!(held >= 2, "{held}");
        drop(body);
        let left = Arc::strong_count(&counted);
        assert_eq!(left, held - 1, "the dropped body's waker is kept");
    });
}
