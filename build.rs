//! Release builds of the binary are linked as position-dependent (non-PIE)
//! executables on Linux, so a cache hit, which runs for about a millisecond,
//! does not spend much of it applying the dynamic loader's ~12,000 relative
//! relocations and copying the pages they touch (issue 12).
//!
//! Only the release profile (and those inheriting it: `cargo install`,
//! install.sh, bench.sh) gets the flag, and only as a link argument of the
//! binary: debug and test builds, and every dependency, compile exactly as
//! before. The code stays position-independent; the linker resolves its GOT
//! references statically. Shared libraries, the heap and the stack are still
//! randomised; the binary's own image is not.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
