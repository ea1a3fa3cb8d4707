//! Fixtures: the sandbox's identifiers, JWTs shaped for keyless's local
//! checks, and what tests read back from disk.

use std::path::{Path, PathBuf};

pub const WIP: &str = "wip_01sandbox";
pub const OPENAI_SA: &str = "sa_01sandbox";
pub const OPENAI_AUDIENCE: &str = "https://api.openai.com/v1";
/// Where the sandbox serves OpenAI's token exchange.
pub const OPENAI_TOKEN_PATH: &str = "/openai/oauth/token";

pub const RULE: &str = "fdrl_01sandboxdefault";
pub const ORG: &str = "5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550";
pub const SA: &str = "svac_01sandbox";
pub const WS: &str = "wrkspc_01sandbox";

pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Cache entry files (not locks, not the ledger).
/// Edit the one entry of the token cache in `dir` with `f`: its path.
pub fn rewrite_cache_entry(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let files = cache_files(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&files[0], v.to_string()).unwrap();
    files[0].clone()
}

/// Pretend the one cached token in `dir` was minted `age` seconds ago: the
/// entry's times move back, the token itself stays valid. Its token.
pub fn age_cache(dir: &Path, age: i64) -> String {
    let mut token = String::new();
    rewrite_cache_entry(dir, |v| {
        for k in ["expires_at", "obtained_at"] {
            v[k] = (v[k].as_i64().unwrap() - age).into();
        }
        token = v["access_token"].as_str().unwrap().to_string();
    });
    token
}

pub fn cache_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

/// A JWT with the right shape for keyless's local checks (ES256, kid, live
/// `exp`, unique `jti`) but no real signature: for fakes that do not verify.
pub fn shaped_jwt(lifetime: i64) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let jti = format!(
        "jti-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let claims = serde_json::json!({
        "iss": "https://idp.example", "sub": "repo:acme/app:ref:refs/heads/main",
        "aud": "https://api.anthropic.com", "iat": now, "exp": now + lifetime, "jti": jti,
    });
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The claims of a JWT, unverified (tests read `exp` and `jti`).
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let part = jwt.trim().split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The value of the `NAME=VALUE` line for `name` in `text` (an `env` dump,
/// a `$GITHUB_ENV` file, a systemd unit); panics naming it when absent.
pub fn assigned(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= line"))
        .to_string()
}
