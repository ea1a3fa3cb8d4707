//! `keyless demo --ci PLATFORM`: a zero-setup CI run against the sandbox.
//! It starts the sandbox, gives a child `keyless exec` ONLY the federation
//! variables and the platform's own variables (no config file, no setup
//! step), and that child runs a Messages call with the token it is handed.

use std::process::{Command, Stdio};

use crate::config::identity::IdentitySource;
use crate::env_vars as ev;
use crate::error::{Error, Result};
use crate::output;
use crate::redact::mask_token;
use crate::sandbox::platforms::{self, Platform};
use crate::sandbox::{self};

/// One row per platform `--ci` knows. A row whose identity source this
/// build lacks says so; adding a platform is one row (and its stand-in).
struct CiPlatform {
    platform: Platform,
    /// `auto` finds the source from the platform's variables alone; else
    /// the demo names it in `KEYLESS_IDENTITY`, as such a job must.
    found_by_auto: bool,
}

const CI_PLATFORMS: &[CiPlatform] = &[
    CiPlatform {
        platform: Platform::GithubActions,
        found_by_auto: true,
    },
    CiPlatform {
        platform: Platform::GithubActionsImmutable,
        found_by_auto: true,
    },
    CiPlatform {
        platform: Platform::Gcp,
        found_by_auto: true,
    },
    CiPlatform {
        platform: Platform::Azure,
        found_by_auto: false,
    },
    CiPlatform {
        platform: Platform::AzureAppService,
        found_by_auto: true,
    },
    CiPlatform {
        platform: Platform::Buildkite,
        found_by_auto: true,
    },
    CiPlatform {
        platform: Platform::AzurePipelines,
        found_by_auto: true,
    },
    CiPlatform {
        platform: Platform::Aws,
        found_by_auto: false,
    },
    // The token variables themselves choose the `env` source.
    CiPlatform {
        platform: Platform::Gitlab,
        found_by_auto: true,
    },
    CiPlatform {
        platform: Platform::Kubernetes,
        found_by_auto: true,
    },
];

/// The variables that are secrets: shown masked in the narration.
fn is_secret(name: &str) -> bool {
    ev::SECRETS.contains(&name) || ev::PLATFORM_CREDENTIALS.contains(&name)
}

pub fn run(platform: Platform) -> Result<()> {
    let say = |s: &str| output::note(s);
    let row = CI_PLATFORMS
        .iter()
        .find(|r| r.platform == platform)
        .ok_or_else(|| Error::usage(format!("demo --ci knows no platform {platform:?}")))?;
    if IdentitySource::parse(platform.identity()).is_err() {
        return Err(Error::usage(format!(
            "this keyless has no `{}` identity source yet, so `demo --ci` cannot run {}",
            platform.identity(),
            platform.title()
        ))
        .hint("try `keyless demo --ci github-actions` or `--ci gcp`"));
    }
    let tmp = tempfile::Builder::new()
        .prefix("keyless-demo-ci-")
        .tempdir()
        .map_err(|e| Error::failure(format!("cannot create a temporary directory: {e}")))?;
    say(&format!(
        "keyless demo --ci: a zero-setup {} job against a local sandbox (a stand-in, not the Claude API).\n",
        platform.title()
    ));
    let bg = sandbox::Background::start(&sandbox::Options {
        port: 0,
        rules: None,
        token_lifetime: 600,
    })?;
    let st = &bg.state;
    say(&format!(
        "1. Started the sandbox on {}; its {} stand-in plays the platform's token endpoint,",
        st.url,
        platform.title()
    ));
    say(&format!(
        "   and its rule {} matches {}.",
        platform.rule_id(),
        platform.describe_match()
    ));

    let mut vars = platform
        .env(st, tmp.path())
        .map_err(|e| Error::failure(format!("cannot write the platform's token file: {e}")))?;
    say("\n2. The platform's own variables, as the job would have them:");
    narrate(&vars);
    let federation = platforms::federation_env(st, platform);
    say(
        "\n3. The federation variables (Anthropic's CI migration guide), and no config file, no `keyless setup`:",
    );
    narrate(&federation);
    vars.extend(federation);
    if !row.found_by_auto {
        let pick = (ev::KEYLESS_IDENTITY, platform.identity().to_string());
        say("   and the identity source, which `auto` does not pick on its own here:");
        narrate(std::slice::from_ref(&pick));
        vars.push(pick);
    }

    let exe = std::env::current_exe()
        .map_err(|e| Error::failure(format!("cannot find the keyless executable: {e}")))?;
    say(
        "\n4. keyless -v exec -- <a Messages call>: fetch the platform's JWT, exchange it, hand the child ANTHROPIC_AUTH_TOKEN:",
    );
    let mut cmd = Command::new(&exe);
    cmd.args(["-v", "exec", "--"])
        .arg(&exe)
        .args(["demo", "--messages-call"])
        .env_clear()
        .env(ev::KEYLESS_CONFIG_DIR, tmp.path().join("config"))
        .env(ev::KEYLESS_CACHE_DIR, tmp.path().join("cache"))
        .env(ev::HOME, tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(path) = std::env::var_os(ev::PATH) {
        cmd.env(ev::PATH, path);
    }
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .map_err(|e| Error::failure(format!("cannot run {}: {e}", exe.display())))?;
    if !out.status.success() {
        return Err(
            Error::failure(format!("the zero-setup run failed ({})", out.status))
                .hint("its messages are above"),
        );
    }
    let reply = String::from_utf8_lossy(&out.stdout).trim().to_string();
    say(&format!("   POST {}/v1/messages → 200", st.url));
    say(
        "\nIn a real job: the same variables come from the platform and the workflow; see the README's CI recipes.",
    );
    output::payload(&reply, true)
}

fn narrate(vars: &[(&str, String)]) {
    for (k, v) in vars {
        let shown = if is_secret(k) {
            mask_token(v)
        } else {
            v.clone()
        };
        output::note(&format!("   {k}={shown}"));
    }
}

/// `demo --messages-call`: the child `exec` runs, a stand-in for an SDK
/// app: one Messages call with the token and base URL it was handed.
pub fn messages_call() -> Result<()> {
    let get = ev::var;
    let (Some(token), Some(url)) = (get(ev::ANTHROPIC_AUTH_TOKEN), get(ev::ANTHROPIC_BASE_URL))
    else {
        return Err(Error::config(format!(
            "demo --messages-call needs {} and {} (keyless exec sets them)",
            ev::ANTHROPIC_AUTH_TOKEN,
            ev::ANTHROPIC_BASE_URL
        )));
    };
    let reply = super::messages_call(&url, &token)?;
    output::payload(&reply, true)
}
