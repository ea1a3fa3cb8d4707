//! Issue 10 #5: lifetimes from a token endpoint and from cache files are
//! hostile input. An `expires_in` that overflows or exceeds the providers'
//! 24 h maximum is clamped with a warning, never served for 10^14 days; a
//! cache entry out of range or with a token that cannot be one is a miss.

use crate::common::*;
use crate::fake::{Fake, Reply};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A 200 whose `expires_in` is the raw JSON number `raw`.
fn granted_raw(token: &str, raw: &str) -> Reply {
    let mut r = Reply::token(token, 1);
    r.body = format!(
        r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{raw},"scope":"workspace:developer"}}"#
    )
    .into_bytes();
    r
}

#[test]
fn huge_or_overflowing_expires_in_is_clamped_to_a_day_with_a_warning() {
    for raw in [
        "9223372036854775807",
        "18446744073709551615",
        "1e300",
        "86401",
    ] {
        let fake = Fake::start(move |_, _| granted_raw("sk-ant-oat01-clamped_0123456789abc", raw));
        let (env, _) = env_with_file_source(&fake.url);
        let r = env.run(&["credential", "anthropic", "--format", "json"]);
        r.success();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let left = v["expires_at"].as_i64().unwrap() - now();
        assert!(
            (86_390..=86_400).contains(&left),
            "expires_in {raw}: the token would live {left} s"
        );
        assert!(
            r.stderr.contains("86400") || r.stderr.contains("24h"),
            "expires_in {raw}: no warning: {}",
            r.stderr
        );
        // and the cached entry is the clamped one: a second call is a hit
        env.run(&["credential", "anthropic"]).success();
        assert_eq!(fake.count(), 1, "expires_in {raw}");
    }
}

/// An edit of a cache file's JSON.
type Edit = fn(&mut serde_json::Value);

#[test]
fn cache_entries_out_of_range_or_malformed_are_misses() {
    let cases: [(&str, Edit); 5] = [
        ("expires far in the future", |v| {
            v["expires_at"] = serde_json::json!(i64::MAX)
        }),
        ("obtained in the future", |v| {
            v["obtained_at"] = serde_json::json!(i64::MAX - 10)
        }),
        ("lifetime over a day", |v| {
            let o = v["obtained_at"].as_i64().unwrap();
            v["expires_at"] = serde_json::json!(o + 10 * 86_400)
        }),
        ("a token with a control character", |v| {
            v["access_token"] = serde_json::json!("sk-ant-oat01-abc\u{1b}[2Jdef")
        }),
        ("a token with a space", |v| {
            v["access_token"] = serde_json::json!("sk-ant-oat01-abc def")
        }),
    ];
    for (what, edit) in cases {
        let fake =
            Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-fresh{n:03}_0123456789"), 600));
        let (env, file) = env_with_file_source(&fake.url);
        env.run(&["credential", "anthropic"]).success();
        rewrite_cache_entry(&env.cache_dir(), edit);
        // a new JWT for the exchange the miss causes
        std::fs::write(&file, shaped_jwt(300)).unwrap();
        let r = env.run(&["credential", "anthropic"]);
        r.success();
        assert_eq!(fake.count(), 2, "{what}: the entry was served");
        assert!(
            r.stdout.starts_with("sk-ant-oat01-fresh"),
            "{what}: {}",
            r.stdout
        );
    }
}
