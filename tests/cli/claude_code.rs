//! `keyless setup claude-code`: the merge rules, and `auth status` on the wiring.

use crate::common::*;

fn settings(env: &TestEnv) -> std::path::PathBuf {
    env.home().join(".claude/settings.json")
}

fn backups(env: &TestEnv) -> usize {
    std::fs::read_dir(env.home().join(".claude"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("keyless-backup"))
                .count()
        })
        .unwrap_or(0)
}

/// A dotfile manager's layout: the real settings file (`{"model":
/// "opus"}`) in a repository, a link to it at `~/.claude/settings.json`.
/// Returns the real file.
pub fn linked_user_settings(env: &TestEnv) -> std::path::PathBuf {
    let dotfiles = env.path("dotfiles/claude");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let target = dotfiles.join("settings.json");
    std::fs::write(&target, r#"{"model": "opus"}"#).unwrap();
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    std::os::unix::fs::symlink(&target, settings(env)).unwrap();
    target
}

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn no_file_then_a_second_run_changes_nothing() {
    let env = TestEnv::new();
    let r = env.run(&["setup", "claude-code"]);
    r.success();
    assert_eq!(r.stdout, "");
    let v = json(&settings(&env));
    let helper = v["apiKeyHelper"].as_str().unwrap();
    assert!(
        helper.starts_with('/') && helper.ends_with("credential anthropic --helper-ttl 240"),
        "{helper}"
    );
    assert_eq!(v["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"], "240000");
    let before = std::fs::read(settings(&env)).unwrap();
    let r = env.run(&["setup", "claude-code"]);
    r.success();
    assert!(r.stderr.contains("nothing to change"), "{}", r.stderr);
    assert_eq!(std::fs::read(settings(&env)).unwrap(), before);
    assert_eq!(backups(&env), 0);
}

#[test]
fn other_settings_are_kept_and_backed_up() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    let original =
        r#"{"model": "opus", "permissions": {"allow": ["Bash(ls)"]}, "env": {"FOO": "bar"}}"#;
    std::fs::write(settings(&env), original).unwrap();
    env.run(&["setup", "claude-code"]).success();
    let v = json(&settings(&env));
    assert_eq!(v["model"], "opus");
    assert_eq!(v["permissions"]["allow"][0], "Bash(ls)");
    assert_eq!(v["env"]["FOO"], "bar");
    assert!(
        v["apiKeyHelper"]
            .as_str()
            .unwrap()
            .contains("credential anthropic")
    );
    assert_eq!(backups(&env), 1);
    // the backup may hold keys from an env block: others cannot read it
    let backup = std::fs::read_dir(env.home().join(".claude"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains("keyless-backup"))
        .unwrap()
        .path();
    assert_eq!(mode(&backup), 0o600);
}

#[test]
fn a_different_helper_is_refused_then_replaced_with_force() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    std::fs::write(settings(&env), r#"{"apiKeyHelper": "~/bin/get-key.sh"}"#).unwrap();
    let r = env.run(&["setup", "claude-code"]);
    r.fails(6, "already has an apiKeyHelper: ~/bin/get-key.sh");
    assert!(r.stderr.contains("--force"));
    assert_eq!(
        std::fs::read_to_string(settings(&env)).unwrap(),
        r#"{"apiKeyHelper": "~/bin/get-key.sh"}"#
    );
    env.run(&["setup", "claude-code", "--force"]).success();
    assert!(
        json(&settings(&env))["apiKeyHelper"]
            .as_str()
            .unwrap()
            .contains("credential anthropic")
    );
    assert_eq!(backups(&env), 1);
}

#[test]
fn malformed_json_is_refused_and_left_untouched() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    std::fs::write(settings(&env), "{\"model\": \"opus\",}").unwrap();
    env.run(&["setup", "claude-code", "--force"])
        .fails(6, "is not valid JSON (line 1");
    assert_eq!(
        std::fs::read_to_string(settings(&env)).unwrap(),
        "{\"model\": \"opus\",}"
    );
    assert_eq!(backups(&env), 0);
}

