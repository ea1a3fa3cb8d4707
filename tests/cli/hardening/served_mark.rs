//! Defect 4: after a replacement under `--helper-ttl`, the "already
//! replaced" mark expires a fixed time after the replacement, however often
//! the tool keeps calling: Claude Code retrying every few seconds with a
//! revoked replacement gets a new token, not the same one forever.

use crate::common::*;
use crate::fake::{Fake, Reply};

fn counter_token(n: usize) -> String {
    format!("sk-ant-oat01-mark{n:04}_abcdefghijklmnop")
}

/// The served record's fields: digest, last call (ms), replacement (ms).
fn record(env: &TestEnv) -> (std::path::PathBuf, String, i64, i64) {
    let path = std::fs::read_dir(env.cache_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "served"))
        .expect("a served record");
    let text = std::fs::read_to_string(&path).unwrap();
    let f: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(f[0], "v2", "{text}");
    (
        path,
        f[1].to_string(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
    )
}

/// Without waiting on the clock: the mark is shown never to be renewed by
/// the calls that follow (the record keeps the replacement's time), and
/// once the record says the replacement is a window old, the next retry
/// replaces the token although the tool never stopped calling.
#[test]
fn the_replaced_mark_expires_even_while_the_tool_keeps_calling() {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let fake = Fake::start(move |_, _| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Reply::token(&counter_token(i), 600)
    });
    let (env, file) = env_with_file_source(&fake.url);
    let rotate = || std::fs::write(&file, shaped_jwt(300)).unwrap();
    // a 240 s helper interval: calls within its 60 s window are retries
    let helper = ["credential", "anthropic", "--helper-ttl", "240"];
    let a = env.run(&helper).success().stdout.clone();
    rotate();
    let b = env.run(&helper).success().stdout.clone();
    assert_ne!(a, b, "a quick second call replaced the first token");
    let (_, _, _, replaced_at) = record(&env);
    assert_ne!(replaced_at, 0, "the replacement is marked");
    // The tool keeps retrying, a fresh JWT available each time: the mark
    // holds, and no call renews it.
    for _ in 0..3 {
        rotate();
        assert_eq!(env.run(&helper).success().stdout, b, "the mark holds");
        let (_, _, _, still) = record(&env);
        assert_eq!(still, replaced_at, "a call renewed the mark");
    }
    // One window after the replacement (as the record tells it; the last
    // call is still recent), the next retry replaces b.
    let (path, digest, at_ms, _) = record(&env);
    std::fs::write(
        &path,
        format!("v2 {digest} {at_ms} {}\n", replaced_at - 61_000),
    )
    .unwrap();
    rotate();
    let c = env.run(&helper).success().stdout.clone();
    assert_ne!(c, b, "the mark never expired");
    assert_eq!(fake.count(), 3, "one exchange per replacement");
}
