use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The answer to a call on hyper's HTTP/1.1 client (a streamed upload's)
/// to an API whose answer head carries `header`.
fn streamed_call_answered_with(header: String) -> Result<u16, String> {
    crate::test_runtime::rt().block_on(async move {
        let (ours, mut theirs) = tokio::io::duplex(1 << 20);
        let api = tokio::spawn(async move {
            let mut seen = vec![0u8; 4096];
            let _ = theirs.read(&mut seen).await;
            let head = format!("HTTP/1.1 200 OK\r\n{header}\r\ncontent-length: 0\r\n\r\n");
            let _ = theirs.write_all(head.as_bytes()).await;
            theirs
        });
        let Ok(Conn::H1(mut send)) = h1(TokioIo::new(ours)).await else {
            panic!("no HTTP/1.1 connection");
        };
        let req = Request::post("/v1/upload")
            .header(header::HOST, "api.test")
            .body(ReqBody::Streaming(axum::body::Body::from("upload")))
            .unwrap();
        let answer = send.send_request(req).await;
        let _theirs = api.await.unwrap();
        answer
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    })
}

/// An answer's head is bounded on the calls hyper's HTTP/1.1 client
/// carries as on keyless's own (hyper's own bound is about 400 KiB; it
/// checks its bound against what it has read, so a head a little over it
/// may pass).
#[test]
fn a_streamed_calls_answer_head_is_bounded_as_every_others() {
    let fine = streamed_call_answered_with(format!("x-fine: {}", "a".repeat(1000)));
    assert_eq!(fine, Ok(200));
    let big = streamed_call_answered_with(format!("x-big: {}", "a".repeat(2 * MAX_ANSWER_HEAD)));
    assert!(big.is_err(), "a head of 128 KiB was taken: {big:?}");
}
