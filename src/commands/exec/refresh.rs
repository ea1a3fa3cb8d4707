//! `keyless exec --refresh -- CMD`: keep a long-running child signed in.
//!
//! keyless stays the parent. The child reads its token from an "externally
//! rotated" Anthropic SDK profile in a private directory (`configs/keyless.json`,
//! `user_oauth` without `client_id`; `credentials/keyless.json`, 0600), which
//! the SDKs re-read per request; keyless rewrites the credentials atomically
//! through the one renewal engine on its SDK-profile schedule
//! ([`Schedule::SDK_PROFILE`]: half-life, no later than 180 s before
//! expiry, a quarter of the life for tokens under 4 minutes), so the new
//! token is in place before the SDKs' own 120 s/30 s windows; a cached token
//! already past that point is replaced before the child starts. What the
//! child loses is the [`ChildEnv`] policy's ([`Mode::Refresh`]). It sleeps
//! (millisecond timing) until a refresh is due or the child exits, forwards INT, TERM,
//! HUP, QUIT, USR1, USR2 and WINCH, removes the directory on every exit path
//! it survives, and exits with the child's status or re-raises its signal.
//!
//! OpenAI's SDKs read only `OPENAI_API_KEY`, which cannot change inside a
//! running process, so OpenAI tokens cannot be refreshed this way.

use std::time::Duration;

use super::ExecArgs;
use crate::acquire;
use crate::clock::now_ms;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::handoff::child_env::{ChildEnv, Mode};
use crate::handoff::renewal::{Reason, Renewer, Schedule};
use crate::handoff::sdk_profile::SdkProfile;
use crate::handoff::supervise;
use crate::output;
use crate::provider::{Provider, choice};
use crate::settings::{Freshness, Settings};

pub fn run(settings: &Settings, args: &ExecArgs) -> Result<()> {
    if args.types.contains(&Provider::Openai) {
        return Err(Error::usage(
            "--refresh cannot keep OpenAI programs signed in: OpenAI's SDKs read only OPENAI_API_KEY, which cannot change inside a running process",
        )
        .hint("use `keyless exec --proxy --type openai`: the program calls a local proxy that adds a token keyless renews (or plain `keyless exec --type openai`, restarting the program before the token expires)"));
    }
    let loaded = settings.load_config()?;
    if args.types.is_empty() {
        openai_left_out(settings, &loaded)?;
    }
    let target = choice::one(settings, &loaded, Provider::Anthropic)?;
    let cfg = target
        .anthropic()
        .ok_or_else(|| Error::failure("the profile's Anthropic configuration did not load"))?;
    let issuer = settings.issuer(&loaded);
    let fresh: Freshness = (&args.freshness).into();
    let first = acquire::token(settings, &target, issuer.as_ref(), fresh)?;

    // A private directory (0700), removed when `profile` drops.
    let profile = SdkProfile::create(cfg, &first)?;
    let renewer = Renewer::new(Schedule::SDK_PROFILE, first, |f| {
        acquire::token(settings, &target, issuer.as_ref(), f)
    })
    .deliver_to(|t| profile.write_credentials(t));
    // A cached token already past its rotation point (little life left) is
    // replaced before the child starts, not after its first calls fail.
    if renewer.is_due() {
        renewer.renew(Reason::Due)?;
    }
    let program = &args.command[0];
    let mut cmd = ChildEnv::new(Mode::Refresh, &[Provider::Anthropic], args.keep_api_key)
        .command(&args.command, &[]);
    profile.apply(&mut cmd);

    warn_claude_code_conflicts();

    let child = supervise::spawn(cmd, program)?;
    let status = renew_until_exit(&renewer, &child.exited);
    drop(child);
    drop(renewer);
    drop(profile);
    supervise::finish(status)
}

/// `--refresh` serves Anthropic only (OpenAI's SDKs read no profile). With
/// OpenAI configured too, the user expects it served: a static
/// `OPENAI_API_KEY` here would silently stay the child's, so that is
/// refused; without one, it is said. `--type anthropic` chooses knowingly.
fn openai_left_out(settings: &Settings, loaded: &crate::config::LoadedConfig) -> Result<()> {
    let env = |n: &str| std::env::var(n).ok();
    let configured = choice::choose(settings, loaded, &[], &env)
        .iter()
        .any(|c| c.provider == Provider::Openai && c.resolved.is_ok());
    if !configured {
        return Ok(());
    }
    if env_vars::var(env_vars::OPENAI_API_KEY).is_some() {
        return Err(Error::usage(format!(
            "OpenAI is configured too, but --refresh serves Anthropic only: the child would keep the static {} of this environment",
            env_vars::OPENAI_API_KEY
        ))
        .hint("use `keyless exec --proxy` to serve both with tokens keyless renews, or `keyless exec --refresh --type anthropic` to keep the static key knowingly"));
    }
    output::warn(
        "OpenAI is configured too, but --refresh serves Anthropic only (OpenAI's SDKs read no profile); use `keyless exec --proxy` to serve both",
    );
    Ok(())
}

/// Sleep until a renewal is due or the child exits; renew; repeat.
/// Timing is in milliseconds: a whole-second sleep loses up to a second of
/// a 60 s token's margin on every rotation.
fn renew_until_exit(
    r: &Renewer,
    rx: &std::sync::mpsc::Receiver<std::process::ExitStatus>,
) -> std::process::ExitStatus {
    loop {
        let wait = Duration::from_millis((r.next_due_ms() - now_ms()).max(0) as u64);
        match rx.recv_timeout(wait) {
            Ok(status) => return status,
            // The waiter is gone without a status: nothing left to keep alive.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return supervise::lost(),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        // Logged by the engine; a failure moved the next try on by its backoff.
        let _ = r.renew(Reason::Due);
    }
}

/// Claude Code ranks an `apiKeyHelper` and static keys in its settings above
/// any profile: if the child is Claude Code, those win over the refreshed
/// token. keyless's own helper serves the same tokens (the base URL stays
/// in the child's environment for it); anything else is said.
fn warn_claude_code_conflicts() {
    let home = crate::clients::places::home();
    let cwd = std::env::current_dir().ok();
    let scan = crate::clients::scan::scan(home.as_deref(), cwd.as_deref(), None);
    if let Some(path) = &scan.helper.path
        && !scan.helper.is_keyless
    {
        output::warn(&format!(
            "Claude Code's apiKeyHelper in {path} is not keyless; a Claude Code child uses it, not the refreshed token (run `keyless setup claude-code --force` to make it keyless)"
        ));
    }
    for f in &scan.claude_shadows {
        output::warn(&format!(
            "{} in {} outranks both apiKeyHelper and the refreshed profile in Claude Code; remove it",
            f.what, f.path
        ));
    }
}
