//! The config store and `setup anthropic`: validation, profiles, updates in
//! place, and refusal of unsafe or invalid files.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn setup_saves_prints_on_stderr_and_updates_in_place() {
    let env = TestEnv::new();
    let r = env.run(&setup_anthropic_args(&[
        "--service-account-id",
        SA,
        "--identity",
        "file:/var/run/secrets/anthropic.com/token",
    ]));
    r.success();
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(RULE)
            && r.stderr
                .contains("file:/var/run/secrets/anthropic.com/token"),
        "{}",
        r.stderr
    );
    let path = env.config_dir().join("config.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["profiles"]["default"]["anthropic"]["federation_rule_id"],
        RULE
    );
    assert_eq!(
        v["profiles"]["default"]["anthropic"]["identity"]["type"],
        "file"
    );

    env.run(&["setup", "anthropic", "--workspace-id", WS])
        .success();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let a = &v["profiles"]["default"]["anthropic"];
    assert_eq!(a["workspace_id"], WS);
    assert_eq!(a["service_account_id"], SA, "other fields are kept");
    assert_eq!(
        a["identity"]["path"],
        "/var/run/secrets/anthropic.com/token"
    );
}

#[test]
fn first_setup_needs_rule_and_org_and_defaults_to_env() {
    let env = TestEnv::new();
    env.run(&["setup", "anthropic", "--workspace-id", WS])
        .fails(2, "--federation-rule-id and --organization-id are required");
    env.run(&setup_anthropic_args(&[])).success();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.config_dir().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(
        v["profiles"]["default"]["anthropic"]["identity"]["type"],
        "env"
    );
}

#[test]
fn identifiers_are_checked_locally() {
    let env = TestEnv::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "setup",
                "anthropic",
                "--federation-rule-id",
                "rule-1",
                "--organization-id",
                ORG,
            ],
            "not a well-formed fdrl_ ID",
        ),
        (
            &[
                "setup",
                "anthropic",
                "--federation-rule-id",
                RULE,
                "--organization-id",
                "acme",
            ],
            "is not a UUID",
        ),
        (
            &[
                "setup",
                "anthropic",
                "--federation-rule-id",
                RULE,
                "--organization-id",
                "00000000-0000-0000-0000-000000000000",
            ],
            "placeholder",
        ),
        (
            &setup_anthropic_args(&["--service-account-id", "sa_1"]),
            "svac_",
        ),
        (&setup_anthropic_args(&["--workspace-id", "ws"]), "wrkspc_"),
        (
            &setup_anthropic_args(&["--base-url", "http://api.example.com"]),
            "plain http",
        ),
        (
            &setup_anthropic_args(&["--identity", "gcloud"]),
            "unknown identity source",
        ),
    ];
    for (args, needle) in cases {
        env.run(args).fails(2, needle);
    }
    assert!(!env.config_dir().join("config.json").exists());
}

#[test]
fn profiles_are_separate() {
    let env = TestEnv::new();
    env.run(&setup_anthropic_args(&[])).success();
    env.run(&[
        "--profile",
        "ci",
        "setup",
        "anthropic",
        "--federation-rule-id",
        "fdrl_01other",
        "--organization-id",
        ORG,
    ])
    .success();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.config_dir().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(
        v["profiles"]["default"]["anthropic"]["federation_rule_id"],
        RULE
    );
    assert_eq!(
        v["profiles"]["ci"]["anthropic"]["federation_rule_id"],
        "fdrl_01other"
    );
    env.run_with(&["credential", "anthropic"], |c| {
        c.env("KEYLESS_PROFILE", "nope");
    })
    // an unknown profile is named as such, with the known ones (issue 23)
    .fails(
        6,
        "no profile named \"nope\" (chosen by the KEYLESS_PROFILE variable)",
    );
    env.run(&["--profile", "../x", "credential", "anthropic"])
        .fails(2, "invalid profile name");
}

#[test]
fn missing_config_says_how_to_set_up() {
    let env = TestEnv::new();
    let r = env.run(&["credential", "anthropic"]);
    r.fails(6, "no Anthropic configuration");
    assert!(
        r.stderr.contains("hint: run `keyless setup anthropic"),
        "{}",
        r.stderr
    );
}

