//! `keyless setup codex`: the same merge rules as for Claude Code, in TOML.

use crate::common::*;

fn path(env: &TestEnv) -> std::path::PathBuf {
    env.home().join(".codex/config.toml")
}

fn backups(env: &TestEnv) -> usize {
    std::fs::read_dir(env.home().join(".codex"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("keyless-backup"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn writes_an_auth_command_provider_and_is_idempotent() {
    let (sb, env) = openai_sandbox_env();
    env.run(&["credential", "openai"]).success();
    env.run(&["setup", "codex"]).success();
    let text = std::fs::read_to_string(path(&env)).unwrap();
    let v: toml_edit::DocumentMut = text.parse().unwrap();
    assert_eq!(v["model_provider"].as_str(), Some("keyless"));
    let p = &v["model_providers"]["keyless"];
    assert_eq!(
        p["base_url"].as_str(),
        Some(format!("{}/v1", sb.url).as_str())
    );
    assert!(p["auth"]["command"].as_str().unwrap().ends_with("/keyless"));
    let interval = p["auth"]["refresh_interval_ms"].as_integer().unwrap();
    let args: Vec<String> = p["auth"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let config = env.config_dir().display().to_string();
    let cache = env.cache_dir().display().to_string();
    let ttl = (interval / 1000).to_string();
    assert_eq!(
        args,
        [
            "--config-dir",
            config.as_str(),
            "--cache-dir",
            cache.as_str(),
            "--profile",
            "default",
            "credential",
            "openai",
            "--helper-ttl",
            ttl.as_str()
        ]
    );
    assert!(
        interval > 0 && interval <= 240_000,
        "below the token lifetime: {interval}"
    );
    let before = text.clone();
    let r = env.run(&["setup", "codex"]);
    r.success();
    assert!(r.stderr.contains("nothing to change"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(path(&env)).unwrap(), before);
    assert_eq!(backups(&env), 0);
}

#[test]
fn other_settings_and_comments_are_kept_and_a_foreign_provider_needs_force() {
    let (_sb, env) = openai_sandbox_env();
    std::fs::create_dir_all(env.home().join(".codex")).unwrap();
    let original = "# my settings\nmodel = \"gpt-5.6\"\nmodel_provider = \"azure\"\n\n[model_providers.azure]\nname = \"Azure\"\n";
    std::fs::write(path(&env), original).unwrap();
    env.run(&["setup", "codex"])
        .fails(6, "already selects model_provider = \"azure\"");
    assert_eq!(std::fs::read_to_string(path(&env)).unwrap(), original);
    env.run(&["setup", "codex", "--force"]).success();
    let text = std::fs::read_to_string(path(&env)).unwrap();
    assert!(
        text.contains("# my settings") && text.contains("model = \"gpt-5.6\""),
        "{text}"
    );
    assert!(
        text.contains("[model_providers.azure]") && text.contains("[model_providers.keyless.auth]"),
        "{text}"
    );
    assert_eq!(backups(&env), 1);
}

#[test]
fn malformed_toml_is_refused_untouched_and_dry_run_writes_nothing() {
    let (_sb, env) = openai_sandbox_env();
    let r = env.run(&["setup", "codex", "--dry-run"]);
    r.success();
    assert!(r.stdout.contains("[model_providers.keyless.auth]"));
    assert!(!path(&env).exists());
    std::fs::create_dir_all(env.home().join(".codex")).unwrap();
    std::fs::write(path(&env), "model = \n").unwrap();
    env.run(&["setup", "codex", "--force"])
        .fails(6, "is not valid TOML");
    assert_eq!(std::fs::read_to_string(path(&env)).unwrap(), "model = \n");
}

/// Codex runs the auth command without a shell and with its own
/// environment: from an empty one it still prints the same token.
#[test]
fn the_auth_command_works_from_an_empty_environment() {
    let (_sb, env) = openai_sandbox_env();
    let expected = env.run(&["credential", "openai"]);
    expected.success();
    env.run(&["setup", "codex"]).success();
    let v: toml_edit::DocumentMut = std::fs::read_to_string(path(&env))
        .unwrap()
        .parse()
        .unwrap();
    let auth = &v["model_providers"]["keyless"]["auth"];
    let args: Vec<&str> = auth["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let o = std::process::Command::new(auth["command"].as_str().unwrap())
        .args(&args)
        .env_clear()
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), expected.stdout);
}

/// Codex's selected profile outranks the top-level model_provider: one
/// naming another provider is warned about, same rules as Claude Code.
#[test]
fn a_selected_profile_with_another_provider_is_warned_about() {
    let (_sb, env) = openai_sandbox_env();
    std::fs::create_dir_all(env.home().join(".codex")).unwrap();
    std::fs::write(
        path(&env),
        "profile = \"work\"\n\n[profiles.work]\nmodel_provider = \"azure\"\n",
    )
    .unwrap();
    let r = env.run(&["setup", "codex"]);
    r.success();
    assert!(
        r.stderr.contains("warning:") && r.stderr.contains("profile \"work\""),
        "{}",
        r.stderr
    );
    // with the profile on keyless there is nothing to say
    std::fs::write(
        path(&env),
        "profile = \"work\"\n\n[profiles.work]\nmodel_provider = \"keyless\"\n",
    )
    .unwrap();
    let r = env.run(&["setup", "codex"]);
    assert!(!r.stderr.contains("warning:"), "{}", r.stderr);
}

/// Codex re-runs the auth command every `refresh_interval_ms`: at or above
/// the token lifetime its calls meet an expired token until the next run.
/// `auth status` says so; what `setup codex` writes passes.
#[test]
fn status_flags_a_refresh_interval_at_or_above_the_token_lifetime() {
    let sb = Sandbox::start(&["--token-lifetime", "120"]);
    let env = TestEnv::new();
    env.setup_openai_on(&sb);
    env.run(&["credential", "openai"]).success();
    env.run(&["setup", "codex"]).success();
    let r = env.run(&["auth", "status"]);
    assert!(!r.stdout.contains("refresh_interval_ms"), "{}", r.stdout);
    let text = std::fs::read_to_string(path(&env)).unwrap();
    let mut v: toml_edit::DocumentMut = text.parse().unwrap();
    v["model_providers"]["keyless"]["auth"]["refresh_interval_ms"] = toml_edit::value(120_000i64);
    std::fs::write(path(&env), v.to_string()).unwrap();
    let r = env.run(&["auth", "status", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let warned = j["keyless"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("refresh_interval_ms"));
    assert!(warned, "{}", r.stdout);
    // a Codex home named by CODEX_HOME is the one read
    let r = env.run_with(&["auth", "status"], |c| {
        c.env("CODEX_HOME", env.path("another-codex-home"));
    });
    assert!(!r.stdout.contains("refresh_interval_ms"), "{}", r.stdout);
}
