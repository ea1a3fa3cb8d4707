//! Defect 4: after a replacement under `--helper-ttl`, the "already
//! replaced" mark expires a fixed time after the replacement, however often
//! the tool keeps calling: Claude Code retrying every few seconds with a
//! revoked replacement gets a new token, not the same one forever.

use std::time::{Duration, Instant};

use crate::common::*;
use crate::fake::{Fake, Reply};

fn counter_token(n: usize) -> String {
    format!("sk-ant-oat01-mark{n:04}_abcdefghijklmnop")
}

#[test]
fn the_replaced_mark_expires_even_while_the_tool_keeps_calling() {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let fake = Fake::start(move |_, _| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Reply::token(&counter_token(i), 600)
    });
    let (env, file) = env_with_file_source(&fake.url);
    let rotate = || std::fs::write(&file, shaped_jwt(300)).unwrap();
    // a 2 s helper interval: calls within 1 s of each other are retries
    let helper = ["credential", "anthropic", "--helper-ttl", "2"];
    let a = env.run(&helper).success().stdout.clone();
    rotate();
    let b = env.run(&helper).success().stdout.clone();
    assert_ne!(a, b, "a quick second call replaced the first token");
    let replaced_at = Instant::now();
    // The tool keeps retrying every 250 ms with a fresh JWT available each
    // time: once the mark (1 s) is over, the next retry replaces b.
    let mut served = Vec::new();
    while replaced_at.elapsed() < Duration::from_millis(2200) {
        std::thread::sleep(Duration::from_millis(250));
        rotate();
        served.push(env.run(&helper).success().stdout.clone());
    }
    let after: Vec<_> = served.iter().filter(|t| **t != b).collect();
    assert!(
        !after.is_empty(),
        "b was served {} times in a row: the mark never expired",
        served.len()
    );
    assert!(
        fake.count() <= 4,
        "at most one replacement a second: {}",
        fake.count()
    );
}
