//! Generated files are fresh, and install.sh --from-source installs everything
//! (the release path of install.sh: scripts/test-package).

use std::path::Path;

use crate::common::*;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn completions_and_man_pages_are_fresh() {
    let bless = std::env::var_os("KEYLESS_BLESS").is_some();
    let mut stale = Vec::new();
    for (rel, bytes) in keyless::generated::files() {
        let path = repo().join(&rel);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            } else {
                stale.push(rel);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run KEYLESS_BLESS=1 cargo test assets"
    );
}

#[test]
fn completions_command_prints_the_script() {
    let env = TestEnv::new();
    let r = env.run(&["completions", "bash"]);
    r.success();
    let committed = std::fs::read_to_string(repo().join("completions/keyless.bash")).unwrap();
    assert!(
        r.stdout == committed,
        "`keyless completions bash` differs from completions/keyless.bash"
    );
}

#[test]
fn install_sh_from_source_installs_into_a_prefix_idempotently() {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path();
    for _ in 0..2 {
        let out = std::process::Command::new("bash")
            .arg(repo().join("install.sh"))
            .args(["--from-source", "--prefix", p.to_str().unwrap()])
            .current_dir(repo())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("PATH"), "the PATH hint: {stderr}");
        assert!(
            stderr.contains("Rust >= 1.89") && stderr.contains("C compiler"),
            "what building needs, said up front: {stderr}"
        );
        // The prefix is not on PATH here: the end message gives a command
        // that works as printed (issue 23).
        let try_it = format!("  {}/bin/keyless demo", p.display());
        assert!(stderr.lines().any(|l| l == try_it), "{stderr}");
    }
    let bin = p.join("bin/keyless");
    let v = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("keyless "));
    for f in [
        "share/bash-completion/completions/keyless",
        "share/zsh/site-functions/_keyless",
        "share/fish/vendor_completions.d/keyless.fish",
        "share/keyless/completions/_keyless.ps1",
        "share/keyless/completions/keyless.elv",
        "share/man/man1/keyless.1",
        "share/man/man1/keyless-credential.1",
        "share/man/man1/keyless-setup-anthropic.1",
        "share/keyless/auth-status.schema.json",
    ] {
        let installed = p.join(f);
        assert!(installed.is_file(), "{f}");
    }
    assert_eq!(
        std::fs::read(p.join("share/man/man1/keyless.1")).unwrap(),
        std::fs::read(repo().join("man/keyless.1")).unwrap()
    );
}
