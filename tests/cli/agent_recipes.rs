//! The recipes of docs/agent.md, read from the file and tried here: their
//! keyless command lines and probes run against the sandbox as the
//! orchestrator would run them (Kubernetes, docker compose, launchd and the
//! Actions runner are not on the test machine; `systemd-analyze verify`
//! checks the unit when it is installed). The YAML recipes write command
//! lines as flow lists (`args: ["agent", …]`), which read as JSON.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::agent_support::*;
use crate::common::*;

/// The fenced block after `<!-- recipe:NAME -->` in docs/agent.md.
fn recipe(name: &str) -> String {
    let doc =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/agent.md"))
            .unwrap();
    let marker = format!("<!-- recipe:{name} -->");
    let at = doc.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
    let rest = &doc[at..];
    let open = rest.find("```").unwrap();
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("\n```").unwrap()].to_string()
}

/// Every `KEY: [ … ]` flow list, in order.
fn flow_lists(text: &str, key: &str) -> Vec<Vec<String>> {
    let prefix = format!("{key}: [");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(&prefix[..prefix.len() - 1]))
        .map(|json| serde_json::from_str(json.trim()).unwrap())
        .collect()
}

/// `- name: KEY` followed by `value: V` (a Kubernetes env list), or `KEY: V`.
fn value_of(text: &str, key: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for (i, l) in lines.iter().enumerate() {
        if *l == format!("- name: {key}") {
            return lines[i + 1].strip_prefix("value: ").unwrap().to_string();
        }
        if let Some(v) = l.strip_prefix(&format!("{key}: ")) {
            return v.to_string();
        }
    }
    panic!("{key} not in the recipe")
}

fn map_paths(args: &[String], from: &str, to: &Path) -> Vec<String> {
    args.iter()
        .map(|a| a.replace(from, to.to_str().unwrap()))
        .collect()
}

