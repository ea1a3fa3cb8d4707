//! The managed configuration (issue 23): `/etc/keyless/config.json`, placed
//! the only way there is, as root, at its fixed path: each run is a
//! `keyless` started in its own mount namespace (`unshare --mount`) where
//! an overlay lays a staged `keyless/` directory over the real `/etc`.
//! Nothing outside the namespace sees it, and no variable or flag is
//! involved. Shown: managed profiles are usable and shown as managed,
//! `setup` cannot change what it sets, the ownership rules (another owner,
//! group or other write, a link: ignored with a warning), an invalid file
//! fails closed, each policy at setup and at use, and that nothing the
//! user controls moves or disables it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const MANAGED: &str = "/etc/keyless/config.json";

/// Can this process make a mount namespace and mount in it (root)?
fn namespaces() -> bool {
    let ok = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .args(["mount", "-t", "tmpfs", "tmpfs", "/mnt"])
        .status()
        .is_ok_and(|s| s.success());
    require_tool("unshare --mount, as root (mount namespaces)", ok)
}

/// A test's environment, when this process can make mount namespaces;
/// else None, and the test stops there (see [`namespaces`]).
fn namespaced_env() -> Option<TestEnv> {
    namespaces().then(TestEnv::new)
}

/// A staged `/etc/keyless`, as root owns it unless a test changes that.
struct Machine {
    stage: tempfile::TempDir,
}

