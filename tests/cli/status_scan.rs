//! `auth status`'s scan for static keys: planted keys are found by file and
//! line and never printed, and the upward walk stays bounded.

use crate::status::StatusEnv;

#[test]
fn the_scan_finds_planted_keys_and_never_prints_them() {
    let s = StatusEnv::new();
    let home = s.env.home();
    let secret = "sk-ant-api03-PLANTED-SECRET";
    let plant = |rel: &str, text: String| {
        let p = home.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    plant(
        ".bashrc",
        format!("# comment {secret}\nalias ll=ls\nexport ANTHROPIC_API_KEY={secret}\n"),
    );
    plant(".bash_profile", format!("ANTHROPIC_API_KEY='{secret}'\n"));
    plant(
        ".profile",
        format!("\n\nexport ANTHROPIC_AUTH_TOKEN={secret}\n"),
    );
    plant(".zshrc", format!("export ANTHROPIC_API_KEY=\"{secret}\"\n"));
    plant(".zprofile", format!("KEY={secret}\n"));
    plant(".zshenv", format!("setenv ANTHROPIC_API_KEY {secret}\n"));
    plant(
        ".config/fish/config.fish",
        format!("set -gx ANTHROPIC_API_KEY {secret}\n"),
    );
    plant(
        ".config/powershell/Microsoft.PowerShell_profile.ps1",
        format!("$env:ANTHROPIC_API_KEY = '{secret}'\n"),
    );
    plant(
        ".claude/settings.json",
        format!("{{\n  \"env\": {{\n    \"ANTHROPIC_API_KEY\": \"{secret}\"\n  }}\n}}\n"),
    );
    // the project and a subdirectory of it
    let sub = s.project.join("app/src");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        s.project.join(".env"),
        format!("OTHER=1\nANTHROPIC_API_KEY={secret}\n"),
    )
    .unwrap();
    std::fs::write(
        s.project.join("app/.envrc"),
        format!("export ANTHROPIC_API_KEY={secret}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(s.project.join(".claude")).unwrap();
    std::fs::write(
        s.project.join(".claude/settings.local.json"),
        format!("{{\"apiKeyHelper\": \"echo {secret}\"}}\n"),
    )
    .unwrap();
    let r = s.env.run_with(&["auth", "status"], |c| {
        c.current_dir(&sub);
    });
    assert_eq!(
        r.code, 0,
        "static keys in files alone do not shadow: {}",
        r.stderr
    );
    assert!(!r.stdout.contains("PLANTED-SECRET") && !r.stderr.contains("PLANTED-SECRET"));
    for line in [
        "~/.bashrc:3  sets ANTHROPIC_API_KEY",
        "~/.bash_profile:1  sets ANTHROPIC_API_KEY",
        "~/.profile:3  sets ANTHROPIC_AUTH_TOKEN",
        "~/.zshrc:1  sets ANTHROPIC_API_KEY",
        "~/.zprofile:1  contains a static sk-ant-api key",
        "~/.zshenv:1  sets ANTHROPIC_API_KEY",
        "~/.config/fish/config.fish:1  sets ANTHROPIC_API_KEY",
        "~/.config/powershell/Microsoft.PowerShell_profile.ps1:1  sets ANTHROPIC_API_KEY",
        "~/.claude/settings.json:3  sets ANTHROPIC_API_KEY in its env block",
        "project/.env:2  sets ANTHROPIC_API_KEY",
        "project/app/.envrc:1  sets ANTHROPIC_API_KEY",
        "project/.claude/settings.local.json:1  apiKeyHelper prints a static sk-ant-api key",
    ] {
        assert!(
            r.stdout.contains(line),
            "missing {line:?} in:\n{}",
            r.stdout
        );
    }
    assert!(!r.stdout.contains(".bashrc:1"), "comments are skipped");
}

#[test]
fn the_scan_stays_bounded_in_a_deep_tree() {
    let s = StatusEnv::new();
    // no .git on the way: the walk must stop by itself
    let top = s.env.path("deep");
    let mut d = top.clone();
    for i in 0..200 {
        d = d.join(format!("d{i}"));
    }
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(top.join(".env"), "ANTHROPIC_API_KEY=x\n").unwrap();
    std::fs::write(d.join(".env"), "ANTHROPIC_API_KEY=x\n").unwrap();
    let r = s.env.run_ending(&["auth", "status", "--json"], |c| {
        c.current_dir(&d);
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let found: Vec<&str> = v["static_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        found.len(),
        1,
        "only the nearest levels are read: {found:?}"
    );
    assert!(found[0].ends_with("d199/.env"));
}

#[test]
fn a_static_key_in_claude_codes_settings_shadows_its_keyless_helper() {
    let s = StatusEnv::new();
    let secret = "sk-ant-api03-SHADOWING-SECRET";
    s.env.run(&["setup", "claude-code"]).success();
    let path = s.env.home().join(".claude/settings.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["env"]["ANTHROPIC_API_KEY"] = secret.into();
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let r = s.env.run_with(&["auth", "status"], |c| {
        c.current_dir(&s.project);
    });
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("~/.claude/settings.json sets ANTHROPIC_API_KEY"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("outranks"), "{}", r.stdout);
    assert!(!r.stdout.contains("SHADOWING-SECRET") && !r.stderr.contains("SHADOWING-SECRET"));
    let r = s.env.run_with(&["auth", "status", "--json"], |c| {
        c.current_dir(&s.project);
    });
    crate::status::validate(&r.stdout);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["ok"], false);
    assert!(
        j["claude_code"]["note"]
            .as_str()
            .unwrap()
            .contains("ANTHROPIC_API_KEY")
    );

    // the key Claude Code's /login stored, in ~/.claude.json
    let s = StatusEnv::new();
    s.env.run(&["setup", "claude-code"]).success();
    std::fs::write(
        s.env.home().join(".claude.json"),
        format!("{{\n  \"primaryApiKey\": \"{secret}\"\n}}\n"),
    )
    .unwrap();
    let r = s.env.run_with(&["auth", "status"], |c| {
        c.current_dir(&s.project);
    });
    // it ranks below apiKeyHelper in Claude Code: found, but not shadowing
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("~/.claude.json:2  holds a primaryApiKey"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("SHADOWING-SECRET") && !r.stderr.contains("SHADOWING-SECRET"));
}