/// Run `argv` (a probe) until it succeeds.
fn probe_until_ok(env: &TestEnv, argv: &[String], limit: Duration) {
    let start = Instant::now();
    loop {
        let ok = env
            .external(&argv[0])
            .args(&argv[1..])
            .status()
            .unwrap()
            .success();
        if ok {
            return;
        }
        assert!(start.elapsed() < limit, "{argv:?} never succeeded");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `keyless ARGS` as a container recipe starts it: no config file, the
/// zero-setup variables for the sandbox and the identity token file `jwt`,
/// and the recipe's `KEYLESS_CACHE_DIR` with its `/shared` volume at `shared`.
fn start_in_container(
    env: &TestEnv,
    sb: &Sandbox,
    text: &str,
    shared: &Path,
    jwt: &Path,
    args: &[String],
) -> std::process::Child {
    env.cmd()
        .args(args)
        .env("KEYLESS_CONFIG_DIR", env.path("no-config"))
        .env(
            "KEYLESS_CACHE_DIR",
            value_of(text, "KEYLESS_CACHE_DIR").replace("/shared", shared.to_str().unwrap()),
        )
        .env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
        .env("ANTHROPIC_ORGANIZATION_ID", ORG)
        .env("ANTHROPIC_SERVICE_ACCOUNT_ID", SA)
        .env("ANTHROPIC_IDENTITY_TOKEN_FILE", jwt)
        .env("ANTHROPIC_BASE_URL", &sb.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// One Messages call from the Anthropic Python SDK with only `vars` set.
fn app_call(env: &TestEnv, vars: &[(&str, &Path)]) {
    let Some(py) = python_with("anthropic") else {
        return;
    };
    let mut c = env.external(&py);
    c.args([
        "-c",
        "import anthropic; print(anthropic.Anthropic(max_retries=0).messages.create(model='claude-sandbox-1', max_tokens=8, messages=[{'role':'user','content':'hi'}]).content[0].text)",
    ]);
    for (k, v) in vars {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The sidecar's args, env and probes from the manifest, with `/shared` an
/// `emptyDir` (0777, as Kubernetes makes it) and the variables pointing at
/// the sandbox; the app container reads the profile; a SIGKILLed sidecar
/// restarted by the kubelet does not exchange again.
#[test]
fn kubernetes_native_sidecar_recipe() {
    let text = recipe("kubernetes");
    let init = text.find("initContainers:").unwrap();
    let always = text.find("restartPolicy: Always").unwrap();
    let main = text.find("\n  containers:").unwrap();
    assert!(
        init < always && always < main,
        "the sidecar is a native one"
    );
    assert!(text.contains("emptyDir:"));
    let (sb, env) = anthropic_env(600);
    let shared = env.path("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let args = map_paths(&flow_lists(&text, "args")[0], "/shared", &shared);
    let probe = map_paths(&flow_lists(&text, "command")[0], "/shared", &shared);
    let jwt = env.path("identity-token");
    std::fs::write(&jwt, sb.mint_jwt(&[])).unwrap();
    let start = |env: &TestEnv| start_in_container(env, &sb, &text, &shared, &jwt, &args);
    let mut sidecar = start(&env);
    probe_until_ok(&env, &probe, Duration::from_secs(30));
    let config_dir =
        value_of(&text, "ANTHROPIC_CONFIG_DIR").replace("/shared", shared.to_str().unwrap());
    app_call(&env, &[("ANTHROPIC_CONFIG_DIR", Path::new(&config_dir))]);
    sidecar.kill().unwrap();
    sidecar.wait().unwrap();
    let mut restarted = start(&env);
    probe_until_ok(&env, &probe, Duration::from_secs(30));
    app_call(&env, &[("ANTHROPIC_CONFIG_DIR", Path::new(&config_dir))]);
    assert_eq!(
        exchanges(&sb),
        1,
        "the restarted sidecar used the cached token"
    );
    // SAFETY: kill(2) on the sidecar this test started (pod deletion).
    unsafe { libc::kill(restarted.id() as i32, libc::SIGTERM) };
    assert!(restarted.wait().unwrap().success());
}

/// The unit's ExecStart with systemd's specifiers expanded, its
/// ExecReload, and the SIGTERM `systemctl stop` sends.
#[test]
fn systemd_user_unit_recipe() {
    let unit = recipe("systemd");
    let (sb, env) = anthropic_env(600);
    let runtime = env.path("run-user");
    std::fs::create_dir(&runtime).unwrap();
    let expand = |s: &str| {
        s.replace("%h", env.home().to_str().unwrap())
            .replace("%t", runtime.to_str().unwrap())
    };
    let line = |key: &str| assigned(&unit, key);
    if which("systemd-analyze") {
        let path = env.path("keyless-agent.service");
        std::fs::write(&path, unit.replace("%h/.local/bin/keyless", BIN)).unwrap();
        let o = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && !err.contains(".service:"), "{err}");
    } else {
        skipping("systemd-analyze is not installed: the unit is not verified");
    }
    let argv = shell_words::split(&expand(&line("ExecStart"))).unwrap();
    assert!(argv[0].ends_with("/keyless"));
    let mut agent = env
        .cmd()
        .args(&argv[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = vec!["test".into(), "-e".into(), expand("%t/keyless-ready")];
    probe_until_ok(&env, &ready, Duration::from_secs(30));
    // the SDKs' default directory: no variable needed
    app_call(&env, &[]);
    let reload = line("ExecReload");
    let o = env
        .external("sh")
        .args(["-c", &reload])
        .env("MAINPID", agent.id().to_string())
        .status()
        .unwrap();
    assert!(o.success());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        agent.try_wait().unwrap().is_none(),
        "reload does not stop it"
    );
    // SAFETY: kill(2) on the agent this test started (systemctl stop).
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    assert!(agent.wait().unwrap().success());
    assert_eq!(exchanges(&sb), 1);
}

fn which(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The plist is a valid property list (Python's plistlib, when the test
/// Python is there); its ProgramArguments run as launchd would.
#[test]
fn launchd_agent_recipe() {
    let plist = recipe("launchd");
    let (sb, env) = anthropic_env(600);
    let home = env.home();
    let plist = plist
        .replace("/usr/local/bin/keyless", BIN)
        .replace("/Users/me", home.to_str().unwrap());
    if let Some(py) = python_with("plistlib") {
        let o = env
            .external(&py)
            .args([
                "-c",
                "import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.argv[1].encode())['ProgramArguments']))",
                &plist,
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let array = &plist[plist.find("<key>ProgramArguments</key>").unwrap()..];
    let array = &array[..array.find("</array>").unwrap()];
    let argv: Vec<String> = array
        .split("<string>")
        .skip(1)
        .map(|s| s[..s.find("</string>").unwrap()].to_string())
        .collect();
    assert_eq!(argv[0], BIN);
    let agent = env
        .cmd()
        .args(&argv[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = vec![
        "test".into(),
        "-e".into(),
        format!("{}/.cache/keyless-ready", home.display()),
    ];
    probe_until_ok(&env, &ready, Duration::from_secs(30));
    app_call(&env, &[]);
    // SAFETY: kill(2) on the agent this test started (launchctl bootout).
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    let mut agent = agent;
    assert!(agent.wait().unwrap().success());
    assert_eq!(exchanges(&sb), 1);
}

/// The keyless service's command, environment and healthcheck, with the
/// named volume a directory; the app service reads the profile.
#[test]
fn docker_compose_recipe() {
    let text = recipe("compose");
    let (sb, env) = anthropic_env(600);
    let shared = env.path("volume");
    std::fs::create_dir(&shared).unwrap();
    let args = map_paths(&flow_lists(&text, "command")[0], "/shared", &shared);
    let health = map_paths(&flow_lists(&text, "test")[0], "/shared", &shared);
    assert_eq!(health[0], "CMD");
    let jwt = env.path("identity-token");
    std::fs::write(&jwt, sb.mint_jwt(&[])).unwrap();
    let mut agent = start_in_container(&env, &sb, &text, &shared, &jwt, &args);
    probe_until_ok(&env, &health[1..], Duration::from_secs(30));
    let dir = value_of(&text, "ANTHROPIC_CONFIG_DIR").replace("/shared", shared.to_str().unwrap());
    app_call(&env, &[("ANTHROPIC_CONFIG_DIR", Path::new(&dir))]);
    // SAFETY: kill(2) on the agent this test started (compose down).
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    assert!(agent.wait().unwrap().success());
    assert_eq!(exchanges(&sb), 1);
}

/// The "Start keyless agent" step's script, run by bash as the runner
/// would (RUNNER_TEMP, GITHUB_ENV, the job's OIDC variables from the
/// sandbox's GitHub stand-in); two later steps read the profile with what
/// GITHUB_ENV gave them; the last step's kill stops the agent. One exchange.
#[test]
fn github_actions_recipe() {
    let text = recipe("github-actions");
    let at = text.find("name: Start keyless agent").unwrap();
    let run = &text[at..];
    let run = &run[run.find("run: |").unwrap()..];
    let script: Vec<&str> = run
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("          "))
        .map(|l| &l[10..])
        .collect();
    let script = script.join("\n");
    let sb = crate::sandbox_platforms::PlatformSandbox::start("github-actions");
    let env = TestEnv::new();
    let bin = env.path("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("keyless")).unwrap();
    let runner_temp = env.path("runner-temp");
    std::fs::create_dir(&runner_temp).unwrap();
    let github_env = env.path("github-env");
    std::fs::write(&github_env, "").unwrap();
    let mut step = env.external("bash");
    step.args(["-e", "-c", &script])
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_ENV", &github_env)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in &sb.env {
        step.env(k, v);
    }
    assert!(step.status().unwrap().success(), "the step failed");
    let vars = std::fs::read_to_string(&github_env).unwrap();
    let var = |k: &str| assigned(&vars, k);
    let dir = var("ANTHROPIC_CONFIG_DIR");
    for _ in 0..2 {
        app_call(
            &env,
            &[
                ("ANTHROPIC_CONFIG_DIR", Path::new(&dir)),
                ("ANTHROPIC_PROFILE", Path::new(&var("ANTHROPIC_PROFILE"))),
            ],
        );
    }
    let h = http_get_json(&format!("{}/_sandbox/history", sb.url));
    assert_eq!(h["exchanges"], 1, "{h}");
    let pid = var("KEYLESS_AGENT_PID");
    assert!(
        env.external("sh")
            .args(["-c", &format!("kill {pid}")])
            .status()
            .unwrap()
            .success()
    );
    let ready = runner_temp.join("keyless-ready");
    let start = Instant::now();
    while ready.exists() {
        assert!(start.elapsed() < HANG, "not stopped");
        std::thread::sleep(Duration::from_millis(50));
    }
}
