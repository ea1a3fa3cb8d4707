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

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("PROFILE") != "release" || var("CARGO_CFG_TARGET_OS") != "linux" {
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
