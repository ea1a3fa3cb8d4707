//! `write`'s Unix-only tests: modes and groups.

use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().mode() & 0o777
}

#[test]
fn default_is_0600_and_a_mode_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("d/tok");
    replace(&f, b"a", Access::default()).unwrap();
    assert_eq!(mode(&f), 0o600);
    assert_eq!(mode(&t.path().join("d")), 0o700);
    let shared = Access::parse(Some("0640"), None).unwrap();
    replace(&f, b"b", shared).unwrap();
    assert_eq!(mode(&f), 0o640);
    assert_eq!(fs::read(&f).unwrap(), b"b");
    assert_eq!(fs::read_dir(t.path().join("d")).unwrap().count(), 1);
}

#[test]
fn links_loose_dirs_and_dirs_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let loose = t.path().join("loose");
    fs::create_dir(&loose).unwrap();
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o777)).unwrap();
    let e = replace(&loose.join("t"), b"x", Access::default()).unwrap_err();
    assert!(e.message.contains("other users can write"), "{}", e.message);
    let target = t.path().join("real");
    fs::write(&target, b"old").unwrap();
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = replace(&link, b"x", Access::default()).unwrap_err();
    assert!(e.message.contains("symbolic link"), "{}", e.message);
    assert_eq!(fs::read(&target).unwrap(), b"old");
    let sub = t.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let e = replace(&sub, b"x", Access::default()).unwrap_err();
    assert!(e.message.contains("not a regular file"), "{}", e.message);
}

#[test]
fn modes_that_would_leak_or_let_others_write_are_refused() {
    for m in ["0666", "0700", "0400", "0620", "x"] {
        assert!(Access::parse(Some(m), None).is_err(), "{m}");
    }
    assert_eq!(Access::parse(Some("0644"), None).unwrap().mode, 0o644);
    assert!(Access::parse(None, Some("no-such-group-here")).is_err());
    assert_eq!(Access::parse(None, Some("0")).unwrap().gid, Some(0));
}
