//! The cache file's parser and freshness rules.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn entry(exp: i64, obtained: i64) -> Entry {
    Entry {
        access_token: Secret::new("sk-ant-oat01-test".into()),
        token_type: "Bearer".into(),
        expires_at: exp,
        obtained_at: obtained,
    }
}

#[test]
fn a_caller_keeping_the_token_needs_it_to_outlive_its_keep_time() {
    // a 60 s token for a helper kept 30 s: served only while > 45 s remain
    let e = entry(1060, 1000);
    assert!(e.is_fresh_for(1014, 300, 30));
    assert!(!e.is_fresh_for(1015, 300, 30));
    assert!(e.is_fresh(1029, 300));
    // a long token: keep time + margin, or --min-ttl when that is more
    let e = entry(4600, 1000);
    assert!(e.is_fresh_for(4600 - 271, 0, 240));
    assert!(!e.is_fresh_for(4600 - 270, 0, 240));
    assert!(!e.is_fresh_for(4600 - 300, 300, 240));
    // a just-exchanged token always serves, even when shorter than the keep time
    let e = entry(1040, 1000);
    assert!(e.is_fresh_for(1001, 300, 240));
}

#[test]
fn freshness_uses_min_of_min_ttl_and_half_life() {
    // 600 s token, min-ttl 300: fresh while more than 300 s remain.
    let e = entry(1600, 1000);
    assert!(e.is_fresh(1299, 300));
    assert!(!e.is_fresh(1300, 300));
    // 120 s token: half-life (60) wins over min-ttl 300.
    let e = entry(1120, 1000);
    assert!(e.is_fresh(1059, 300));
    assert!(!e.is_fresh(1060, 300));
}

#[test]
fn plausible_entries() {
    let e = entry(2000, 1000);
    assert!(e.is_plausible(1500, None));
    assert!(e.is_plausible(1500, Some("sk-ant-")));
    assert!(!e.is_plausible(1500, Some("sk-other-")));
    assert!(!entry(1000, 1000).is_plausible(1500, None), "no lifetime");
    assert!(
        !entry(1000 + 86_401, 1000).is_plausible(1500, None),
        "over a day"
    );
    assert!(!entry(i64::MAX, i64::MIN).is_plausible(0, None), "overflow");
    assert!(
        !entry(90_000, 89_000).is_plausible(1000, None),
        "from the future"
    );
    for t in ["", "a b", "a\u{1b}b", "é", "a,b", "=="] {
        assert!(!plausible_token(t), "{t:?}");
    }
    for t in ["sk-ant-oat01-AbC_9", "eyJ.a-b_c~d+e/f==", "x"] {
        assert!(plausible_token(t), "{t:?}");
    }
}

#[test]
fn round_trip_and_foreign_files() {
    let t = tempfile::tempdir().unwrap();
    let c = TokenCache::new(t.path().join("c"));
    let k = CacheKey::new("anthropic", &[("profile", "default")]);
    let other = CacheKey::new("anthropic", &[("profile", "other")]);
    assert!(c.read(&k).is_none());
    let g = c.lock(&k).unwrap();
    c.write(&g, &k, &entry(2000, 1000));
    let got = c.read(&k).unwrap();
    assert_eq!(got.expires_at, 2000);
    let mode = std::fs::metadata(c.entry_path(&k))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // a file copied under another key's name is foreign: a miss
    std::fs::copy(c.entry_path(&k), c.entry_path(&other)).unwrap();
    assert!(c.read(&other).is_none());
    // corrupt: a miss
    std::fs::write(c.entry_path(&k), b"{not json").unwrap();
    assert!(c.read(&k).is_none());
}
