//! Defect 8: the served-token record is opened with checks: never a FIFO
//! (it would hang the helper), never a file with another link or writable
//! by others, never in a cache directory that failed the cache's checks.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use crate::common::*;
use crate::fake::{Fake, Reply};

const HELPER: [&str; 4] = ["credential", "anthropic", "--helper-ttl", "240"];

fn ready() -> (Fake, TestEnv, std::path::PathBuf) {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let fake = Fake::start(move |_, _| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Reply::token(&format!("sk-ant-oat01-rec{i:04}_abcdefghijklmnop"), 600)
    });
    let (env, _file) = env_with_file_source(&fake.url);
    env.run(&HELPER).success();
    let record = std::fs::read_dir(env.cache_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "served"))
        .expect("a served record");
    (fake, env, record)
}

fn helper_call(env: &TestEnv) -> Run {
    let mut c = env.cmd();
    c.args(HELPER);
    run_bounded(c, Duration::from_secs(10)).expect("the helper hung on the record")
}

#[test]
fn a_fifo_planted_as_the_record_does_not_hang_the_helper() {
    let (_fake, env, record) = ready();
    std::fs::remove_file(&record).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&record)
            .status()
            .unwrap()
            .success()
    );
    helper_call(&env).success();
}

#[test]
fn a_hard_linked_record_is_neither_read_nor_rewritten() {
    let (_fake, env, record) = ready();
    let other = env.path("elsewhere");
    std::fs::hard_link(&record, &other).unwrap();
    let before = std::fs::read(&other).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    helper_call(&env).success();
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "written through the link"
    );
}

#[test]
fn a_record_writable_by_others_is_neither_read_nor_rewritten() {
    let (_fake, env, record) = ready();
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o666)).unwrap();
    let before = std::fs::read(&record).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    helper_call(&env).success();
    assert_eq!(std::fs::read(&record).unwrap(), before);
}

/// A cache directory that is a symbolic link fails the checks the cache
/// makes before writing (another user could have planted it): the record
/// there is left alone.
#[test]
fn no_record_in_a_cache_directory_the_cache_refuses() {
    let (_fake, env, record) = ready();
    let real = env.path("real-cache");
    std::fs::rename(env.cache_dir(), &real).unwrap();
    std::os::unix::fs::symlink(&real, env.cache_dir()).unwrap();
    let moved = real.join(record.file_name().unwrap());
    let before = std::fs::read(&moved).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    helper_call(&env).success();
    assert_eq!(
        std::fs::read(&moved).unwrap(),
        before,
        "the record was rewritten"
    );
}

/// The record's lock file is not created in a cache directory that fails
/// the cache's checks either: the lock was taken before the directory was
/// judged, leaving `<record>.lock` in a directory another user may own.
#[test]
fn no_record_lock_in_a_cache_directory_the_cache_refuses() {
    let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-lock_abcdefghijklmnop", 600));
    let (env, _file) = env_with_file_source(&fake.url);
    let real = env.path("real-cache");
    std::fs::create_dir_all(&real).unwrap();
    let _ = std::fs::remove_dir_all(env.cache_dir());
    std::os::unix::fs::symlink(&real, env.cache_dir()).unwrap();
    helper_call(&env).success();
    let planted: Vec<_> = std::fs::read_dir(&real)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".served"))
        .collect();
    assert!(
        planted.is_empty(),
        "written in the refused directory: {planted:?}"
    );
}
