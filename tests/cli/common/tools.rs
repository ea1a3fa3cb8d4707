//! External tools a test needs: required under CI and `scripts/test`
//! (`KEYLESS_TEST_STRICT`), else the test says it skips.

use std::process::Command;

/// True when the named external tool must exist (CI) — else tests needing it skip.
/// [`require_tool`] for a program found by running `NAME --version`.
pub fn require_program(name: &str) -> bool {
    require_tool(
        name,
        std::process::Command::new(name)
            .arg("--version")
            .output()
            .is_ok(),
    )
}

pub fn require_tool(name: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var_os("CI").is_some() || std::env::var_os("KEYLESS_TEST_STRICT").is_some() {
        panic!(
            "{name} is required (CI or scripts/test); scripts/test installs it as root, else install it first"
        );
    }
    skipping(&format!(
        "{name} is not installed (the README's test command installs it)"
    ));
    false
}

/// Say that (part of) a test is skipped and why, where cargo test shows it.
pub fn skipping(why: &str) {
    // the lints allow printing here only
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipping: {why}");
    }
}

/// The test Python (`KEYLESS_TEST_PYTHON`), when it can import `module`;
/// under strict runs a missing one fails the test.
pub fn python_with(module: &str) -> Option<String> {
    let p = std::env::var("KEYLESS_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let ok = p.as_deref().is_some_and(|p| {
        Command::new(p)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if require_tool(&format!("KEYLESS_TEST_PYTHON with {module}"), ok) {
        p
    } else {
        None
    }
}
