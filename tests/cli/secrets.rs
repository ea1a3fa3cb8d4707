//! The file secret store under hostile or unexpected contents, lock files
//! left by others, and kill -9 during a refresh with a rotating provider.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::*;
use crate::fake_idp::FakeIdp;

pub fn setup_issuer(env: &TestEnv, idp: &FakeIdp) {
    idp.setup_issuer(env, &[]);
}

pub fn file_store(c: &mut std::process::Command) {
    c.env("KEYLESS_SECRET_STORE", "file");
}

pub fn device_login(env: &TestEnv) -> Run {
    env.run_with(&["login", "--device", "--timeout", "30"], file_store)
}

fn write_0600(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn signing_idp() -> FakeIdp {
    FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1")))
}

#[test]
fn entries_keyless_does_not_know_are_kept_across_writes() {
    let idp = signing_idp();
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    let secrets = env.config_dir().join("secrets.json");
    write_0600(
        &secrets,
        &json!({"version": 1, "comment": "kept by hand",
            "secrets": {"work/refresh_token": "rt-work", "work/client_secret": "cs-work",
                "note": {"added_by": "another tool"}}})
        .to_string(),
    );
    device_login(&env).success();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    assert_eq!(v["secrets"]["default/refresh_token"], "rt-1", "{v}");
    assert_eq!(v["secrets"]["work/refresh_token"], "rt-work", "{v}");
    assert_eq!(v["secrets"]["work/client_secret"], "cs-work", "{v}");
    assert_eq!(v["secrets"]["note"]["added_by"], "another tool", "{v}");
    assert_eq!(v["comment"], "kept by hand", "{v}");
    // and logout removes only its own entry
    env.run_with(&["logout"], file_store).success();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    assert!(v["secrets"].get("default/refresh_token").is_none(), "{v}");
    assert_eq!(v["secrets"]["work/refresh_token"], "rt-work", "{v}");
}

#[test]
fn a_secret_file_that_cannot_be_parsed_is_never_overwritten() {
    let idp = signing_idp();
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    let secrets = env.config_dir().join("secrets.json");
    for body in [
        r#"{"version": 1, "secrets": ["rt-work"]}"#,
        r#"["rt-work"]"#,
        r#"{"version": 1, "secrets": {"default/refresh_token": 5, "work/refresh_token": "rt-work"}}"#,
        r#"{"version": 1, "secrets": {"work/refresh_token": "rt-wo"#,
    ] {
        write_0600(&secrets, body);
        let r = device_login(&env);
        r.fails(6, &secrets.display().to_string());
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
        assert_eq!(std::fs::read_to_string(&secrets).unwrap(), body);
        // logout neither deletes nor rewrites it either
        env.run_with(&["logout"], file_store).success();
        assert_eq!(std::fs::read_to_string(&secrets).unwrap(), body);
    }
}

/// What a lock file left in keyless's dirs by someone else does to a login.
fn login_with_lock(lock: &Path, plant: impl Fn(&Path)) -> (Run, TestEnv) {
    let idp = signing_idp();
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    for dir in [env.config_dir(), env.cache_dir()] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
    }
    let lock = env.path(lock.to_str().unwrap());
    plant(&lock);
    (device_login(&env), env)
}

const LOCKS: [&str; 2] = ["config/secrets.lock", "cache/login-default.lock"];

#[test]
fn a_symlinked_lock_file_is_refused_and_its_target_untouched() {
    for lock in LOCKS {
        let (r, env) = login_with_lock(Path::new(lock), |l| {
            std::os::unix::fs::symlink(l.with_extension("target"), l).unwrap();
        });
        r.fails(6, "is a symbolic link");
        assert!(
            r.stderr.contains(lock.rsplit('/').next().unwrap()),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
        let target = env.path(lock).with_extension("target");
        assert!(!target.exists(), "{lock}: the link's target was created");
    }
}

#[test]
fn a_lock_file_owned_by_another_user_is_refused() {
    for lock in LOCKS {
        let (r, _env) = login_with_lock(Path::new(lock), |l| {
            std::fs::write(l, "").unwrap();
            std::os::unix::fs::chown(l, Some(65534), Some(65534)).unwrap();
            std::fs::set_permissions(l, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        });
        r.fails(6, "is owned by another user");
        assert!(
            r.stderr.contains(lock.rsplit('/').next().unwrap()),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn lock_files_are_0600_and_an_old_0644_one_is_tightened() {
    for lock in LOCKS {
        let (r, env) = login_with_lock(Path::new(lock), |l| {
            std::fs::write(l, "").unwrap();
            std::fs::set_permissions(l, std::os::unix::fs::PermissionsExt::from_mode(0o644))
                .unwrap();
        });
        r.success();
        assert_eq!(mode(&env.path(lock)), 0o600, "{lock}");
    }
    // and a fresh one is created 0600
    let (r, env) = login_with_lock(Path::new("unused"), |_| {});
    r.success();
    for lock in LOCKS {
        assert_eq!(mode(&env.path(lock)), 0o600, "{lock}");
    }
}