impl Machine {
    fn with(json: &str) -> Self {
        let stage = tempfile::Builder::new()
            .prefix("keyless-etc-")
            .tempdir()
            .unwrap();
        let dir = stage.path().join("keyless");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let m = Machine { stage };
        if !json.is_empty() {
            std::fs::write(m.file(), json).unwrap();
            m.chmod(&m.file(), 0o644);
        }
        m
    }
    fn dir(&self) -> PathBuf {
        self.stage.path().join("keyless")
    }
    fn file(&self) -> PathBuf {
        self.dir().join("config.json")
    }
    fn chmod(&self, p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// `keyless args` with this machine's /etc/keyless, in `env`.
    fn run_with(&self, env: &TestEnv, args: &[&str], f: impl FnOnce(&mut Command)) -> Run {
        let mut c = env.external("unshare");
        c.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
            .arg(r#"mount -t overlay overlay -o "lowerdir=$1:/etc" /etc || exit 90; shift; exec "$@""#)
            .arg("sh")
            .arg(self.stage.path())
            .arg(BIN)
            .args(args);
        f(&mut c);
        let r = Run::from(c.output().unwrap());
        assert_ne!(r.code, 90, "the overlay could not be mounted: {}", r.stderr);
        r
    }
    fn run(&self, env: &TestEnv, args: &[&str]) -> Run {
        self.run_with(env, args, |_| {})
    }
    /// [`Machine::run`] as an ordinary user (uid and gid 65534, who owns
    /// `env`'s directories), not root, who can read any file.
    fn run_as_user(&self, env: &TestEnv, args: &[&str]) -> Run {
        std::os::unix::fs::chown(env.root.path(), Some(65534), Some(65534)).unwrap();
        std::os::unix::fs::chown(env.home(), Some(65534), Some(65534)).unwrap();
        self.chmod(self.stage.path(), 0o755); // it becomes /etc's top
        let user = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            BIN,
        ];
        let mut all: Vec<&str> = user[1..].to_vec();
        all.extend(args);
        let mut c = env.external("unshare");
        c.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
            .arg(r#"mount -t overlay overlay -o "lowerdir=$1:/etc" /etc || exit 90; shift; exec "$@""#)
            .arg("sh")
            .arg(self.stage.path())
            .arg(user[0])
            .args(all);
        let r = Run::from(c.output().unwrap());
        assert_ne!(r.code, 90, "the overlay could not be mounted: {}", r.stderr);
        r
    }
}

/// A JWT file from the sandbox, and its `file:` identity spec.
fn jwt_file(env: &TestEnv, sb: &Sandbox) -> String {
    let p = env.path("id.jwt");
    std::fs::write(&p, sb.mint_jwt(&[])).unwrap();
    format!("file:{}", p.display())
}

/// A managed profile `corp` on the sandbox, and `policy`.
fn corp(sb: &Sandbox, identity: Option<&str>, policy: serde_json::Value) -> String {
    let mut anthropic = serde_json::json!({
        "federation_rule_id": RULE, "organization_id": ORG,
        "service_account_id": SA, "workspace_id": WS, "base_url": sb.url,
    });
    if let Some(i) = identity {
        anthropic["identity"] =
            serde_json::json!({"type": "file", "path": i.strip_prefix("file:").unwrap()});
    }
    serde_json::json!({"version": 1, "profiles": {"corp": {"anthropic": anthropic}}, "policy": policy})
        .to_string()
}

#[test]
fn a_managed_profile_is_usable_by_everyone_and_shown_as_managed() {
    let Some(env) = namespaced_env() else { return };
    let sb = Sandbox::start(&[]);
    let id = jwt_file(&env, &sb);
    let m = Machine::with(&corp(&sb, Some(&id), serde_json::json!({})));

    let r = m.run(&env, &["--profile", "corp", "credential", "anthropic"]);
    r.success();
    assert!(r.stdout.starts_with("sk-ant-"), "{}", r.stdout);

    let r = m.run(&env, &["profile", "list"]);
    r.success();
    assert!(r.stdout.contains("corp (managed)"), "{}", r.stdout);
    let names = m.run(&env, &["profile", "list", "--names"]);
    assert_eq!(names.stdout, "corp\n", "completion sees it too");
    let v: serde_json::Value =
        serde_json::from_str(&m.run(&env, &["profile", "list", "--json"]).stdout).unwrap();
    assert_eq!(v[0]["name"], "corp");
    assert_eq!(v[0]["managed"], true);

    let r = m.run(&env, &["profile", "show", "corp"]);
    r.success();
    assert!(
        r.stdout.contains(&format!("managed by {MANAGED}"))
            && r.stdout.contains("anthropic.federation_rule_id"),
        "{}",
        r.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(&m.run(&env, &["profile", "show", "corp", "--json"]).stdout).unwrap();
    assert_eq!(v["managed_path"], MANAGED);
    assert!(v["managed_fields"].as_array().unwrap().len() >= 5);

    let r = m.run(&env, &["--profile", "corp", "auth", "status", "--json"]);
    crate::status::validate(&r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["keyless"]["profile_managed"], true);
    assert_eq!(v["keyless"]["managed"]["state"], "honoured");
    assert_eq!(v["keyless"]["managed"]["path"], MANAGED);
    let r = m.run(&env, &["--profile", "corp", "auth", "status"]);
    assert!(
        r.stdout.contains(&format!(
            "managed       {MANAGED} (IT): this profile is defined there"
        )),
        "{}",
        r.stdout
    );
    assert!(
        !env.config_dir().join("config.json").exists(),
        "using a managed profile writes nothing to the user's config"
    );
}

#[test]
fn setup_cannot_change_a_managed_field_and_the_profile_cannot_be_removed() {
    let Some(env) = namespaced_env() else { return };
    let sb = Sandbox::start(&[]);
    let id = jwt_file(&env, &sb);
    let m = Machine::with(&corp(&sb, None, serde_json::json!({})));
    let setup_corp = |flags: &[&str]| {
        let mut args = vec!["--profile", "corp", "setup", "anthropic"];
        args.extend_from_slice(flags);
        m.run(&env, &args)
    };

    // A field it leaves open is the user's to set; only that is saved.
    setup_corp(&["--identity", &id]).success();
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.config_dir().join("config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        saved["profiles"]["corp"],
        serde_json::json!({"anthropic": {"identity": {"type": "file", "path": id.strip_prefix("file:").unwrap()}}}),
        "the user's file keeps only what the user set"
    );
    m.run(&env, &["--profile", "corp", "credential", "anthropic"])
        .success();
    // The same value again is no change.
    setup_corp(&["--organization-id", ORG]).success();

    let r = setup_corp(&["--base-url", "https://elsewhere.example"]);
    r.fails(
        6,
        "anthropic.base_url is set by the managed configuration /etc/keyless/config.json",
    );
    assert!(
        r.stderr.contains("hint: leave --base-url out"),
        "{}",
        r.stderr
    );
    let r = setup_corp(&["--rule-id", "fdrl_01other"]);
    r.fails(
        6,
        "anthropic.federation_rule_id is set by the managed configuration",
    );

    m.run(&env, &["profile", "rm", "corp", "--yes"]).fails(
        6,
        "is managed by /etc/keyless/config.json (IT): it cannot be removed",
    );
    m.run(&env, &["profile", "rename", "corp", "mine"])
        .fails(6, "cannot be removed or renamed");
    // It can be made the active profile like any other.
    m.run(&env, &["profile", "use", "corp"]).success();
    m.run(&env, &["credential", "anthropic"]).success();
}

/// Each way a file can fail to be the system's: it is ignored, with a
/// warning naming the file and why, and its profiles and policy are not used.
#[test]
fn a_file_root_does_not_own_alone_is_ignored_with_a_warning() {
    let Some(env) = namespaced_env() else { return };
    let policy = r#"{"version":1,"profiles":{"corp":{"anthropic":{"federation_rule_id":"fdrl_01corp",
        "organization_id":"5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550"}}},
        "policy":{"forbid_static_api_keys":true}}"#;
    let sb = Sandbox::start(&[]);
    let own = TestEnv::new();
    user_profile(&own, &sb);
    type Spoil = Box<dyn Fn(&Machine)>;
    let cases: Vec<(&str, Spoil, &str)> = vec![
        (
            "another owner",
            Box::new(|m: &Machine| std::os::unix::fs::chown(m.file(), Some(65534), None).unwrap()),
            "/etc/keyless/config.json it is owned by uid 65534, not root",
        ),
        (
            "group-writable",
            Box::new(|m: &Machine| m.chmod(&m.file(), 0o664)),
            "it has mode 664, so users other than root can change it",
        ),
        (
            "other-writable",
            Box::new(|m: &Machine| m.chmod(&m.file(), 0o646)),
            "it has mode 646",
        ),
        (
            "a directory others can write",
            Box::new(|m: &Machine| m.chmod(&m.dir(), 0o777)),
            "/etc/keyless it has mode 777",
        ),
        (
            "a directory another user owns",
            Box::new(|m: &Machine| std::os::unix::fs::chown(m.dir(), Some(65534), None).unwrap()),
            "/etc/keyless it is owned by uid 65534",
        ),
        (
            "a symbolic link",
            Box::new(|m: &Machine| {
                let real = m.stage.path().join("real.json");
                std::fs::rename(m.file(), &real).unwrap();
                std::os::unix::fs::symlink(&real, m.file()).unwrap();
            }),
            "/etc/keyless/config.json is a symbolic link",
        ),
    ];
    for (what, spoil, why) in cases {
        let m = Machine::with(policy);
        spoil(&m);
        let r = m.run(&env, &["profile", "list", "--names"]);
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("warning: ignoring the managed configuration: ")
                && r.stderr.contains(why),
            "{what}: {}",
            r.stderr
        );
        assert_eq!(r.stdout, "", "{what}: its profiles are not used");
        // An ignored policy forbids nothing: with a profile of the user's
        // own, exec --keep-api-key runs.
        m.run(&own, &["exec", "--keep-api-key", "--", "true"])
            .success();
        let v: serde_json::Value =
            serde_json::from_str(&m.run(&env, &["auth", "status", "--json"]).stdout).unwrap();
        assert_eq!(v["keyless"]["managed"]["state"], "ignored", "{what}");
    }
    // The same file, as root places it, is honoured (the cases above fail
    // for the reason they name, not another).
    let m = Machine::with(policy);
    let r = m.run(&env, &["profile", "list", "--names"]);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("corp\n", ""));
    m.run(&own, &["exec", "--keep-api-key", "--", "true"])
        .fails(6, "forbids static API keys");
}