#[test]
fn invalid_json_names_file_line_and_column() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let path = env.config_dir().join("config.json");
    std::fs::write(&path, "{\n  \"version\": 1,\n  \"profiles\": {,}\n}\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.fails(
        6,
        &format!("invalid JSON in {} at line 3, column 16", path.display()),
    );
    // setup refuses too, and leaves the file as it was
    env.run(&setup_anthropic_args(&[])).fails(6, "invalid JSON");
    assert!(std::fs::read_to_string(&path).unwrap().contains("{,}"));
}

#[test]
fn unsafe_config_files_are_refused_with_the_fix() {
    let env = TestEnv::new();
    env.run(&setup_anthropic_args(&[])).success();
    let path = env.config_dir().join("config.json");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    env.run(&["credential", "anthropic"]).fails(6, "chmod 600");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let real = env.path("elsewhere.json");
    std::fs::rename(&path, &real).unwrap();
    std::os::unix::fs::symlink(&real, &path).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.fails(6, "symbolic link");
    assert!(r.stderr.contains("hint: replace the link"), "{}", r.stderr);
}

#[test]
fn newer_config_versions_are_refused() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let path = env.config_dir().join("config.json");
    std::fs::write(&path, r#"{"version": 9, "profiles": {}}"#).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.run(&["credential", "anthropic"])
        .fails(6, "has version 9");
}

#[test]
fn help_documents_exit_codes() {
    let env = TestEnv::new();
    let r = env.run(&["--help"]);
    r.success();
    for line in [
        "3  sign-in required",
        "4  network failure",
        "5  denied",
        "6  configuration",
    ] {
        assert!(r.stdout.contains(line), "{line}");
    }
    env.run(&["credential"]).fails(2, "Usage");
}

/// Issue 9: `config.rs` promised that keys a newer keyless wrote survive a
/// rewrite, but only the OpenAI part kept them; `anthropic` and `issuer`
/// dropped theirs on the next `setup`.
#[test]
fn unknown_keys_under_every_part_survive_a_rewrite() {
    let env = TestEnv::new();
    env.run(&setup_anthropic_args(&["--identity", "env"]))
        .success();
    env.setup_issuer_offline("keyless-cli");
    let path = env.config_dir().join("config.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["future_top"] = serde_json::json!(1);
    v["profiles"]["default"]["future_part"] = serde_json::json!({"x": 2});
    v["profiles"]["default"]["anthropic"]["future_field"] = serde_json::json!("a");
    v["profiles"]["default"]["issuer"]["future_field"] = serde_json::json!({"b": [3]});
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();

    env.run(&["setup", "anthropic", "--workspace-id", WS])
        .success();
    env.setup_issuer_offline("keyless-cli-2");

    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let p = &v["profiles"]["default"];
    assert_eq!(v["future_top"], 1);
    assert_eq!(p["future_part"]["x"], 2);
    assert_eq!(p["anthropic"]["workspace_id"], WS);
    assert_eq!(p["anthropic"]["future_field"], "a", "{v:#}");
    assert_eq!(p["issuer"]["client_id"], "keyless-cli-2");
    assert_eq!(p["issuer"]["future_field"]["b"][0], 3, "{v:#}");
}

#[test]
fn parallel_setups_for_many_profiles_all_survive() {
    let env = TestEnv::new();
    let profiles: Vec<String> = (0..24).map(|i| format!("p{i:02}")).collect();
    // started together, each for its own profile: every one read-modify-writes config.json
    let children: Vec<_> = profiles
        .iter()
        .map(|p| {
            let mut c = env.cmd();
            c.args(["--profile", p.as_str()])
                .args(setup_anthropic_args(&[]))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        Run::from(c.wait_with_output().unwrap()).success();
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.config_dir().join("config.json")).unwrap())
            .unwrap();
    let saved: Vec<&String> = v["profiles"].as_object().unwrap().keys().collect();
    assert_eq!(saved.len(), profiles.len(), "lost updates: saved {saved:?}");
    let lock = env.config_dir().join("config.lock");
    assert_eq!(mode(&lock), 0o600, "the config lock is private");
}
