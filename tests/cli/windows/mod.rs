//! The Windows build (x86_64-pc-windows-gnu, cross-built with mingw-w64 by
//! tests/windows/build.sh) run under Wine 8.0, against a `keyless sandbox`
//! on the Linux side (Wine programs share the machine's loopback).
//!
//! What Wine cannot show is unit-tested where the code is built, and left
//! to the Windows runner of the release workflow for the full proof:
//! owner-only DACLs being enforced against another account
//! (`private_fs::acl`), the Credential Manager (`secret_store`), and
//! console control events (`handoff::supervise::console_event_is_childs`).

mod agent;
mod managed;
mod wine;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;
use crate::fake_idp::FakeIdp;
use wine::{WinEnv, pids_with, win, wine};

/// Wait for the child program's environment file; its variables.
fn child_env(out: &Path, within: Duration) -> HashMap<String, String> {
    let t = Instant::now();
    while !out.exists() {
        assert!(
            t.elapsed() < within,
            "the child never wrote {}",
            out.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_ascii_uppercase(), v.to_string()))
        .collect()
}

/// A Windows path the child printed, as a Linux path.
fn linux_path(w: &Wine, p: &str) -> PathBuf {
    let rest = |r: &str| r.replace('\\', "/");
    if let Some(r) = p.strip_prefix("Z:").or_else(|| p.strip_prefix("z:")) {
        PathBuf::from(rest(r))
    } else if let Some(r) = p.strip_prefix("C:\\").or_else(|| p.strip_prefix("c:\\")) {
        w.drive_c().join(rest(r))
    } else {
        panic!("not a path under Wine's drives: {p}")
    }
}

use wine::Wine;

/// The text of every sandbox Messages reply.
const SANDBOX_REPLY: &str = "Hello from the keyless sandbox.";

#[test]
fn demo_runs_end_to_end() {
    let Some(w) = wine() else { return };
    let env = WinEnv::new(w);
    let r = env.run(&["demo"]);
    r.success();
    assert!(r.stdout.contains(SANDBOX_REPLY), "{}", r.stdout);
}

/// setup + credential against the Linux-side sandbox; then `auth status
/// --json` sees the profile and the cached token.
#[test]
fn setup_credential_and_auth_status() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let first = env.run(&["credential", "anthropic"]);
    first.success();
    assert!(
        first.stdout.starts_with("sk-ant-oat01-"),
        "{}",
        first.stdout
    );
    let again = env.run(&["credential", "anthropic"]);
    assert_eq!(
        again.success().stdout,
        first.stdout,
        "served from the cache"
    );
    assert_eq!(sb.history()["exchanges"], 1);
    let status = env.run(&["auth", "status", "--json"]);
    status.success();
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(v.is_object(), "{}", status.stdout);
    assert!(
        status.stdout.contains("anthropic"),
        "the profile's provider is reported: {}",
        status.stdout
    );
}

/// An identity command named by a bare Windows path keeps its backslashes
/// (`command:C:\x` was split by POSIX rules and became `C:x`): the
/// command line is split by Windows' rules on Windows.
#[test]
fn identity_command_with_a_bare_windows_path() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    let exe = win(&w.exe());
    assert!(!exe.contains(' '), "{exe}");
    env.setup_sandbox_with(&sb.url, &format!("{exe} sandbox identity-token"));
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert!(r.stdout.starts_with("sk-ant-oat01-"), "{}", r.stdout);
    let show = env.run(&["auth", "status", "--json"]);
    assert!(
        show.success().stdout.contains(&exe.replace('\\', "\\\\")),
        "the path is shown whole: {}",
        show.stdout
    );
}

