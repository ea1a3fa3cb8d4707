//! The managed configuration on Windows (issue 23), under Wine: keyless.exe
//! finds it in the ProgramData known folder (`C:\ProgramData` in the
//! prefix), not where the `ProgramData` variable points, and its profile is
//! usable. Wine makes up access lists, so the owner rule is not judged
//! here: it is unit-tested (`private_fs::acl::judge_machine`).
//!
//! The prefix is shared by the Windows tests, so the file defines only a
//! profile of its own (no policy) and is put in place atomically.

use super::wine::{WinEnv, win, wine};
use crate::common::*;

#[test]
fn the_known_folder_holds_it_and_the_variable_does_not_move_it() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    let managed = |name: &str| {
        serde_json::json!({"version": 1, "profiles": {name: {"anthropic": {
            "federation_rule_id": RULE, "organization_id": ORG, "base_url": sb.url,
            "identity": {"type": "command", "argv": [
                win(&w.exe()), "sandbox", "identity-token", "--issuer", sb.url]}}}}})
        .to_string()
    };
    let dir = w.drive_c().join("ProgramData/keyless");
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join("config.json.wine-test");
    std::fs::write(&tmp, managed("wine-managed")).unwrap();
    std::fs::rename(&tmp, dir.join("config.json")).unwrap();
    // The prefix outlives this run (the next run and scripts/test-package
    // use it): the file goes when the test ends, passed or not.
    let _remove = RemoveOnDrop(dir.join("config.json"));
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(elsewhere.join("keyless")).unwrap();
    std::fs::write(elsewhere.join("keyless/config.json"), managed("moved")).unwrap();

    let r = env.run_with(&["profile", "list", "--json"], |c| {
        c.env("ProgramData", win(&elsewhere))
            .env("ALLUSERSPROFILE", win(&elsewhere));
    });
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<(&str, bool)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["managed"].as_bool().unwrap()))
        .collect();
    assert_eq!(names, [("wine-managed", true)], "{}", r.stdout);
    let r = env.run(&["--profile", "wine-managed", "credential", "anthropic"]);
    r.success();
    assert!(r.stdout.starts_with("sk-ant-"), "{}", r.stdout);
    env.run(&[
        "--profile",
        "wine-managed",
        "setup",
        "anthropic",
        "--base-url",
        "https://elsewhere.example",
    ])
    .fails(
        6,
        "is set by the managed configuration C:\\ProgramData\\keyless\\config.json",
    );
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
