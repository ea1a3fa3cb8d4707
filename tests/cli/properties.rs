//! Property tests (proptest) for what parses or quotes hostile input: shell
//! quoting round-trips through the real bash, zsh and fish for generated
//! values; JWT inspection, cache files and config files never panic on
//! arbitrary bytes; unknown config keys survive a rewrite whatever they are.

use std::process::Command;

use proptest::prelude::*;

use keyless::handoff::Assignment;
use keyless::handoff::shell::{ShellKind, render};
use keyless::secret::Secret;

const NAMES: [&str; 4] = ["KL_V0", "KL_V1", "KL_V2", "KL_V3"];

/// Values a variable can hold: any characters but NUL, weighted towards the
/// ones shells care about.
fn value() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '\'', '"', '\\', '$', '`', '!', '\n', '\r', '\t', ' ', ';', '&', '|', '(', ')', '{', '}',
        '*', '?', '~', '#', '%', '\u{2018}', '\u{2019}', '\u{201c}', '\u{1b}', '\u{7f}',
        '\u{202e}', '\u{feff}', 'é', '漢',
    ]);
    let ch = prop_oneof![
        3 => special,
        2 => any::<char>().prop_filter("no NUL", |c| *c != '\0'),
        2 => prop::char::range('a', 'z'),
    ];
    prop::collection::vec(ch, 0..24).prop_map(|v| v.into_iter().collect())
}

