//! `exec --proxy` streams: an SSE event reaches the client while the API
//! is still holding the rest, and a 200 MiB answer passes in bounded memory.

use std::time::Duration;

use super::upstream::Upstream;
use super::{Running, Serve, client, peak_rss_kib, proxy_env};

#[test]
fn sse_reaches_the_client_before_the_upstream_finishes() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let (rt, c) = client();
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let url = format!("{}/v1/messages", run.anthropic());
    rt.block_on(async {
        let mut r = c
            .post(&url)
            .header("x-api-key", &cap)
            .json(&serde_json::json!({"stream": true, "hold": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // The upstream holds the rest until released: this chunk can only
        // have come through a proxy that does not buffer.
        let first = tokio::time::timeout(Duration::from_secs(10), r.chunk())
            .await
            .expect("the first event never arrived while the upstream was holding")
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&first).contains("message_start"));
        up.state.release.notify_one();
        let mut rest = Vec::new();
        while let Some(ch) = r.chunk().await.unwrap() {
            rest.extend_from_slice(&ch);
        }
        assert!(String::from_utf8_lossy(&rest).contains("message_stop"));
    });
    assert_eq!(run.stop(0).0, 0);
}

#[test]
fn a_large_streamed_response_passes_in_bounded_memory() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let (rt, c) = client();
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let before = peak_rss_kib(run.keyless.id());
    let total = rt.block_on(async {
        let mut r = c
            .get(format!("{}/v1/big?200", run.anthropic()))
            .header("x-api-key", &cap)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let mut n = 0usize;
        while let Some(ch) = r.chunk().await.unwrap() {
            n += ch.len();
        }
        n
    });
    assert_eq!(total, 200 << 20);
    let peak = peak_rss_kib(run.keyless.id());
    assert!(
        peak < before + 48 * 1024,
        "200 MiB streamed, peak RSS {peak} KiB (before {before} KiB)"
    );
    assert_eq!(run.stop(0).0, 0);
}
