//! Issue 10 #7: identity token files are read with bounds. A device that
//! never ends (`/dev/zero`), a FIFO nobody writes, or a file over the 16 KiB
//! limit fails at once with a message naming it; nothing blocks or grows,
//! in `credential` and in `auth status` alike.

use crate::common::*;

#[test]
fn unbounded_or_blocking_identity_files_fail_fast() {
    let env = TestEnv::new();
    let fifo = env.path("token.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let big = env.path("big.jwt");
    std::fs::write(&big, "e".repeat(20 * 1024)).unwrap();
    for (path, needle) in [
        ("/dev/zero", "not a regular file"),
        (fifo.to_str().unwrap(), "not a regular file"),
        (big.to_str().unwrap(), "16 KiB"),
    ] {
        env.setup("http://127.0.0.1:9", &format!("file:{path}"));
        // a blocking read of the FIFO would hang: run_ending fails on that
        let r = env.run_ending(&["credential", "anthropic"], |_| {});
        assert_eq!(r.code, 6, "{path}: {}", r.stderr);
        assert!(
            r.stderr.contains(path) && r.stderr.contains(needle),
            "{path}: {}",
            r.stderr
        );
        let r = env.run_ending(&["auth", "status", "--json"], |_| {});
        assert_eq!(r.code, 1, "{path}: status: {}", r.stderr);
    }
}

#[test]
fn a_symlinked_token_file_is_followed_as_kubernetes_mounts_need() {
    // Projected service account tokens are symlinks (token -> ..data/token).
    let env = TestEnv::new();
    let real = env.path("..data-token");
    std::fs::write(&real, shaped_jwt(300)).unwrap();
    let link = env.path("token");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    env.setup("http://127.0.0.1:9", &format!("file:{}", link.display()));
    let r = env.run(&["auth", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["keyless"]["providers"][0]["identity"]["available"], true,
        "{v:#}"
    );
}

#[test]
fn a_fifo_where_the_scan_looks_does_not_hang_auth_status() {
    let env = TestEnv::new();
    let file = env.jwt_file();
    env.setup("http://127.0.0.1:9", &format!("file:{}", file.display()));
    let project = env.path("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(project.join(".env"))
        .status()
        .unwrap();
    assert!(made.success());
    // a blocking open of the FIFO would hang: run_ending fails on that
    env.run_ending(&["auth", "status", "--json"], |c| {
        c.current_dir(&project);
    });
}