/// Run `script` (the rendered assignments) in `shell`, then print each
/// variable NUL-terminated; None when the shell is not installed.
fn through(shell: &str, script: &str) -> Option<Vec<String>> {
    // The same line works in bash, zsh and fish.
    let print = format!(
        "printf '%s\\0' {}",
        NAMES
            .iter()
            .map(|n| format!("\"${n}\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = Command::new(shell)
        .arg("-c")
        .arg(format!("{script}\n{print}"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LC_ALL", "C.UTF-8")
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{shell} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 back");
    Some(
        text.split('\0')
            .take(NAMES.len())
            .map(str::to_string)
            .collect(),
    )
}

fn shells() -> Vec<(&'static str, ShellKind)> {
    let strict = std::env::var_os("KEYLESS_TEST_STRICT").is_some();
    [
        ("bash", ShellKind::Bash),
        ("zsh", ShellKind::Zsh),
        ("fish", ShellKind::Fish),
    ]
    .into_iter()
    .filter(|(s, _)| {
        let there = Command::new(s).arg("-c").arg("true").output().is_ok();
        assert!(
            there || !strict,
            "{s} is required (scripts/test installs it)"
        );
        there
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn shell_quoting_round_trips_through_real_shells(values in prop::collection::vec(value(), 4)) {
        let assignments: Vec<Assignment> = NAMES
            .iter()
            .zip(&values)
            .map(|(n, v)| Assignment::Set(n, Secret::new(v.clone())))
            .collect();
        for (shell, kind) in shells() {
            let script = render(kind, &assignments).unwrap();
            if let Some(back) = through(shell, &script) {
                prop_assert_eq!(&back, &values, "{} with {:?}", shell, script);
            }
        }
    }

    #[test]
    fn jwt_inspection_never_panics(parts in prop::collection::vec("[A-Za-z0-9_\\-=+/.]{0,40}", 0..5), raw in ".{0,64}") {
        let joined = parts.join(".");
        for token in [joined.as_str(), raw.as_str()] {
            let _ = keyless::jwt::inspect(token, "the token");
            let _ = keyless::jwt::check_assertion(token, "the token", 1_700_000_000);
        }
    }

    #[test]
    fn jwt_claims_of_any_shape_never_panic(claims in "\\{.{0,80}\\}", header in "\\{.{0,40}\\}") {
        use base64::Engine;
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.c2ln", e(&header), e(&claims));
        let _ = keyless::jwt::check_assertion(&token, "the token", 1_700_000_000);
    }

    #[test]
    fn cache_files_of_any_content_are_misses_not_crashes(bytes in prop::collection::vec(any::<u8>(), 0..300), json in prop::option::of("\\{.{0,120}\\}")) {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let cache = keyless::cache::TokenCache::new(t.path().to_path_buf());
        let key = keyless::cache::CacheKey::new("anthropic", &[("profile", "p")]);
        let path = cache.entry_path(&key);
        std::fs::write(&path, json.map(String::into_bytes).unwrap_or(bytes)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        prop_assert!(cache.read(&key).is_none());
    }

    #[test]
    fn config_files_of_any_content_load_or_fail_cleanly(text in ".{0,200}", version in 0u32..4) {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("cfg");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = dir.join("config.json");
        for content in [text.clone(), format!("{{\"version\":{version},\"profiles\":{text}}}")] {
            std::fs::write(&path, &content).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if let Err(e) = keyless::config::load(&dir) {
                prop_assert_eq!(e.kind.exit_code(), 6);
                prop_assert!(e.message.contains("config.json"), "{}", e.message);
            }
        }
    }

    #[test]
    fn unknown_config_keys_survive_a_rewrite(keys in prop::collection::btree_map("[a-z_]{1,12}", "[ -~]{0,20}", 0..6)) {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("cfg");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut anthropic = serde_json::json!({
            "federation_rule_id": "fdrl_01x", "organization_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "identity": {"type": "env"}
        });
        for (k, v) in &keys {
            if anthropic.get(k).is_none() && !["service_account_id", "workspace_id", "base_url"].contains(&k.as_str()) {
                anthropic[k] = serde_json::json!(v);
            }
        }
        let doc = serde_json::json!({"version": 1, "profiles": {"default": {"anthropic": anthropic}}});
        let path = dir.join("config.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (lock, loaded) = keyless::config::load_for_update(&dir).unwrap();
        loaded.save(&lock).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        prop_assert_eq!(&back["profiles"]["default"]["anthropic"], &doc["profiles"]["default"]["anthropic"]);
    }
}

/// `setup issuer --client-secret-stdin` against the file store: a write to
/// `secrets.json`. Returns (exit code, stderr).
fn store_a_client_secret(env: &crate::common::TestEnv) -> (i32, String) {
    let mut c = env.cmd();
    c.args([
        "setup",
        "issuer",
        "--issuer",
        "https://login.example.com",
        "--client-id",
        "keyless-cli",
        "--no-verify",
        "--client-secret-stdin",
    ])
    .env("KEYLESS_SECRET_STORE", "file")
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    let out = crate::common::output_with_stdin(&mut c, b"a-client-secret-value\n");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn plant_secrets(env: &crate::common::TestEnv, bytes: &[u8]) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = env.config_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.join("secrets.json");
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_secrets_file_keyless_cannot_parse_is_never_rewritten(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            "\\{.{0,80}\\}".prop_map(String::into_bytes),
            "\\{\"secrets\":(\\[.{0,20}\\]|[0-9]{1,5}|\".{0,10}\")\\}".prop_map(String::into_bytes),
        ]
    ) {
        let env = crate::common::TestEnv::new();
        let path = plant_secrets(&env, &bytes);
        let (code, err) = store_a_client_secret(&env);
        prop_assert!(code == 0 || code == 6, "exit {}: {}", code, err);
        if code == 6 {
            prop_assert!(err.contains("secrets.json"), "{}", err);
            prop_assert_eq!(std::fs::read(&path).unwrap(), bytes, "a file keyless refused was changed");
        }
    }

    #[test]
    fn every_entry_of_a_secrets_file_survives_a_write(
        entries in prop::collection::btree_map("[a-z][a-z0-9:_-]{0,16}", "[ -~]{0,24}", 0..6),
        extra in prop::collection::btree_map("[a-z_]{1,10}", any::<i32>(), 0..3),
    ) {
        let env = crate::common::TestEnv::new();
        let mut doc = serde_json::json!({"version": 1, "secrets": entries});
        for (k, v) in &extra {
            if k != "version" && k != "secrets" && k != "seq" {
                doc[k] = serde_json::json!(v);
            }
        }
        let path = plant_secrets(&env, doc.to_string().as_bytes());
        let (code, err) = store_a_client_secret(&env);
        prop_assert_eq!(code, 0, "{}", err);
        let back: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        // (the entry this write sets is "default/client_secret": no planted
        // name has a slash)
        for (k, v) in &entries {
            prop_assert_eq!(&back["secrets"][k], &serde_json::json!(v), "entry {} lost", k);
        }
        prop_assert!(back["secrets"]["default/client_secret"].is_string());
        for (k, v) in &extra {
            if k != "version" && k != "secrets" && k != "seq" {
                prop_assert_eq!(&back[k], &serde_json::json!(v), "key {} lost", k);
            }
        }
    }
}
