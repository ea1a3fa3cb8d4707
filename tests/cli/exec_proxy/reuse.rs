//! `exec --proxy` keeps its connections to the API: calls in a row share
//! one, a burst of concurrent calls opens at most one per call in flight
//! however often it repeats, and an API that offers HTTP/2 (ALPN `h2`, as
//! the real ones do) gets every concurrent call as a stream on at most two
//! connections. Against the real API every new connection is a TCP and
//! TLS handshake across the internet (issue 21).

use super::counting::Counting;
use super::upstream::Upstream;
use super::{Running, Serve, client, proxy_env};
use crate::common::TestEnv;

/// `exec --proxy --type openai` with the API at `api` (its CA trusted).
fn start(up: &Upstream, api: &Counting) -> (TestEnv, Running) {
    start_at(up, &api.url, api.ca_pem.as_deref(), &[])
}

/// `exec --proxy --type openai` and `flags` with the API at `url`
/// (`ca_pem` trusted).
pub(super) fn start_at(
    up: &Upstream,
    url: &str,
    ca_pem: Option<&str>,
    flags: &[&str],
) -> (TestEnv, Running) {
    let env = proxy_env(up, Serve::OpenAi);
    let ca = ca_pem.map(|pem| {
        let p = env.path("api-ca.pem");
        std::fs::write(&p, pem).unwrap();
        p
    });
    let base = format!("{url}/v1");
    let args = [&["--type", "openai"], flags].concat();
    let run = Running::start_with(&env, &args, |cmd| {
        cmd.env("OPENAI_BASE_URL", &base);
        if let Some(ca) = &ca {
            cmd.env("KEYLESS_CA_FILE", ca);
        }
    });
    (env, run)
}

/// `n` calls at once through the proxy; panics unless all are 200.
fn burst(run: &Running, n: usize) {
    let (rt, c) = client();
    burst_with(run, &rt, &c, n);
}

/// [`burst`] from the client `c` (which keeps its connections).
pub(super) fn burst_with(
    run: &Running,
    rt: &tokio::runtime::Runtime,
    c: &reqwest::Client,
    n: usize,
) {
    let url = format!("{}/chat/completions", run.var("OPENAI_BASE_URL"));
    let cap = run.var("OPENAI_API_KEY").to_string();
    rt.block_on(async {
        // Each call is over when its answer is read to the end.
        let (url, cap) = (&url, &cap);
        let calls = (0..n).map(|i| async move {
            let r = c
                .post(url)
                .bearer_auth(cap)
                .json(&serde_json::json!({"model": "gpt-test", "n": i}))
                .send()
                .await
                .unwrap();
            (r.status(), r.bytes().await.unwrap())
        });
        for (status, _) in futures_util::future::join_all(calls).await {
            assert_eq!(status, 200);
        }
    });
}

#[test]
fn calls_in_a_row_share_one_upstream_connection() {
    let up = Upstream::start(600);
    let api = Counting::plain();
    let (_env, run) = start(&up, &api);
    for _ in 0..20 {
        burst(&run, 1);
    }
    assert_eq!(api.versions().len(), 20);
    assert_eq!(api.connections(), 1, "20 calls in a row, one connection");
    assert_eq!(run.stop(0).0, 0);
}

#[test]
fn repeated_bursts_of_64_calls_open_at_most_64_upstream_connections() {
    let up = Upstream::start(600);
    let api = Counting::plain();
    let (_env, run) = start(&up, &api);
    for _ in 0..3 {
        burst(&run, 64);
    }
    assert_eq!(api.versions().len(), 3 * 64);
    assert!(
        api.connections() <= 64,
        "3 bursts of 64 concurrent calls opened {} connections to the API",
        api.connections()
    );
    assert_eq!(run.stop(0).0, 0);
}

/// An upstream connection is back in the pool before the client can have
/// the end of its answer, so the client's next call finds it there: never
/// more connections than calls in flight, by construction, however fast
/// the calls follow each other. (hyper-util's pool put connections back
/// from a task of its own, which could run after the next call had
/// arrived and opened one more.)
#[test]
fn back_to_back_rounds_never_open_more_connections_than_calls_in_flight() {
    let up = Upstream::start(600);
    let api = Counting::plain_quick();
    let (_env, run) = start(&up, &api);
    let (rt, c) = client();
    for _ in 0..150 {
        burst_with(&run, &rt, &c, 8);
    }
    assert_eq!(api.versions().len(), 150 * 8);
    assert!(
        api.connections() <= 8,
        "150 rounds of 8 concurrent calls opened {} connections to the API",
        api.connections()
    );
    assert_eq!(run.stop(0).0, 0);
}