#[test]
fn dry_run_prints_and_project_scope_writes_in_the_project() {
    let env = TestEnv::new();
    let r = env.run(&["setup", "claude-code", "--dry-run"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["apiKeyHelper"].is_string());
    assert!(!settings(&env).exists(), "--dry-run writes nothing");
    let project = env.path("project");
    std::fs::create_dir_all(&project).unwrap();
    env.run_with(
        &[
            "--profile",
            "ci",
            "setup",
            "claude-code",
            "--scope",
            "project",
        ],
        |c| {
            c.current_dir(&project);
        },
    )
    .success();
    let v = json(&project.join(".claude/settings.json"));
    assert!(
        v["apiKeyHelper"]
            .as_str()
            .unwrap()
            .contains("--profile ci credential anthropic"),
        "{v}"
    );
}

#[test]
fn the_ttl_stays_below_the_shortest_token_and_status_flags_a_longer_one() {
    let sb = Sandbox::start(&["--token-lifetime", "120"]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    env.run(&["credential", "anthropic"]).success();
    env.run(&["setup", "claude-code"]).success();
    assert_eq!(
        json(&settings(&env))["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"],
        "60000"
    );
    let r = env.run(&["auth", "status"]);
    assert!(
        r.stdout
            .contains("Claude Code apiKeyHelper at ~/.claude/settings.json:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("runs keyless"), "{}", r.stdout);
    assert!(!r.stdout.contains("re-runs keyless every"), "{}", r.stdout);
    // a hand-set TTL longer than the token's life is flagged
    let mut v = json(&settings(&env));
    v["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] = "900000".into();
    std::fs::write(settings(&env), v.to_string()).unwrap();
    let r = env.run(&["auth", "status"]);
    assert!(
        r.stdout
            .contains("Claude Code re-runs keyless every 900 s, but tokens live"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_symlinked_settings_file_is_written_through_its_link() {
    let env = TestEnv::new();
    let target = linked_user_settings(&env);
    env.run(&["setup", "claude-code"]).success();
    let meta = std::fs::symlink_metadata(settings(&env)).unwrap();
    assert!(meta.file_type().is_symlink(), "the link is kept");
    assert_eq!(std::fs::read_link(settings(&env)).unwrap(), target);
    let v = json(&target);
    assert_eq!(v["model"], "opus");
    assert!(
        v["apiKeyHelper"]
            .as_str()
            .unwrap()
            .contains("credential anthropic")
    );
    // a link to nowhere is refused, not replaced
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    std::os::unix::fs::symlink(env.path("missing.json"), settings(&env)).unwrap();
    env.run(&["setup", "claude-code"])
        .fails(6, "is a symbolic link");
    assert!(
        std::fs::symlink_metadata(settings(&env))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_static_key_in_claude_codes_settings_is_warned_about_and_never_shown() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    let secret = "sk-ant-api03-STATIC-IN-SETTINGS";
    std::fs::write(
        settings(&env),
        format!("{{\"env\": {{\"ANTHROPIC_AUTH_TOKEN\": \"{secret}\"}}}}"),
    )
    .unwrap();
    let r = env.run(&["setup", "claude-code"]);
    r.success();
    assert!(
        r.stderr.contains("warning:")
            && r.stderr.contains("ANTHROPIC_AUTH_TOKEN")
            && r.stderr.contains("outranks"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("STATIC-IN-SETTINGS"), "{}", r.stderr);
    // a primaryApiKey in ~/.claude.json is one too
    let env = TestEnv::new();
    std::fs::write(
        env.home().join(".claude.json"),
        format!("{{\"primaryApiKey\": \"{secret}\"}}"),
    )
    .unwrap();
    let r = env.run(&["setup", "claude-code"]);
    r.success();
    assert!(
        r.stderr.contains("warning:") && r.stderr.contains("primaryApiKey"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("STATIC-IN-SETTINGS"), "{}", r.stderr);
}

/// The helper finds the same configuration from an empty environment (no
/// HOME, no KEYLESS_*): Claude Code runs it with whatever it inherited.
#[test]
fn the_written_helper_works_from_an_empty_environment() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    let expected = env.run(&["credential", "anthropic"]);
    expected.success();
    env.run(&["setup", "claude-code"]).success();
    let helper = json(&settings(&env))["apiKeyHelper"]
        .as_str()
        .unwrap()
        .to_string();
    for flag in ["--config-dir", "--cache-dir", "--profile default"] {
        assert!(helper.contains(flag), "{helper}");
    }
    let o = std::process::Command::new("env")
        .args(["-i", "/bin/sh", "-c", &helper])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), expected.stdout);
    // nor inherited variables that point elsewhere (profile "other" and the
    // empty dir hold no configuration: honoring them would fail)
    let o = std::process::Command::new("env")
        .args([
            "-i",
            "KEYLESS_PROFILE=other",
            &format!("KEYLESS_CONFIG_DIR={}", env.path("elsewhere").display()),
            "/bin/sh",
            "-c",
            &helper,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("sk-ant-oat01-"));
}

/// Claude Code's order (its authentication docs): a cloud provider switch,
/// then ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY, then apiKeyHelper; project
/// and local settings outrank user settings. Each way keyless would be
/// shadowed is named by `setup claude-code`, never its value.
#[test]
fn setup_names_every_setting_that_would_shadow_the_helper() {
    let secret = "sk-ant-api03-SHADOWING-SECRET";
    type Prepare = Box<dyn Fn(&TestEnv, &mut std::process::Command)>;
    let cases: Vec<(&str, Prepare)> = vec![
        (
            "ANTHROPIC_API_KEY",
            Box::new(move |env: &TestEnv, _: &mut std::process::Command| {
                std::fs::create_dir_all(env.home().join(".claude")).unwrap();
                std::fs::write(
                    settings(env),
                    format!("{{\"env\": {{\"ANTHROPIC_API_KEY\": \"{secret}\"}}}}"),
                )
                .unwrap();
            }),
        ),
        (
            "CLAUDE_CODE_USE_BEDROCK",
            Box::new(|env: &TestEnv, _: &mut std::process::Command| {
                std::fs::create_dir_all(env.home().join(".claude")).unwrap();
                std::fs::write(
                    settings(env),
                    r#"{"env": {"CLAUDE_CODE_USE_BEDROCK": "1"}}"#,
                )
                .unwrap();
            }),
        ),
        (
            "ANTHROPIC_AUTH_TOKEN",
            Box::new(move |_: &TestEnv, c: &mut std::process::Command| {
                c.env("ANTHROPIC_AUTH_TOKEN", secret);
            }),
        ),
        (
            "CLAUDE_CODE_USE_VERTEX",
            Box::new(|_: &TestEnv, c: &mut std::process::Command| {
                c.env("CLAUDE_CODE_USE_VERTEX", "1");
            }),
        ),
        (
            "another apiKeyHelper",
            Box::new(|env: &TestEnv, c: &mut std::process::Command| {
                let project = env.path("project");
                std::fs::create_dir_all(project.join(".git")).unwrap();
                std::fs::create_dir_all(project.join(".claude")).unwrap();
                std::fs::write(
                    project.join(".claude/settings.local.json"),
                    r#"{"apiKeyHelper": "~/bin/other-key.sh"}"#,
                )
                .unwrap();
                c.current_dir(project);
            }),
        ),
    ];
    for (needle, prepare) in cases {
        let env = TestEnv::new();
        let mut c = env.cmd();
        c.args(["setup", "claude-code"]);
        prepare(&env, &mut c);
        let r = Run::from(c.output().unwrap());
        r.success();
        assert!(
            r.stderr.contains("warning:") && r.stderr.contains(needle),
            "{needle}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("SHADOWING-SECRET"), "{}", r.stderr);
    }
}

/// `auth status` says Claude Code does not use keyless when a cloud
/// provider switch is on, in its settings or its environment, and flags a
/// helper TTL equal to the token lifetime (at or above fails).
#[test]
fn status_flags_cloud_switches_and_a_ttl_equal_to_the_lifetime() {
    let sb = Sandbox::start(&["--token-lifetime", "120"]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    env.run(&["credential", "anthropic"]).success();
    env.run(&["setup", "claude-code"]).success();
    let mut v = json(&settings(&env));
    v["env"]["CLAUDE_CODE_USE_BEDROCK"] = "1".into();
    v["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"] = "120000".into();
    std::fs::write(settings(&env), v.to_string()).unwrap();
    let r = env.run(&["auth", "status"]);
    assert!(r.stdout.contains("CLAUDE_CODE_USE_BEDROCK"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Claude Code re-runs keyless every 120 s"),
        "{}",
        r.stdout
    );
    v["env"]
        .as_object_mut()
        .unwrap()
        .remove("CLAUDE_CODE_USE_BEDROCK");
    std::fs::write(settings(&env), v.to_string()).unwrap();
    let r = env.run_with(&["auth", "status"], |c| {
        c.env("CLAUDE_CODE_USE_FOUNDRY", "1");
    });
    assert!(
        r.stderr.contains("CLAUDE_CODE_USE_FOUNDRY is set here"),
        "{}",
        r.stderr
    );
}
