//! Running the Windows build under Wine: the binaries tests/windows/build.sh
//! makes (keyless.exe, the ProcessPrng stand-in DLL, the child program), one
//! Wine prefix for the whole test run, and a hermetic environment per test
//! whose paths keyless.exe sees as `Z:\…`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::common::{Run, require_tool};

/// Debian's wine64 loader (not on PATH).
const WINE: &str = "/usr/lib/wine/wine64";

pub struct Wine {
    /// The directory holding keyless.exe, its DLL and the child program.
    pub dir: PathBuf,
    prefix: PathBuf,
}

/// The Wine setup, created once (the prefix's first start takes seconds);
/// None (skipped) without KEYLESS_TEST_WINDOWS_DIR outside CI.
pub fn wine() -> Option<&'static Wine> {
    static W: OnceLock<Option<Wine>> = OnceLock::new();
    W.get_or_init(|| {
        let dir = std::env::var_os("KEYLESS_TEST_WINDOWS_DIR").map(PathBuf::from);
        let ok = dir
            .as_ref()
            .is_some_and(|d| d.join("keyless.exe").is_file() && Path::new(WINE).is_file());
        if !require_tool(
            "the Windows build under Wine (KEYLESS_TEST_WINDOWS_DIR from tests/windows/build.sh, and wine64)",
            ok,
        ) {
            return None;
        }
        let w = Wine {
            dir: dir.unwrap(),
            prefix: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wine-prefix"),
        };
        // The first start creates the prefix; do it once, before tests race.
        let o = w.command(&w.exe()).arg("--version").output().unwrap();
        assert!(
            o.status.success(),
            "keyless.exe --version under Wine: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Some(w)
    })
    .as_ref()
}

/// `path` as a Windows program under Wine sees it (the `Z:` drive is `/`).
pub fn win(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

impl Wine {
    pub fn exe(&self) -> PathBuf {
        self.dir.join("keyless.exe")
    }
    /// Wine's `C:` drive.
    pub fn drive_c(&self) -> PathBuf {
        self.prefix.join("drive_c")
    }
    pub fn child(&self) -> PathBuf {
        self.dir.join("keyless-test-child.exe")
    }

    /// `program` (a Windows .exe) under Wine, with a clean environment.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(WINE);
        c.arg(program)
            .env_clear()
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            // no Mono or Gecko installer at the prefix's creation
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .stdin(Stdio::null());
        c
    }
}

/// A hermetic keyless.exe environment: its own config and cache dirs.
pub struct WinEnv {
    pub root: tempfile::TempDir,
    pub wine: &'static Wine,
}

impl WinEnv {
    pub fn new(wine: &'static Wine) -> Self {
        let root = tempfile::Builder::new()
            .prefix("keyless-wine-")
            .tempdir()
            .unwrap();
        WinEnv { root, wine }
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// keyless.exe with KEYLESS_CONFIG_DIR and KEYLESS_CACHE_DIR here.
    pub fn cmd(&self) -> Command {
        let mut c = self.wine.command(&self.wine.exe());
        c.env("KEYLESS_CONFIG_DIR", win(&self.path("config")))
            .env("KEYLESS_CACHE_DIR", win(&self.path("cache")))
            .env("KEYLESS_NO_METADATA_PROBE", "true");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, |_| {})
    }

    pub fn run_with(&self, args: &[&str], f: impl FnOnce(&mut Command)) -> Run {
        let mut c = self.cmd();
        c.args(args);
        f(&mut c);
        let o: Output = c.output().unwrap();
        Run::from(o)
    }

    /// `setup anthropic` against a (Linux-side) sandbox at `url`, whose
    /// identity command is keyless.exe's own `sandbox identity-token`.
    pub fn setup_sandbox(&self, url: &str) {
        let identity = format!(
            "command:'{}' sandbox identity-token --issuer {url}",
            win(&self.wine.exe())
        );
        self.run(&[
            "setup",
            "anthropic",
            "--base-url",
            url,
            "--federation-rule-id",
            crate::common::RULE,
            "--organization-id",
            crate::common::ORG,
            "--service-account-id",
            crate::common::SA,
            "--workspace-id",
            crate::common::WS,
            "--identity",
            &identity,
        ])
        .success();
    }
}

/// Linux pids whose command line contains `needle` (Wine runs each Windows
/// process as a Linux process whose command line names the .exe and its
/// arguments).
pub fn pids_with(needle: &str) -> Vec<u32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            v.push(pid);
        }
    }
    v
}