#[test]
fn sixty_four_concurrent_calls_to_an_h2_api_share_at_most_two_connections() {
    let up = Upstream::start(600);
    let api = Counting::tls();
    let (_env, run) = start(&up, &api);
    // The first burst finds no connection open yet.
    burst(&run, 64);
    burst(&run, 64);
    let versions = api.versions();
    assert_eq!(versions.len(), 128);
    assert!(
        versions.iter().all(|v| *v == hyper::Version::HTTP_2),
        "calls went over {:?}",
        versions
            .iter()
            .filter(|v| **v != hyper::Version::HTTP_2)
            .collect::<Vec<_>>()
    );
    assert!(
        api.connections() <= 2,
        "2 bursts of 64 concurrent calls opened {} connections to an h2 API",
        api.connections()
    );
    assert_eq!(run.stop(0).0, 0);
}

/// Over HTTP/2 (the proxy drives the h2 crate itself), bodies pass whole
/// both ways: an upload past the 32 MiB keyless holds streams through as
/// the window opens, and the API's answer reaches the client with its
/// Content-Length.
#[test]
fn bodies_pass_whole_both_ways_over_h2() {
    bodies_pass_whole(Counting::tls(), hyper::Version::HTTP_2);
}

/// Over HTTP/1.1 and TLS (keyless's own client for a held body, hyper's
/// for one that streams, on the same connection): bodies pass whole both
/// ways, with a Content-Length or chunked, and every call shares one
/// connection.
#[test]
fn bodies_pass_whole_both_ways_over_http1_and_tls() {
    bodies_pass_whole(Counting::tls_http1(), hyper::Version::HTTP_11);
}

fn bodies_pass_whole(api: Counting, version: hyper::Version) {
    let up = Upstream::start(600);
    let (_env, run) = start(&up, &api);
    let (rt, c) = client();
    let base = run.var("OPENAI_BASE_URL");
    let cap = run.var("OPENAI_API_KEY").to_string();
    for (size, path) in [
        (0usize, "echo"),
        (5, "echo"),
        (1 << 20, "echo"),
        (5, "chunked"),
        (2 << 20, "chunked"),
        // streams: hyper's client takes the connection from here on
        (40 << 20, "echo"),
        (5, "chunked"),
    ] {
        let (status, length, body) = rt.block_on(async {
            let r = c
                .post(format!("{base}/{path}"))
                .bearer_auth(&cap)
                .body(vec![b'x'; size])
                .send()
                .await
                .unwrap();
            let length = r.headers().get("content-length").cloned();
            (r.status(), length, r.text().await.unwrap())
        });
        assert_eq!(status, 200, "{size}: {body}");
        assert_eq!(
            body,
            format!("{{\"len\":{size}}}"),
            "{size} bytes sent to {path}"
        );
        if path == "echo" {
            let length = length.expect("the API's Content-Length is passed on");
            assert_eq!(length.to_str().unwrap(), body.len().to_string());
        }
    }
    assert!(
        api.versions().iter().all(|v| *v == version),
        "{:?}",
        api.versions()
    );
    assert_eq!(api.connections(), 1);
    assert_eq!(run.stop(0).0, 0);
}

/// A body past the 32 MiB held for a retry streams to the API, and its
/// connection goes back to the pool once both the answer and the upload
/// are over. An upload with a Content-Length (as every SDK sends) ends
/// when hyper has written that many bytes, without asking the body for
/// its end: the connection must still go back (it was dropped, and every
/// large upload opened a new connection).
#[test]
fn uploads_past_the_hold_share_one_upstream_connection() {
    let up = Upstream::start(600);
    let api = Counting::plain_quick();
    let (_env, run) = start(&up, &api);
    let (rt, c) = client();
    let url = format!("{}/chat/completions", run.var("OPENAI_BASE_URL"));
    let cap = run.var("OPENAI_API_KEY").to_string();
    for _ in 0..3 {
        let status = rt.block_on(async {
            let r = c
                .post(&url)
                .bearer_auth(&cap)
                .body(vec![b' '; 33 << 20])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            r.bytes().await.unwrap();
            status
        });
        assert_eq!(status, 200);
    }
    assert_eq!(api.versions().len(), 3);
    assert_eq!(
        api.connections(),
        1,
        "3 large uploads in a row, one connection"
    );
    assert_eq!(run.stop(0).0, 0);
}
