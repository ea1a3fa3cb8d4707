//! Unix modes of private files and lock files.
use super::*;
use std::os::unix::fs::MetadataExt;

#[test]
fn atomic_write_is_0600_and_dir_0700() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("a/b");
    ensure_dir(&dir).unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    let f = dir.join("x.json");
    write_atomic(&f, b"{}").unwrap();
    assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
    write_atomic(&f, b"{\"a\":1}").unwrap();
    assert_eq!(fs::read(&f).unwrap(), b"{\"a\":1}");
    // no temporary files left behind
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn loose_dir_is_tightened_and_symlink_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    ensure_dir(&dir).unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    let link = t.path().join("l");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    assert!(ensure_dir(&link).unwrap_err().contains("symbolic link"));
}

#[test]
fn read_private_refuses_symlinks_and_loose_files() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("f");
    fs::write(&f, b"x").unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        read_private(&f, 0o077, 10).unwrap(),
        Read0600::Unsafe(Unsafe::Loose(_))
    ));
    assert!(matches!(
        read_private(&f, 0o022, 10).unwrap(),
        Read0600::Data(_)
    ));
    let l = t.path().join("l");
    std::os::unix::fs::symlink(&f, &l).unwrap();
    assert!(matches!(
        read_private(&l, 0o022, 10).unwrap(),
        Read0600::Unsafe(Unsafe::Symlink)
    ));
    assert!(matches!(
        read_private(&t.path().join("none"), 0o022, 10).unwrap(),
        Read0600::Missing
    ));
}

#[test]
fn open_lock_refuses_links_others_files_and_tightens_loose_ones() {
    let t = tempfile::tempdir().unwrap();
    let l = t.path().join("a.lock");
    open_lock(&l).unwrap().unwrap();
    assert_eq!(fs::metadata(&l).unwrap().mode() & 0o777, 0o600);
    fs::set_permissions(&l, fs::Permissions::from_mode(0o664)).unwrap();
    open_lock(&l).unwrap().unwrap();
    assert_eq!(fs::metadata(&l).unwrap().mode() & 0o777, 0o600);
    let link = t.path().join("b.lock");
    std::os::unix::fs::symlink(t.path().join("elsewhere"), &link).unwrap();
    assert_eq!(open_lock(&link).unwrap().unwrap_err(), Unsafe::Symlink);
    assert!(!t.path().join("elsewhere").exists());
    let dir = t.path().join("c.lock");
    fs::create_dir(&dir).unwrap();
    assert!(
        open_lock(&dir).is_err(),
        "a directory cannot be opened for writing"
    );
}
