//! A token the provider rejects is not served again forever: the helper
//! flag `setup` writes (`--helper-ttl`) turns a quick second call for the
//! same token into one new exchange, and `--rejected` lets scripts say so.
//! A Fake plays both the token endpoint and an API that revokes the first
//! token it minted.

use crate::common::*;
use crate::fake::{Fake, Reply};

fn counter_token(n: usize) -> String {
    format!("sk-ant-oat01-fake{n:04}_abcdefghijklmnop")
}

/// The token endpoint mints counter tokens; `GET /v1/models` refuses the
/// first one (revoked) and accepts the others. Returns the fake and how many
/// exchanges it answered.
fn provider() -> Fake {
    let exchanges = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Fake::start(move |_, req| {
        if req.path.starts_with("/v1/oauth/token") {
            let n = exchanges.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Reply::token(&counter_token(n), 600);
        }
        let revoked = format!("Bearer {}", counter_token(0));
        if req.header("authorization") == Some(revoked.as_str()) {
            Reply::json(
                401,
                serde_json::json!({"type":"error","error":{"type":"authentication_error","message":"invalid token"}}),
            )
        } else {
            Reply::json(200, serde_json::json!({"data": []}))
        }
    })
}

fn exchanges(fake: &Fake) -> usize {
    fake.requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path.starts_with("/v1/oauth/token"))
        .count()
}

/// What a client does with the token: one API call, its HTTP status.
fn call_api(base: &str, token: &str) -> u16 {
    let bearer = format!("Bearer {token}");
    http::call(base, "GET", "/v1/models", &[("Authorization", &bearer)], "").status
}

/// The identity file rotates (a kubelet, a SPIFFE helper): a new JWT.
fn rotate(file: &std::path::Path) {
    std::fs::write(file, shaped_jwt(300)).unwrap();
}

const HELPER: [&str; 4] = ["credential", "anthropic", "--helper-ttl", "240"];

#[test]
fn a_revoked_token_is_replaced_when_the_tool_asks_again_right_away() {
    let fake = provider();
    let (env, file) = env_with_file_source(&fake.url);
    let first = env.run(&HELPER);
    first.success();
    assert_eq!(call_api(&fake.url, &first.stdout), 401, "revoked");
    // the tool re-runs its helper on the 401: a new token, which works
    rotate(&file);
    let second = env.run(&HELPER);
    second.success();
    assert_ne!(second.stdout, first.stdout);
    assert_eq!(call_api(&fake.url, &second.stdout), 200);
    assert_eq!(exchanges(&fake), 2);
    // asked again at once: the token just minted is not replaced again
    // (src/cache/served.rs; the JWT would be a replay anyway) ...
    let third = env.run(&HELPER);
    third.success();
    assert_eq!(third.stdout, second.stdout);
    assert_eq!(third.stderr, "", "no attempt for a token just minted");
    // ... nor later
    let fourth = env.run(&HELPER);
    fourth.success();
    assert_eq!(fourth.stdout, second.stdout);
    assert_eq!(fourth.stderr, "", "no second attempt for the same token");
    assert_eq!(exchanges(&fake), 2, "never a replayed JWT");
}

#[test]
fn without_the_helper_flag_or_after_the_window_the_cache_serves() {
    let fake = provider();
    let (env, file) = env_with_file_source(&fake.url);
    let first = env.run(&["credential", "anthropic"]);
    first.success();
    rotate(&file);
    // plain calls record nothing and never re-exchange
    for _ in 0..2 {
        assert_eq!(env.run(&["credential", "anthropic"]).stdout, first.stdout);
    }
    // a 2 s helper interval: a call 1.2 s later is the tool's own re-run
    let a = env.run(&["credential", "anthropic", "--helper-ttl", "2"]);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let b = env.run(&["credential", "anthropic", "--helper-ttl", "2"]);
    assert_eq!(a.stdout, first.stdout);
    assert_eq!(b.stdout, first.stdout);
    assert_eq!(exchanges(&fake), 1);
    // the record holds a digest, never the token, and is private
    let served: Vec<_> = std::fs::read_dir(env.cache_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "served"))
        .collect();
    assert_eq!(served.len(), 1);
    assert_eq!(mode(&served[0]), 0o600);
    assert!(
        !std::fs::read_to_string(&served[0])
            .unwrap()
            .contains("sk-ant")
    );
}

#[test]
fn scripts_say_rejected_and_get_a_new_token_or_a_failure() {
    let fake = provider();
    let (env, file) = env_with_file_source(&fake.url);
    let first = env.run(&["credential", "anthropic"]);
    first.success();
    assert_eq!(call_api(&fake.url, &first.stdout), 401);
    rotate(&file);
    let fresh = env.run(&["credential", "anthropic", "--rejected"]);
    fresh.success();
    assert_ne!(fresh.stdout, first.stdout);
    assert_eq!(call_api(&fake.url, &fresh.stdout), 200);
    // the cache now serves the new one to everyone
    assert_eq!(env.run(&["credential", "anthropic"]).stdout, fresh.stdout);
    // rejected again with no new JWT available: a failure, stdout empty
    let r = env.run(&["credential", "anthropic", "--rejected"]);
    assert_ne!(r.code, 0);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("already exchanged"), "{}", r.stderr);
    assert_eq!(exchanges(&fake), 2);
}