/// The served path's locks under Windows' mandatory locking: 16 callers at
/// once on a cold cache cost one exchange and all print the same token.
#[test]
fn sixteen_cold_callers_cost_one_exchange() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let kids: Vec<_> = (0..16)
        .map(|_| {
            let mut c = env.cmd();
            c.args(["credential", "anthropic"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    let runs: Vec<Run> = kids
        .into_iter()
        .map(|k| Run::from(k.wait_with_output().unwrap()))
        .collect();
    for r in &runs {
        r.success();
        assert_eq!(r.stdout, runs[0].stdout);
    }
    assert_eq!(sb.history()["exchanges"], 1, "one exchange for 16 callers");
}

/// `env` speaks PowerShell by default on Windows, and cmd on request.
#[test]
fn env_writes_powershell_by_default_and_cmd_on_request() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let ps = env.run(&["env"]);
    ps.success();
    assert!(
        ps.stdout
            .contains("$env:ANTHROPIC_AUTH_TOKEN = 'sk-ant-oat01-"),
        "{}",
        ps.stdout
    );
    assert!(
        ps.stdout
            .contains("Remove-Item -Path Env:ANTHROPIC_API_KEY")
    );
    let cmd = env.run(&["env", "--shell", "cmd"]);
    cmd.success();
    assert!(
        cmd.stdout
            .contains("set \"ANTHROPIC_AUTH_TOKEN=sk-ant-oat01-"),
        "{}",
        cmd.stdout
    );
    assert!(cmd.stdout.contains("set \"ANTHROPIC_API_KEY=\""));
}

/// Plain `exec`: the child's exit code comes back, the token is in its
/// environment and the static key is not; a missing program is 127.
#[test]
fn exec_returns_the_childs_exit_code() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let out = env.path("env.txt");
    let child = win(&w.child());
    let r = env.run_with(&["exec", "--", &child, &win(&out), "3"], |c| {
        c.env("ANTHROPIC_API_KEY", "sk-ant-api03-FAKE");
    });
    assert_eq!(r.code, 3, "{}", r.stderr);
    let vars = child_env(&out, Duration::ZERO);
    assert!(vars["ANTHROPIC_AUTH_TOKEN"].starts_with("sk-ant-oat01-"));
    assert!(!vars.contains_key("ANTHROPIC_API_KEY"));
    env.run(&["exec", "--", "Z:\\no\\such\\program.exe"])
        .fails(127, "command not found");
}

/// `exec --refresh`: the child reads a private SDK profile that keyless
/// keeps current; a nearly spent cached token is replaced before the child
/// starts; the exit code comes back.
#[test]
fn exec_refresh_keeps_the_profile_current() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&["--token-lifetime", "60"]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    env.run(&["credential", "anthropic"]).success();
    let stale = age_cache(&env.path("cache"), 40);
    let out = env.path("env.txt");
    let done = env.path("done");
    let mut k = env.cmd();
    k.args(["exec", "--refresh", "--"])
        .args([win(&w.child()), win(&out), "4".into(), win(&done)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let k = k.spawn().unwrap();
    let vars = child_env(&out, Duration::from_secs(60));
    assert_eq!(vars["ANTHROPIC_PROFILE"], "keyless");
    let dir = linux_path(w, &vars["ANTHROPIC_CONFIG_DIR"]);
    let cred: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("credentials").join("keyless.json")).unwrap(),
    )
    .unwrap();
    assert_ne!(cred["access_token"], stale.as_str(), "replaced first");
    std::fs::write(&done, "").unwrap();
    let o = k.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!dir.exists(), "the profile's directory is removed at exit");
}

