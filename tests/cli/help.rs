//! Help that teaches (issue 23): a command's own options first and the
//! global ones after, what is required marked, never an empty `[env: X=]`,
//! and the common slips answered with the right command.

use crate::common::*;

fn help(args: &[&str]) -> String {
    let r = TestEnv::new().run(args);
    r.success();
    r.stdout
}

#[test]
fn subcommand_help_lists_its_own_options_then_the_global_ones() {
    for cmd in [
        &["setup", "anthropic", "--help"][..],
        &["exec", "--help"],
        &["credential", "--help"],
        &["profile", "rm", "--help"],
    ] {
        let h = help(cmd);
        let own = h
            .find("\nOptions:")
            .unwrap_or_else(|| panic!("{cmd:?}: {h}"));
        let global = h
            .find("\nGlobal options:")
            .unwrap_or_else(|| panic!("{cmd:?}: {h}"));
        assert!(own < global, "{cmd:?}: {h}");
        assert!(
            h[global..].contains("--profile") && !h[..global].contains("--config-dir"),
            "{cmd:?}: {h}"
        );
        assert!(!h.contains("=]"), "an empty [env: X=] in {cmd:?}: {h}");
    }
}

#[test]
fn help_snapshots() {
    // The variables help must not show are the harness's own (config and
    // cache dirs): they are set for every run.
    // Short help (-h): the layout and each option's line, not the long
    // descriptions other work rewrites.
    for (name, cmd) in [
        ("setup_anthropic", &["setup", "anthropic", "-h"][..]),
        ("exec", &["exec", "-h"]),
        ("profile", &["profile", "-h"]),
    ] {
        insta::assert_snapshot!(name, help(cmd));
    }
}

#[test]
fn what_setup_needs_the_first_time_is_marked() {
    let h = help(&["setup", "anthropic", "--help"]);
    for flag in ["--federation-rule-id", "--organization-id"] {
        let at = h.find(flag).unwrap();
        let line_end = at + h[at..].find("\n      --service").unwrap_or(200).min(200);
        assert!(
            h[at..line_end].contains("required the first time"),
            "{flag}: {h}"
        );
    }
    let h = help(&["setup", "openai", "--help"]);
    assert_eq!(h.matches("required the first time").count(), 2, "{h}");
}

#[test]
fn common_slips_get_the_right_suggestion() {
    let env = TestEnv::new();
    env.run(&["status"]).fails(2, "hint: keyless auth status");
    env.run(&["status", "--json"])
        .fails(2, "hint: keyless auth status --json");
    env.run(&["exec", "python3", "app.py"])
        .fails(2, "hint: keyless exec -- python3 app.py");
    env.run(&["exec", "--type", "anthropic", "python3", "-c", "print(1)"])
        .fails(2, "hint: keyless exec -- python3 -c 'print(1)'");
}

#[test]
fn rule_and_org_flags_have_the_names_people_type() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    for (rule, org) in [("--rule-id", "--org"), ("--rule", "--org-id")] {
        env.run(&[
            "setup",
            "anthropic",
            "--base-url",
            &sb.url,
            rule,
            RULE,
            org,
            ORG,
            "--service-account-id",
            SA,
            "--identity",
            "env",
        ])
        .success();
    }
    let cfg = std::fs::read_to_string(env.config_dir().join("config.json")).unwrap();
    assert!(cfg.contains(RULE) && cfg.contains(ORG), "{cfg}");
}
