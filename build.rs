//! Release builds of the binary on Linux are linked for a fast start, since
//! a cache hit runs for about a millisecond and most of it was the dynamic
//! loader's (issue 12):
//!
//! - position-dependent (`-no-pie`): no ~12,000 relative relocations to
//!   apply and no pages copied for them. The code stays position-independent;
//!   the linker resolves its GOT references statically. Shared libraries, the
//!   heap and the stack are still randomised; the binary's own image is not.
//! - with GNU libc, the unwinder from libgcc_eh.a instead of libgcc_s.so.1
//!   (when the C compiler has it): one shared library fewer to map. rustc
//!   names `-lgcc_s` itself, so a linker script of that name in OUT_DIR,
//!   searched first, points it at the archive. (libm goes too: main.rs
//!   defines the one function keyless takes from it.)
//!
//! Only the release profile (and those inheriting it: `cargo install`,
//! install.sh, bench.sh) gets these, and only as link arguments: debug and
//! test builds, and every dependency, compile exactly as before.
//!
//! It also records what `keyless version` reports (issue 19): the commit,
//! the target, the build date and whether this is a release build. The
//! inputs come from `scripts/package` (`KEYLESS_BUILD_COMMIT`,
//! `SOURCE_DATE_EPOCH`, `KEYLESS_BUILD_RELEASE=1`) so that two builds of one
//! commit are byte-identical; a plain `cargo build` asks git for the commit
//! and takes the current time.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    build_info(&var);
    if var("PROFILE") != "release" || var("CARGO_CFG_TARGET_OS") != "linux" {
        return;
    }
    // musl's static binaries: scripts/package asks rustc for a static
    // relocation model, which links crt1.o and `-static -no-pie` itself;
    // `-no-pie` added to rustc's default static-pie link would pair the
    // self-relocating rcrt1.o with a fixed-address image and crash at start.
    if var("CARGO_CFG_TARGET_ENV") == "musl" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");
    if var("CARGO_CFG_TARGET_ENV") == "gnu" && has_gcc_eh() {
        let dir = PathBuf::from(var("OUT_DIR")).join("static-unwinder");
        std::fs::create_dir_all(&dir).expect("create OUT_DIR/static-unwinder");
        std::fs::write(dir.join("libgcc_s.so"), "INPUT(-lgcc_eh)\n")
            .expect("write the libgcc_s linker script");
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}

/// Does the C compiler (the linker rustc drives) have libgcc_eh.a?
fn has_gcc_eh() -> bool {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    std::process::Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|p| PathBuf::from(p.trim()))
        .is_some_and(|p| p.is_absolute() && p.is_file())
}

/// The `KEYLESS_BUILD_*` values `keyless version` prints (env_vars.rs reads them).
fn build_info(var: &dyn Fn(&str) -> String) {
    for input in [
        "KEYLESS_BUILD_COMMIT",
        "KEYLESS_BUILD_RELEASE",
        "SOURCE_DATE_EPOCH",
    ] {
        println!("cargo:rerun-if-env-changed={input}");
    }
    let commit = match var("KEYLESS_BUILD_COMMIT") {
        c if !c.is_empty() => c,
        _ => git_commit().unwrap_or_else(|| "unknown".into()),
    };
    let epoch = match var("SOURCE_DATE_EPOCH").trim().parse::<u64>() {
        Ok(e) => e,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let release = var("KEYLESS_BUILD_RELEASE") == "1" && var("PROFILE") == "release";
    println!("cargo:rustc-env=KEYLESS_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=KEYLESS_BUILD_EPOCH={epoch}");
    println!("cargo:rustc-env=KEYLESS_BUILD_TARGET={}", var("TARGET"));
    println!("cargo:rustc-env=KEYLESS_BUILD_PROFILE={}", var("PROFILE"));
    println!("cargo:rustc-env=KEYLESS_BUILD_RELEASE={release}");
}

/// HEAD's commit, when built from a git checkout with git on PATH; the build
/// script runs again when HEAD or its branch moves.
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    for path in watched.into_iter().flatten() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        if path.is_file() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Some(commit)
}