/// `exec --proxy`: a client on the Linux side calls the Messages API
/// through the Windows proxy with the child's capability.
#[test]
fn exec_proxy_serves_a_linux_side_client() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let out = env.path("env.txt");
    let done = env.path("done");
    let mut k = env.cmd();
    k.args(["exec", "--proxy", "--"])
        .args([win(&w.child()), win(&out), "5".into(), win(&done)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let k = k.spawn().unwrap();
    let vars = child_env(&out, Duration::from_secs(60));
    let base = &vars["ANTHROPIC_BASE_URL"];
    // The child's "token" is the per-run capability, not a token.
    let cap = &vars["ANTHROPIC_AUTH_TOKEN"];
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(!cap.starts_with("sk-ant-oat01-"), "no token in the child");
    let (status, body) = post_messages(base, cap);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(SANDBOX_REPLY), "{body}");
    let (status, _) = post_messages(base, "not-the-capability");
    assert_eq!(status, 401, "a caller without the capability is refused");
    std::fs::write(&done, "").unwrap();
    let o = k.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The Windows side of "the child never outlives keyless": keyless killed
/// outright under `exec --proxy` takes its child and the child's own child
/// with it (the job object closes with keyless's last handle). All three
/// run without address randomisation ([`wine::unrandomised`]).
#[test]
fn killing_keyless_under_exec_proxy_takes_the_child_with_it() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let out = env.path("env.txt");
    let never = env.path("never");
    let mut k = env.cmd();
    k.args(["exec", "--proxy", "--"])
        .args([
            win(&w.child()),
            win(&out),
            "0".into(),
            win(&never),
            "spawn".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Killed if an assertion fails before the kill under test.
    let mut k = agent::Killed(k.spawn().unwrap());
    child_env(&out, Duration::from_secs(60));
    child_env(&env.path("env.txt.grand"), Duration::from_secs(30));
    // Both the child and the grandchild wait for `never`, named in their
    // command lines.
    let marker = never.file_name().unwrap().to_string_lossy().into_owned();
    let marker = format!(
        "{}\\{marker}",
        env.root.path().file_name().unwrap().to_string_lossy()
    );
    // keyless (its arguments name the file too), the child, the grandchild
    let pids = pids_with(&marker);
    assert_eq!(pids.len(), 3, "child and grandchild run");
    // keyless.exe and the processes Wine started for it (none of them
    // with a random heap) where this machine allows it.
    if wine::can_unrandomise() {
        assert_eq!(wine::unrandomised(k.0.id()), Some(true), "keyless.exe");
        for p in pids {
            assert_ne!(
                wine::unrandomised(p),
                Some(false),
                "pid {p} has a random heap"
            );
        }
    }
    k.0.kill().unwrap();
    k.0.wait().unwrap();
    let t = Instant::now();
    while !pids_with(&marker).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the child outlived keyless: {:?}",
            pids_with(&marker)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// POST a minimal Messages request to `base` with `key`; (status, body).
fn post_messages(base: &str, key: &str) -> (u16, String) {
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;
    let bearer = format!("Bearer {key}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    let r = http::call(
        base.trim_end_matches('/'),
        "POST",
        "/v1/messages",
        &headers,
        body,
    );
    (r.status, r.text())
}

/// The device flow under Windows: the verification URL reaches the browser
/// through `ShellExecuteW` (Wine's winebrowser runs the stand-in named in
/// the registry, [`wine::Wine::browser_log`]), and the sign-in completes.
#[test]
fn device_sign_in_opens_the_browser_through_the_windows_shell() {
    let Some(w) = wine() else { return };
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1")));
    let env = WinEnv::new(w);
    env.setup_issuer(&idp.ctx.issuer);
    let r = env.run(&["login", "--device", "--timeout", "30"]);
    r.success();
    let url = format!("{}/activate?user_code=ABCD-EFGH", idp.ctx.issuer);
    assert!(
        w.browser_got(&url, Duration::from_secs(30)),
        "the browser never got {url}: {}",
        r.stderr
    );
}

/// A hostile verification URL never reaches `ShellExecuteW`: refused
/// before any opener, the sign-in stops, no token is asked for.
#[test]
fn device_sign_in_refuses_a_hostile_url_before_the_windows_shell() {
    let Some(w) = wine() else { return };
    let marker = format!("keyless-hostile-{}", crate::fake_idp::rand_hex());
    for hostile in [
        format!("http://evil.example/{marker}"),
        format!("file:///C:/windows/system32/{marker}.exe"),
        format!("javascript:alert('{marker}')"),
    ] {
        let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1")));
        *idp.ctx.device.lock().unwrap() = json!({ "verification_uri_complete": hostile });
        let env = WinEnv::new(w);
        env.setup_issuer(&idp.ctx.issuer);
        env.run(&["login", "--device", "--timeout", "30"])
            .fails(4, "verification_uri_complete");
        assert!(
            idp.ctx.token_calls.lock().unwrap().is_empty(),
            "{hostile}: the sign-in went on"
        );
    }
    // The good URLs of the test above arrive within a second or two.
    assert!(
        !w.browser_got(&marker, Duration::from_secs(3)),
        "a hostile URL reached the browser"
    );
}

/// `auth status` on Windows finds static keys where Windows keeps them: the
/// user's registry environment (what `setx` writes, and every program the
/// user starts inherits) and a PowerShell profile in Documents; and `setup
/// claude-code` / `setup codex` write under `%USERPROFILE%`, where Claude
/// Code and Codex read. Changes the prefix's user, so runs alone, and
/// undoes it all.
#[test]
fn auth_status_and_setup_use_the_windows_places() {
    let Some(w) = wine() else { return };
    let env = WinEnv::exclusive(w);
    let user = w.user_dir();
    let profile = user.join("Documents/PowerShell/Microsoft.PowerShell_profile.ps1");
    let written = [
        profile.parent().unwrap().to_path_buf(),
        user.join(".claude"),
        user.join(".codex"),
    ];
    struct Undo<'a>(&'a wine::Wine, &'a [PathBuf]);
    impl Drop for Undo<'_> {
        fn drop(&mut self) {
            let _ = self
                .0
                .command(Path::new("reg"))
                .args([
                    "delete",
                    "HKCU\\Environment",
                    "/v",
                    "ANTHROPIC_API_KEY",
                    "/f",
                ])
                .output();
            for d in self.1 {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    let _undo = Undo(w, &written);
    w.reg(&[
        "add",
        "HKCU\\Environment",
        "/v",
        "ANTHROPIC_API_KEY",
        "/t",
        "REG_SZ",
        "/d",
        "sk-ant-api03-FROM-THE-REGISTRY",
        "/f",
    ]);
    std::fs::create_dir_all(profile.parent().unwrap()).unwrap();
    std::fs::write(
        &profile,
        "# keys\n$env:ANTHROPIC_AUTH_TOKEN = 'sk-ant-api03-X'\n",
    )
    .unwrap();

    let sb = Sandbox::start(&[]);
    env.setup_sandbox(&sb.url);
    let status = env.run(&["auth", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", status.stdout, status.stderr));
    let keys = v["static_keys"].as_array().unwrap();
    let has = |path: &dyn Fn(&str) -> bool, what: &str| {
        keys.iter().any(|k| {
            path(k["path"].as_str().unwrap()) && k["what"].as_str().unwrap().contains(what)
        })
    };
    assert!(
        has(
            &|p| p == "HKEY_CURRENT_USER\\Environment",
            "sets ANTHROPIC_API_KEY"
        ),
        "{keys:?}"
    );
    assert!(
        has(
            &|p| p.ends_with("Documents\\PowerShell\\Microsoft.PowerShell_profile.ps1"),
            "sets ANTHROPIC_AUTH_TOKEN"
        ),
        "{keys:?}"
    );
    assert!(
        !status.stdout.contains("FROM-THE-REGISTRY")
            && !status.stderr.contains("FROM-THE-REGISTRY"),
        "the value is never shown"
    );

    env.run(&["setup", "claude-code"]).success();
    let settings = std::fs::read_to_string(user.join(".claude/settings.json")).unwrap();
    assert!(settings.contains("apiKeyHelper"), "{settings}");
    env.run(&[
        "setup",
        "openai",
        "--token-endpoint",
        &sb.openai_token_endpoint(),
        "--identity-provider-id",
        WIP,
        "--service-account-id",
        OPENAI_SA,
        "--identity",
        &format!(
            "command:\"{}\" sandbox identity-token --issuer {} --audience {OPENAI_AUDIENCE}",
            win(&w.exe()),
            sb.url
        ),
    ])
    .success();
    env.run(&["setup", "codex"]).success();
    let codex = std::fs::read_to_string(user.join(".codex/config.toml")).unwrap();
    assert!(codex.contains("[model_providers.keyless"), "{codex}");
}

/// `completions powershell` from the Windows build is the committed script
/// (completions/_keyless.ps1, generated on Linux): the same commands and
/// flags, `keyless agent` included.
#[test]
fn powershell_completions_are_the_committed_ones() {
    let Some(w) = wine() else { return };
    let env = WinEnv::new(w);
    let r = env.run(&["completions", "powershell"]);
    r.success();
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/_keyless.ps1"),
    )
    .unwrap();
    let out = r.stdout.replace('\r', "");
    assert!(out.contains("'keyless;agent'"), "{out}");
    assert_eq!(out, committed);
}

/// The browser sign-in under Windows: `ShellExecuteW` hands the
/// authorization URL to Wine's browser (tests/oidc's headless Chromium,
/// [`wine::Wine::browser_log`]), which signs in at the real test provider
/// and lands on keyless.exe's loopback callback.
#[test]
fn browser_sign_in_through_the_loopback_callback() {
    let Some(w) = wine() else { return };
    if !crate::login_real::harness_ready() {
        return;
    }
    let p = crate::login_real::Provider::start(&[]);
    let env = WinEnv::new(w);
    env.setup_issuer(&p.issuer);
    let r = env.run(&["login", "--browser", "--timeout", "90"]);
    r.success();
    assert!(r.stderr.contains("as alice"), "{}", r.stderr);
}
