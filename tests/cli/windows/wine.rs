//! Running the Windows build under Wine: the binaries tests/windows/build.sh
//! makes (keyless.exe, the ProcessPrng stand-in DLL, the child program), one
//! Wine prefix for the whole test run, and a hermetic environment per test
//! whose paths keyless.exe sees as `Z:\…`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
        w.install_browser();
        w.own_documents();
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

    /// The Windows user's profile folder (`%USERPROFILE%`), as a Linux path.
    pub fn user_dir(&self) -> PathBuf {
        let users = self.drive_c().join("users");
        std::fs::read_dir(&users)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n != "Public"))
            .expect("the prefix has a user")
    }

    /// Wine links the user's Documents to the Unix home; a folder inside
    /// the prefix instead, so that a test's PowerShell profile stays there.
    fn own_documents(&self) {
        let docs = self.user_dir().join("Documents");
        if docs.is_symlink() {
            std::fs::remove_file(&docs).unwrap();
        }
        std::fs::create_dir_all(&docs).unwrap();
    }

    /// `wine reg ARGS…`, which must succeed.
    pub fn reg(&self, args: &[&str]) {
        let o = self.command(Path::new("reg")).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "wine reg {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// The log of every URL Wine's browser was given, one a line.
    pub fn browser_log(&self) -> PathBuf {
        self.prefix.with_file_name("wine-browser.log")
    }

    /// The browser every test's Windows programs get: `ShellExecuteW` on an
    /// http(s) URL runs Wine's winebrowser, which runs the Unix programs
    /// named in `HKCU\Software\Wine\WineBrowser\Browsers`, here a script
    /// that logs the URL ([`Wine::browser_log`]; URLs name each test's own
    /// port, so tests share it) and completes a sign-in at the test OIDC
    /// provider with tests/oidc's headless Chromium.
    fn install_browser(&self) {
        let script = self.prefix.with_file_name("wine-browser.sh");
        // A fresh log per run: a port of an earlier run may come again.
        let _ = std::fs::remove_file(self.browser_log());
        let oidc = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/browser.mjs");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{log}'\ncase \"$1\" in\n  *response_type=code*) exec env PATH=/usr/bin:/bin KEYLESS_TEST_USER=alice node '{oidc}' \"$1\" ;;\nesac\n",
                log = self.browser_log().display(),
                oidc = oidc.display(),
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        self.reg(&[
            "add",
            "HKCU\\Software\\Wine\\WineBrowser",
            "/v",
            "Browsers",
            "/t",
            "REG_SZ",
            "/f",
            "/d",
            script.to_str().unwrap(),
        ]);
    }

    /// Has Wine's browser been given a URL containing `needle`? Waits for
    /// it up to `within` (the browser starts without keyless waiting).
    pub fn browser_got(&self, needle: &str, within: std::time::Duration) -> bool {
        let t = std::time::Instant::now();
        loop {
            let log = std::fs::read_to_string(self.browser_log()).unwrap_or_default();
            if log.lines().any(|l| l.contains(needle)) {
                return true;
            }
            if t.elapsed() >= within {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// `program` (a Windows .exe) under Wine, with a clean environment and
    /// without address randomisation (see [`unrandomised`]).
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(WINE);
        use std::os::unix::process::CommandExt;
        // SAFETY: personality(2) is one system call, safe between fork and
        // exec. Where a seccomp policy forbids it, Wine runs as it would.
        unsafe {
            c.pre_exec(|| unrandomise().map(|_| ()));
        }
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

/// Tests share one prefix: most only read its user's settings (a
/// [`WinEnv::new`] holds this shared); one that changes them (the registry's
/// environment, the user's profile folder) holds it alone
/// ([`WinEnv::exclusive`]). A test holds one WinEnv at a time.
static PREFIX_USER: RwLock<()> = RwLock::new(());

enum Hold {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Alone(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

/// A hermetic keyless.exe environment: its own config and cache dirs.
pub struct WinEnv {
    pub root: tempfile::TempDir,
    pub wine: &'static Wine,
    _hold: Hold,
}

impl WinEnv {
    pub fn new(wine: &'static Wine) -> Self {
        let hold = Hold::Shared(PREFIX_USER.read().unwrap_or_else(|e| e.into_inner()));
        Self::holding(wine, hold)
    }

    /// A WinEnv while no other test's runs: for a test that changes the
    /// prefix's user (and undoes it before it drops this).
    pub fn exclusive(wine: &'static Wine) -> Self {
        let hold = Hold::Alone(PREFIX_USER.write().unwrap_or_else(|e| e.into_inner()));
        Self::holding(wine, hold)
    }

    fn holding(wine: &'static Wine, hold: Hold) -> Self {
        let root = tempfile::Builder::new()
            .prefix("keyless-wine-")
            .tempdir()
            .unwrap();
        WinEnv {
            root,
            wine,
            _hold: hold,
        }
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// keyless.exe with KEYLESS_CONFIG_DIR and KEYLESS_CACHE_DIR here.
    pub fn cmd(&self) -> Command {
        let mut c = self.wine.command(&self.wine.exe());
        c.env("KEYLESS_CONFIG_DIR", win(&self.path("config")))
            .env("KEYLESS_CACHE_DIR", win(&self.path("cache")))
            .env("KEYLESS_NO_METADATA_PROBE", "true")
            .env("KEYLESS_SECRET_STORE", "file");
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

    /// `setup issuer` for the (Linux-side) identity provider at `issuer`,
    /// client `keyless-cli`; the secrets go to the file store (Wine has no
    /// Credential Manager to prove).
    pub fn setup_issuer(&self, issuer: &str) {
        self.run(&[
            "setup",
            "issuer",
            "--issuer",
            issuer,
            "--client-id",
            "keyless-cli",
        ])
        .success();
    }

    /// `setup anthropic` against a (Linux-side) sandbox at `url`, whose
    /// identity command is keyless.exe's own `sandbox identity-token`,
    /// quoted the Windows way.
    pub fn setup_sandbox(&self, url: &str) {
        self.setup_sandbox_with(
            url,
            &format!("\"{}\" sandbox identity-token", win(&self.wine.exe())),
        );
    }

    /// `setup anthropic` against the sandbox at `url`, with the identity
    /// command `command` (its `--issuer` added).
    pub fn setup_sandbox_with(&self, url: &str, command: &str) {
        let identity = format!("command:{command} --issuer {url}");
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

/// Turn address randomisation off for this process and what it starts:
/// Ok(false) where a seccomp policy forbids it (EPERM: a container's
/// default profile).
///
/// Debian's wine64 has no preloader: its loader sits at 0x7d000000, and
/// Wine then needs 0x7ff00000–0x7fff0000 (the shared user data) free.
/// Linux 6.9 and later place a 64-bit program's heap anywhere in the
/// 1 GiB after its end, so about one Wine process in a thousand found its
/// heap there and died at start ("failed to map the shared user data:
/// c0000018", printed only at WINEDEBUG=err). keyless.exe starting such a
/// process got "Internal error" from CreateProcess (CI, stop 29). Without
/// randomisation the heap follows the loader, far below.
fn unrandomise() -> std::io::Result<bool> {
    // SAFETY: personality(2) reads or sets this process's execution domain.
    let now = unsafe { libc::personality(0xffff_ffff) };
    if now == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::personality((now | libc::ADDR_NO_RANDOMIZE) as _) } == -1 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EPERM) => Ok(false),
            _ => Err(e),
        };
    }
    Ok(true)
}

/// Whether this machine lets the suite's Wine processes run without
/// address randomisation ([`unrandomise`] in a child of its own).
pub fn can_unrandomise() -> bool {
    static CAN: OnceLock<bool> = OnceLock::new();
    *CAN.get_or_init(|| {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new("/bin/true");
        // SAFETY: as in Wine::command.
        unsafe {
            c.pre_exec(|| match unrandomise() {
                Ok(true) => Ok(()),
                Ok(false) => Err(std::io::ErrorKind::PermissionDenied.into()),
                Err(e) => Err(e),
            });
        }
        c.status().is_ok_and(|s| s.success())
    })
}

/// Whether process `pid` runs without address randomisation, as every Wine
/// process of the suite does where [`can_unrandomise`], and the processes
/// they start inherit; None where its personality cannot be read (Yama's
/// ptrace scope hides a process that is not this one's descendant).
pub fn unrandomised(pid: u32) -> Option<bool> {
    let p = std::fs::read_to_string(format!("/proc/{pid}/personality")).ok()?;
    let p = u32::from_str_radix(p.trim(), 16).ok()?;
    Some(p & libc::ADDR_NO_RANDOMIZE as u32 != 0)
}
