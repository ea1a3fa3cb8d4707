//! Defect 7: `setup claude-code --scope project` never follows a link out
//! of the checkout; backups go beside the real target, and the message
//! names the file actually written.

use crate::common::*;

fn project_setup(env: &TestEnv, project: &std::path::Path) -> Run {
    env.run_with(&["setup", "claude-code", "--scope", "project"], |c| {
        c.current_dir(project);
    })
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The project's `.claude/settings.json` made, by `link(target, path)`, the
/// same file as a secret outside the checkout: setup must refuse it with
/// `why`, leave the secret as it was, and copy nothing into the checkout.
fn refused_untouched(link: impl FnOnce(&std::path::Path, &std::path::Path), why: &str) {
    let env = TestEnv::new();
    let secret_dir = env.path("dot-docker");
    std::fs::create_dir_all(&secret_dir).unwrap();
    let docker = secret_dir.join("config.json");
    let original = r#"{"auths":{"registry.example":{"auth":"c2VjcmV0OnNlY3JldA=="}}}"#;
    std::fs::write(&docker, original).unwrap();
    let project = env.path("checkout");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    link(&docker, &project.join(".claude/settings.json"));
    project_setup(&env, &project).fails(6, why);
    assert_eq!(std::fs::read_to_string(&docker).unwrap(), original);
    assert_eq!(
        files_in(&project.join(".claude")),
        ["settings.json"],
        "no backup in the checkout"
    );
    assert_eq!(files_in(&secret_dir), ["config.json"]);
}

#[test]
fn a_settings_link_out_of_the_project_is_refused_untouched() {
    refused_untouched(
        |_, path| std::os::unix::fs::symlink("../../dot-docker/config.json", path).unwrap(),
        "outside the project",
    );
}

/// A hard link is no symbolic link, but the same file outside the project:
/// refused as well, the file untouched and nothing copied into the checkout.
#[test]
fn a_settings_hard_link_to_a_file_outside_the_project_is_refused_untouched() {
    refused_untouched(
        |target, path| std::fs::hard_link(target, path).unwrap(),
        "has another hard link",
    );
}

#[test]
fn a_claude_dir_linked_out_of_the_project_is_refused() {
    let env = TestEnv::new();
    let outside = env.path("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("settings.json"), "{}").unwrap();
    let project = env.path("checkout");
    std::fs::create_dir_all(&project).unwrap();
    std::os::unix::fs::symlink(&outside, project.join(".claude")).unwrap();
    project_setup(&env, &project).fails(6, "outside the project");
    assert_eq!(
        std::fs::read_to_string(outside.join("settings.json")).unwrap(),
        "{}"
    );
    assert_eq!(files_in(&outside), ["settings.json"]);
}

/// At user scope a link (a dotfile manager's) is written through; the
/// backup lands beside the real file and the message names that file.
#[test]
fn a_user_scope_link_is_backed_up_beside_its_target_and_named() {
    let env = TestEnv::new();
    let target = crate::claude_code::linked_user_settings(&env);
    let r = env.run(&["setup", "claude-code"]);
    r.success();
    let real = std::fs::canonicalize(&target).unwrap();
    assert!(
        r.stderr.contains(&real.display().to_string()),
        "{}",
        r.stderr
    );
    assert_eq!(files_in(&env.home().join(".claude")), ["settings.json"]);
    assert_eq!(
        files_in(target.parent().unwrap()).len(),
        2,
        "the backup is beside the target"
    );
}