/// Root's file that users cannot read (mode 600, or a directory they cannot
/// search) is the system's policy all the same: a user who cannot read it
/// must not escape it, so keyless refuses to run rather than warn and go
/// on without it. Another owner's unreadable file is still only ignored.
#[test]
fn roots_file_that_users_cannot_read_fails_closed() {
    if !namespaces() {
        return;
    }
    let policy = r#"{"version":1,"policy":{"forbid_static_api_keys":true}}"#;
    let m = Machine::with(policy);
    // Root reads it, and it is honoured.
    let env = TestEnv::new();
    m.run(&env, &["profile", "list", "--names"]).success();
    m.chmod(&m.file(), 0o600);
    let r = m.run_as_user(&env, &["profile", "list", "--names"]);
    r.fails(6, "/etc/keyless/config.json");
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    assert!(r.stderr.contains("chmod 644"), "the hint: {}", r.stderr);
    let m = Machine::with(policy);
    m.chmod(&m.dir(), 0o700);
    m.run_as_user(&TestEnv::new(), &["profile", "list", "--names"])
        .fails(6, "/etc/keyless");
    let m = Machine::with(policy);
    m.chmod(&m.file(), 0o600);
    std::os::unix::fs::chown(m.file(), Some(65533), None).unwrap();
    let r = m.run_as_user(&TestEnv::new(), &["profile", "list", "--names"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: ignoring the managed configuration"),
        "{}",
        r.stderr
    );
}

/// An administrator's typo must not silently drop a policy: the system's
/// file that is not valid fails every command that reads the config.
#[test]
fn an_invalid_file_fails_closed_naming_the_key() {
    let Some(env) = namespaced_env() else { return };
    let m = Machine::with(r#"{"version":1,"policy":{"forbid_static_api_key":true}}"#);
    for args in [
        &["profile", "list"][..],
        &["credential", "anthropic"],
        &["exec", "--", "true"],
    ] {
        let r = m.run(&env, args);
        r.fails(6, "invalid managed configuration /etc/keyless/config.json");
        assert!(r.stderr.contains("forbid_static_api_key"), "{}", r.stderr);
    }
    let m = Machine::with(r#"{"version":9}"#);
    m.run(&env, &["profile", "list"])
        .fails(6, "version 9 is not one this keyless reads");
}

/// A working user profile on the sandbox (a fresh JWT per exchange), set
/// up before any policy.
fn user_profile(env: &TestEnv, sb: &Sandbox) {
    env.setup(&sb.url, &sb.identity_command());
}

#[test]
fn forbidding_static_api_keys_fails_status_and_refuses_keep_api_key() {
    let Some(env) = namespaced_env() else { return };
    let sb = Sandbox::start(&[]);
    user_profile(&env, &sb);
    let m = Machine::with(r#"{"version":1,"policy":{"forbid_static_api_keys":true}}"#);

    m.run(&env, &["exec", "--keep-api-key", "--", "true"])
        .fails(6, "--keep-api-key is refused: the managed configuration /etc/keyless/config.json forbids static API keys");
    m.run(&env, &["env", "--keep-api-key"])
        .fails(6, "forbids static API keys");
    m.run(&env, &["exec", "--", "true"]).success();

    m.run(&env, &["auth", "status", "--check"]).success();
    let key = |c: &mut Command| {
        c.env("ANTHROPIC_API_KEY", "sk-ant-api03-SECRETVALUE-abcdef");
    };
    for args in [&["auth", "status"][..], &["auth", "status", "--check"]] {
        let r = m.run_with(&env, args, key);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(
                "the managed configuration /etc/keyless/config.json forbids static API keys: ANTHROPIC_API_KEY is set in this environment"
            ),
            "{}",
            r.stderr
        );
    }
    // A key in a file the scan finds counts too.
    let dotenv = env.home().join(".env");
    std::fs::write(
        &dotenv,
        "ANTHROPIC_API_KEY=sk-ant-api03-SECRETVALUE-abcdef\n",
    )
    .unwrap();
    let r = m.run_with(&env, &["auth", "status"], |c| {
        c.current_dir(env.home());
    });
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("forbids static API keys: ~/.env:1 sets ANTHROPIC_API_KEY"),
        "{}",
        r.stderr
    );
    // Without the policy the same key is only reported.
    let plain = Machine::with(r#"{"version":1}"#);
    let r = plain.run_with(&env, &["auth", "status"], |c| {
        c.current_dir(env.home());
    });
    assert!(!r.stderr.contains("forbids"), "{}", r.stderr);
}

#[test]
fn allowed_base_urls_are_enforced_at_setup_and_at_use() {
    let Some(env) = namespaced_env() else { return };
    let sb = Sandbox::start(&[]);
    // Set up (or hand-edited) before the policy came.
    user_profile(&env, &sb);
    let m = Machine::with(
        r#"{"version":1,"policy":{"allowed_base_urls":["https://gw.corp.example/anthropic"]}}"#,
    );
    let r = m.run(&env, &["credential", "anthropic"]);
    r.fails(6, "is not allowed by the managed configuration /etc/keyless/config.json (allowed_base_urls: https://gw.corp.example/anthropic)");
    assert!(r.stderr.contains(&sb.url), "{}", r.stderr);
    assert_eq!(sb.history()["exchanges"], 0, "no JWT left for it");

    let other = TestEnv::new();
    m.run(&other, &setup_anthropic_args(&["--base-url", &sb.url]))
        .fails(6, "anthropic.base_url");
    // The default API host is a base URL like any other.
    m.run(&other, &setup_anthropic_args(&[])).fails(
        6,
        "\"https://api.anthropic.com\" of profile \"default\" is not allowed",
    );
    m.run(
        &other,
        &setup_anthropic_args(&["--base-url", "https://gw.corp.example/anthropic/v1"]),
    )
    .success();
    m.run(
        &other,
        &setup_openai_args(&["--token-endpoint", "https://auth.openai.com/oauth/token"]),
    )
    .fails(6, "openai.token_endpoint");

    // Listed, the sandbox serves as before.
    let ok = Machine::with(&format!(
        r#"{{"version":1,"policy":{{"allowed_base_urls":["{}"]}}}}"#,
        sb.url
    ));
    ok.run(&env, &["credential", "anthropic"]).success();
}

#[test]
fn allowed_issuers_are_enforced_at_setup_and_at_use() {
    let Some(env) = namespaced_env() else { return };
    let sb = Sandbox::start(&[]);
    user_profile(&env, &sb);
    let m = Machine::with(
        r#"{"version":1,"policy":{"allowed_issuers":["https://login.corp.example"]}}"#,
    );
    // The JWT the file source gives is the sandbox's, not an allowed one.
    let r = m.run(&env, &["credential", "anthropic"]);
    r.fails(6, "the identity token's issuer");
    assert!(
        r.stderr
            .contains("allowed_issuers: https://login.corp.example"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.history()["exchanges"], 0, "refused before the exchange");

    m.run(
        &env,
        &setup_issuer_offline_args("https://login.example.com", "k"),
    )
    .fails(
        6,
        "issuer \"https://login.example.com\" of profile \"default\" is not allowed",
    );
    m.run(
        &env,
        &setup_issuer_offline_args("https://login.corp.example/", "k"),
    )
    .success();

    let ok = Machine::with(&format!(
        r#"{{"version":1,"policy":{{"allowed_issuers":["{}"]}}}}"#,
        sb.url
    ));
    let fresh = TestEnv::new();
    user_profile(&fresh, &sb);
    ok.run(&fresh, &["credential", "anthropic"]).success();
}

/// Nothing the user controls moves, replaces or disables it: not the
/// config and cache dirs (flags or variables), HOME, XDG dirs, the
/// Windows variable for ProgramData, or variables that look like switches.
#[test]
fn no_variable_or_flag_moves_or_disables_it() {
    let Some(env) = namespaced_env() else { return };
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(elsewhere.join("keyless")).unwrap();
    std::fs::write(elsewhere.join("keyless/config.json"), r#"{"version":1}"#).unwrap();
    let m = Machine::with(r#"{"version":1,"policy":{"forbid_static_api_keys":true}}"#);
    let e = elsewhere.display().to_string();
    let r = m.run_with(
        &env,
        &[
            "--config-dir",
            &e,
            "--cache-dir",
            &e,
            "exec",
            "--keep-api-key",
            "--",
            "true",
        ],
        |c| {
            for (k, v) in [
                ("HOME", e.as_str()),
                ("XDG_CONFIG_HOME", &e),
                ("XDG_CONFIG_DIRS", &e),
                ("KEYLESS_CONFIG_DIR", &e),
                ("ProgramData", &e),
                ("PROGRAMDATA", &e),
                ("KEYLESS_MANAGED_CONFIG", "/dev/null"),
                ("KEYLESS_MANAGED", "0"),
                ("KEYLESS_NO_MANAGED_CONFIG", "1"),
                ("KEYLESS_SYSTEM_CONFIG", &e),
            ] {
                c.env(k, v);
            }
        },
    );
    r.fails(6, "forbids static API keys");
    // And keyless reads no variable of the kind: none of its own names it.
    let vars =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/env_vars.rs")).unwrap();
    let named: Vec<&str> = vars
        .lines()
        .filter(|l| l.starts_with("pub const KEYLESS_"))
        .filter(|l| {
            let u = l.to_ascii_uppercase();
            ["MANAGED", "SYSTEM", "POLICY", "ETC"]
                .iter()
                .any(|w| u.contains(w))
        })
        .collect();
    assert!(
        named.is_empty(),
        "a variable names the managed configuration: {named:?}"
    );
}
