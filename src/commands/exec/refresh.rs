//! `keyless exec --refresh -- CMD`: keep a long-running child signed in.
//!
//! keyless stays the parent. The child reads its token from an "externally
//! rotated" Anthropic SDK profile in a private directory (`configs/keyless.json`,
//! `user_oauth` without `client_id`; `credentials/keyless.json`, 0600), which
//! the SDKs re-read per request; keyless rewrites the credentials atomically
//! on the schedule of [`due_at_ms`] (half-life, no later than 180 s before
//! expiry, a quarter of the life for tokens under 4 minutes), so the new
//! token is in place before the SDKs' own 120 s/30 s windows; a cached token
//! already past that point is replaced before the child starts. It sleeps
//! (millisecond timing) until a refresh is due or the child exits, forwards INT, TERM,
//! HUP, QUIT, USR1, USR2 and WINCH, removes the directory on every exit path
//! it survives, and exits with the child's status or re-raises its signal.
//!
//! OpenAI's SDKs read only `OPENAI_API_KEY`, which cannot change inside a
//! running process, so OpenAI tokens cannot be refreshed this way.

use std::time::Duration;

use super::ExecArgs;
use crate::acquire::{self, Token};
use crate::config::IssuerConfig;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::handoff::child;
use crate::handoff::sdk_profile::{SdkProfile, due_at_ms, now_ms};
use crate::handoff::supervise;
use crate::jwt;
use crate::output;
use crate::provider::{Configured, Provider};
use crate::settings::{Freshness, Settings};

pub fn run(settings: &Settings, args: &ExecArgs) -> Result<()> {
    if args.types.contains(&Provider::Openai) {
        return Err(Error::usage(
            "--refresh cannot keep OpenAI programs signed in: OpenAI's SDKs read only OPENAI_API_KEY, which cannot change inside a running process",
        )
        .hint("use `keyless exec --refresh --type anthropic`, or plain `keyless exec --type openai` and restart the program before the token expires"));
    }
    let loaded = settings.load_config()?;
    let target = Provider::Anthropic.configured(settings, &loaded)?;
    let cfg = target
        .anthropic()
        .ok_or_else(|| Error::failure("the profile's Anthropic configuration did not load"))?;
    let issuer = settings.issuer(&loaded);
    let fresh: Freshness = (&args.freshness).into();
    let mut token = acquire::token(settings, &target, issuer.as_ref(), fresh)?;

    // A private directory (0700), removed when `profile` drops.
    let profile = SdkProfile::create(cfg, &token)?;
    let refresher = Refresher {
        settings,
        target: &target,
        issuer: issuer.as_ref(),
        profile: &profile,
    };
    // A cached token already past its rotation point (little life left) is
    // replaced before the child starts, not after its first calls fail.
    if due_at_ms(token.obtained_at, token.expires_at) <= now_ms() {
        match refresher.rotate(&token) {
            Ok(t) => token = t,
            Err(e) if token.expires_at > jwt::now() => output::warn(&format!(
                "could not replace the cached token, which expires in {} ({}); starting with it",
                jwt::human_duration(token.expires_at - jwt::now()),
                e.message
            )),
            Err(e) => return Err(e),
        }
    }
    let program = &args.command[0];
    let mut cmd = child::command(&args.command, &[]);
    profile.apply(&mut cmd);
    if args.keep_api_key {
        output::warn(
            "--keep-api-key: ANTHROPIC_API_KEY outranks the refreshed profile in every SDK",
        );
    } else {
        if std::env::var_os(env_vars::ANTHROPIC_API_KEY).is_some() {
            output::note(
                "note: removing ANTHROPIC_API_KEY, which would shadow the refreshed token",
            );
        }
        cmd.env_remove(env_vars::ANTHROPIC_API_KEY);
    }

    warn_claude_code_conflicts();

    let child = supervise::spawn(cmd, program)?;
    let status = refresh_until_exit(&refresher, token, &child.exited);
    drop(child);
    drop(profile);
    supervise::finish(status)
}

/// Sleep until a refresh is due or the child exits; refresh; repeat.
/// Timing is in milliseconds: a whole-second sleep loses up to a second of
/// a 60 s token's margin on every rotation.
fn refresh_until_exit(
    r: &Refresher,
    mut current: Token,
    rx: &std::sync::mpsc::Receiver<std::process::ExitStatus>,
) -> std::process::ExitStatus {
    let mut due = due_at_ms(current.obtained_at, current.expires_at);
    let mut backoff_ms = 1000i64;
    let mut warned_expired = false;
    loop {
        let wait = Duration::from_millis((due - now_ms()).max(0) as u64);
        match rx.recv_timeout(wait) {
            Ok(status) => return status,
            // The waiter is gone without a status: nothing left to keep alive.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return supervise::lost(),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        match r.rotate(&current) {
            Ok(t) => {
                current = t;
                due = due_at_ms(current.obtained_at, current.expires_at);
                backoff_ms = 1000;
                warned_expired = false;
            }
            Err(e) => {
                let now = jwt::now();
                if current.expires_at <= now && !warned_expired {
                    output::warn(&format!(
                        "the child's token has expired and keyless could not refresh it ({}); its API calls fail until keyless can",
                        e.message
                    ));
                    warned_expired = true;
                } else {
                    output::info(&format!(
                        "refresh failed ({}); retrying in {} ms",
                        e.message, backoff_ms
                    ));
                }
                due = now_ms() + backoff_ms;
                // Short tokens cannot wait a minute: at most a tenth of the life.
                let life_ms = (current.expires_at - current.obtained_at).max(10) * 1000;
                backoff_ms = (backoff_ms * 2).min(60_000).min(life_ms / 10).max(1000);
            }
        }
    }
}

/// What a rotation needs: where the token comes from and where it goes.
struct Refresher<'a> {
    settings: &'a Settings,
    target: &'a Configured,
    issuer: Option<&'a IssuerConfig>,
    profile: &'a SdkProfile,
}

impl Refresher<'_> {
    /// A token newer than `current`, written into the child's credentials.
    fn rotate(&self, current: &Token) -> Result<Token> {
        // A token past its half-life is stale for this call, so the cache
        // serves it only if another process already refreshed it.
        let fresh = Freshness {
            min_ttl: i64::MAX,
            keep_for: 0,
            force_refresh: false,
            interactive: false,
        };
        let (settings, target, issuer) = (self.settings, self.target, self.issuer);
        let t = acquire::token(settings, target, issuer, fresh)?;
        let t = if t.access_token == current.access_token
            || due_at_ms(t.obtained_at, t.expires_at) <= now_ms()
        {
            let forced = Freshness {
                force_refresh: true,
                ..fresh
            };
            acquire::token(settings, target, issuer, forced)?
        } else {
            t
        };
        self.profile.write_credentials(&t)?;
        output::info(&format!(
            "rotated the child's token; the new one expires in {}",
            jwt::human_duration(t.expires_at - jwt::now())
        ));
        Ok(t)
    }
}

/// Claude Code ranks an `apiKeyHelper` and static keys in its settings above
/// any profile: if the child is Claude Code, those win over the refreshed
/// token. keyless's own helper serves the same tokens (the base URL stays
/// in the child's environment for it); anything else is said.
fn warn_claude_code_conflicts() {
    let home = std::env::var_os(env_vars::HOME).map(std::path::PathBuf::from);
    let cwd = std::env::current_dir().ok();
    let scan = crate::status::scan::scan(home.as_deref(), cwd.as_deref(), None);
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