/// Review finding: two tools sharing one cache (two Claude Code sessions),
/// or one tool refused again, ask in quick succession while the identity
/// source has a new JWT each time (every ambient source). The module's
/// promise is one exchange per served token ("a token ... that was just
/// minted is not re-exchanged again on the next quick call"); each quick
/// call must not become an exchange of its own.
#[test]
fn quick_calls_with_a_fresh_jwt_each_time_cost_one_extra_exchange_not_one_each() {
    let fake = provider();
    let (env, file) = env_with_file_source(&fake.url);
    let first = env.run(&HELPER);
    first.success();
    let mut served = vec![first.stdout.clone()];
    for _ in 0..4 {
        rotate(&file);
        let r = env.run(&HELPER);
        r.success();
        served.push(r.stdout.clone());
    }
    assert_eq!(
        exchanges(&fake),
        2,
        "the first token and one replacement, not one exchange per call: {served:?}"
    );
    assert_eq!(
        served[4], served[1],
        "the replacement is served from then on"
    );
}

/// A quick second call for a token keyless got the ordinary way, with no
/// new JWT to exchange: the cached token again (said at -v), never a
/// replayed JWT, and no second attempt for it.
#[test]
fn a_failed_replacement_serves_the_token_again_once() {
    let fake = provider();
    let (env, _file) = env_with_file_source(&fake.url);
    let first = env.run(&HELPER);
    first.success();
    let again = env.run(&["-v", HELPER[0], HELPER[1], HELPER[2], HELPER[3]]);
    again.success();
    assert_eq!(again.stdout, first.stdout);
    assert!(
        again.stderr.contains("serving it again"),
        "{}",
        again.stderr
    );
    let third = env.run(&HELPER);
    third.success();
    assert_eq!(third.stdout, first.stdout);
    assert_eq!(third.stderr, "", "no second attempt for the same token");
    assert_eq!(exchanges(&fake), 1, "never a replayed JWT");
}

/// A replacement token that is itself revoked later (a second revocation,
/// minutes on) is replaced again when the tool asks twice in quick
/// succession after a quiet spell: "replaced" holds for a burst of calls,
/// not for the token's whole life.
#[test]
fn a_replacement_revoked_later_is_replaced_again() {
    let fake = provider();
    let (env, file) = env_with_file_source(&fake.url);
    // a 2 s helper interval: calls within 1 s are retries
    let helper = ["credential", "anthropic", "--helper-ttl", "2"];
    let a = env.run(&helper).success().stdout.clone();
    rotate(&file);
    let b = env.run(&helper).success().stdout.clone();
    assert_ne!(a, b, "a quick second call replaced the first token");
    std::thread::sleep(std::time::Duration::from_millis(1300));
    rotate(&file);
    // the tool's own re-run, after the window: served from the cache
    assert_eq!(env.run(&helper).success().stdout, b);
    // ... then refused, it asks again at once: a new token
    let c = env.run(&helper).success().stdout.clone();
    assert_ne!(c, b, "the replacement, revoked later, is replaced too");
    assert_eq!(exchanges(&fake), 3);
}

/// A token whose replacement failed (no new JWT yet: the kubelet had not
/// rotated the file) is not stuck: once a new JWT is there, the next quick
/// retry after a quiet spell replaces it.
#[test]
fn a_token_whose_replacement_failed_is_replaced_once_a_new_jwt_exists() {
    let fake = provider();
    let (env, file) = env_with_file_source(&fake.url);
    let helper = ["credential", "anthropic", "--helper-ttl", "2"];
    let a = env.run(&helper).success().stdout.clone();
    // refused at once, no new JWT: served again
    assert_eq!(env.run(&helper).success().stdout, a);
    std::thread::sleep(std::time::Duration::from_millis(1300));
    rotate(&file);
    assert_eq!(env.run(&helper).success().stdout, a);
    let b = env.run(&helper).success().stdout.clone();
    assert_ne!(b, a, "still refused, it asks again at once: replaced now");
    assert_eq!(exchanges(&fake), 2);
}

/// 32 helper calls at the same moment (several Claude Code sessions, one
/// cache) all look like quick retries of the served token: they cost one
/// replacement exchange between them, never one each, and every one of
/// them gets a token. A source with a new JWT every time (a command) makes
/// each replacement possible, so only the served record holds them back.
#[test]
fn thirty_two_helper_calls_at_once_cost_one_replacement() {
    let fake = provider();
    let env = TestEnv::new();
    // each run of the command takes the next unclaimed JWT (mkdir is atomic)
    let dir = env.path("jwts");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..40 {
        std::fs::write(dir.join(format!("jwt{i}")), shaped_jwt(300)).unwrap();
    }
    let script = env.path("mint.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor i in $(seq 0 39); do mkdir {d}/claim$i 2>/dev/null && exec cat {d}/jwt$i; done\nexit 1\n",
            d = dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.setup(&fake.url, &format!("command:{}", script.display()));
    env.run(&HELPER).success();
    assert_eq!(exchanges(&fake), 1);
    let runs = env.run_parallel(32, &HELPER, &[]);
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.starts_with("sk-ant-oat01-"), "{}", r.stdout);
    }
    assert_eq!(
        exchanges(&fake),
        2,
        "one replacement for 32 callers at once"
    );
}
