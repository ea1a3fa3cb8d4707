//! Completions complete profile names and `--identity` values, not file
//! names (issue 23): the generated bash script, run by a real bash.

use std::path::Path;

use crate::common::*;

/// COMPREPLY for the command line `words` (the last one being completed).
fn complete(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/keyless.bash");
    let bin_dir = Path::new(BIN).parent().unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let prog = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; _keyless keyless '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .external("bash")
        .args(["-c", &prog])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn profile_names_and_identity_sources_complete() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, "env");
    env.run(&setup_anthropic_args(&[
        "--profile",
        "work",
        "--base-url",
        &sb.url,
        "--identity",
        "env",
    ]))
    .success();
    std::fs::write(env.home().join("wrong-file-name"), "").unwrap();
    assert_eq!(
        complete(&env, &["keyless", "--profile", ""]),
        ["default", "work"]
    );
    assert_eq!(
        complete(&env, &["keyless", "credential", "--profile", "w"]),
        ["work"]
    );
    // The NAME of profile use/show/rm and rename's OLD, not options or files.
    for sub in ["use", "show", "rm", "rename"] {
        assert_eq!(
            complete(&env, &["keyless", "profile", sub, "w"]),
            ["work"],
            "{sub}"
        );
    }
    assert_eq!(
        complete(&env, &["keyless", "profile", "rename", "work", "w"]),
        Vec::<String>::new(),
        "the new name is the user's to choose"
    );
    let ids = complete(&env, &["keyless", "setup", "anthropic", "--identity", "g"]);
    assert_eq!(ids, ["github-actions", "gcp"]);
    let all = complete(&env, &["keyless", "setup", "openai", "--identity", ""]);
    assert!(
        all.contains(&"file:".to_string()) && all.contains(&"command:".to_string()),
        "{all:?}"
    );
}

/// fish, for real: `complete -C` with the generated script loaded.
#[test]
fn fish_completes_profile_names() {
    if !require_tool(
        "fish",
        std::process::Command::new("fish")
            .arg("--version")
            .output()
            .is_ok(),
    ) {
        return;
    }
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, "env");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/keyless.fish");
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in [
        "keyless --profile ",
        "keyless profile use ",
        "keyless profile show d",
    ] {
        let out = env
            .external("fish")
            .args([
                "--no-config",
                "-c",
                &format!("source '{}'; complete -C '{line}'", script.display()),
            ])
            .env("PATH", &path)
            .output()
            .unwrap();
        let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect();
        assert!(got.contains(&"default".to_string()), "{line:?}: {got:?}");
        assert!(
            got.iter().all(|g| !g.starts_with('/')),
            "{line:?}: file names: {got:?}"
        );
    }
}
