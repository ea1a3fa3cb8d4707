//! `keyless version`: what was shipped (issue 19). The release side (a
//! binary from scripts/package says `release: true`, its commit and the
//! musl target) is checked by scripts/test-package on the artifacts.

use crate::common::*;

#[test]
fn version_json_names_version_commit_target_date_and_not_a_release() {
    let env = TestEnv::new();
    let r = env.run(&["version", "--json"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let target = v["target"].as_str().unwrap();
    assert!(
        target.starts_with(std::env::consts::ARCH) && target.contains(std::env::consts::OS),
        "target {target}"
    );
    let commit = v["commit"].as_str().unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() >= 40 && commit[..40].bytes().all(|b| b.is_ascii_hexdigit())),
        "commit {commit}"
    );
    let date = v["build_date"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339).is_ok(),
        "build date {date}"
    );
    // Test builds are dev builds: never mistaken for a release artifact.
    assert_eq!(v["release"], false);
    assert_eq!(v["profile"], "debug");
    assert_eq!(v.as_object().unwrap().len(), 6, "{v}");
}

#[test]
fn version_text_and_dash_dash_version_agree() {
    let env = TestEnv::new();
    let text = env.run(&["version"]);
    text.success();
    let json = env.run(&["version", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let want = format!(
        "keyless {}\ncommit:     {}\ntarget:     {}\nbuild date: {}\nbuild:      not a release (debug build)\n",
        v["version"].as_str().unwrap(),
        v["commit"].as_str().unwrap(),
        v["target"].as_str().unwrap(),
        v["build_date"].as_str().unwrap()
    );
    assert_eq!(text.stdout, want);
    let short = env.run(&["--version"]);
    short.success();
    assert_eq!(
        short.stdout,
        format!("keyless {}\n", env!("CARGO_PKG_VERSION"))
    );
}
