//! `keyless exec --refresh -- CMD`: keep a long-running child signed in.
//!
//! keyless stays the parent. The child reads its token from an "externally
//! rotated" Anthropic SDK profile in a private directory (`configs/keyless.json`,
//! `user_oauth` without `client_id`; `credentials/keyless.json`, 0600), which
//! the SDKs re-read per request; keyless rewrites the credentials atomically
//! at half-life and, for tokens living longer than 6 minutes, no later than
//! 180 s before expiry, ahead of the SDKs' own 120 s/30 s windows. It sleeps
//! until a refresh is due or the child exits (no polling), forwards INT, TERM,
//! HUP, QUIT, USR1, USR2 and WINCH, removes the directory on every exit path
//! it survives, and exits with the child's status or re-raises its signal.
//!
//! OpenAI's SDKs read only `OPENAI_API_KEY`, which cannot change inside a
//! running process, so OpenAI tokens cannot be refreshed this way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::ExecArgs;
use crate::acquire::{self, Token};
use crate::config::IssuerConfig;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::handoff::child;
use crate::handoff::sdk_profile::{SdkProfile, due_at};
use crate::jwt;
use crate::output;
use crate::provider::{Configured, Provider};
use crate::settings::{Freshness, Settings};

const FORWARDED: [i32; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

enum Event {
    Exited(std::process::ExitStatus),
}

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
    let token = acquire::token(settings, &target, issuer.as_ref(), fresh)?;

    // A private directory (0700), removed when `profile` drops.
    let profile = SdkProfile::create(cfg, &token)?;
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

    // Handlers first, so a signal right after the spawn is not lost.
    let mut signals = signal_hook::iterator::Signals::new(FORWARDED)
        .map_err(|e| Error::failure(format!("cannot install signal handlers: {e}")))?;
    let handle = signals.handle();
    let mut child = cmd.spawn().map_err(|e| child::spawn_error(program, &e))?;
    let pid = child.id() as i32;
    let exited = Arc::new(AtomicBool::new(false));
    let ex = exited.clone();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if ex.load(Ordering::SeqCst) {
                break;
            }
            // SAFETY: kill(2) on our own child, still unreaped (exited is false).
            unsafe {
                libc::kill(pid, sig);
            }
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let ex = exited.clone();
    std::thread::spawn(move || {
        if let Ok(status) = child.wait() {
            ex.store(true, Ordering::SeqCst);
            let _ = tx.send(Event::Exited(status));
        }
    });

    let status = refresh_until_exit(settings, &target, issuer.as_ref(), &profile, token, &rx);
    handle.close();
    drop(profile);
    finish(status)
}

/// Sleep until a refresh is due or the child exits; refresh; repeat.
fn refresh_until_exit(
    settings: &Settings,
    target: &Configured,
    issuer: Option<&IssuerConfig>,
    profile: &SdkProfile,
    mut current: Token,
    rx: &std::sync::mpsc::Receiver<Event>,
) -> std::process::ExitStatus {
    let mut due = due_at(jwt::now(), current.expires_at);
    let mut backoff = 1u64;
    let mut warned_expired = false;
    loop {
        let wait = Duration::from_secs((due - jwt::now()).max(0) as u64);
        match rx.recv_timeout(wait) {
            Ok(Event::Exited(status)) => return status,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // The waiter is gone without a status: nothing left to keep alive.
                return std::os::unix::process::ExitStatusExt::from_raw(1 << 8);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        // A token past its half-life is stale for this call, so the cache
        // serves it only if another process already refreshed it.
        let fresh = Freshness {
            min_ttl: i64::MAX,
            force_refresh: false,
            interactive: false,
        };
        let next = acquire::token(settings, target, issuer, fresh).and_then(|t| {
            if t.access_token == current.access_token {
                let forced = Freshness {
                    force_refresh: true,
                    ..fresh
                };
                acquire::token(settings, target, issuer, forced)
            } else {
                Ok(t)
            }
        });
        let now = jwt::now();
        match next.and_then(|t| profile.write_credentials(&t).map(|()| t)) {
            Ok(t) => {
                output::info(&format!(
                    "rotated the child's token; the new one expires in {}",
                    jwt::human_duration(t.expires_at - now)
                ));
                current = t;
                due = due_at(now, current.expires_at);
                backoff = 1;
                warned_expired = false;
            }
            Err(e) => {
                if current.expires_at <= now && !warned_expired {
                    output::warn(&format!(
                        "the child's token has expired and keyless could not refresh it ({}); its API calls fail until keyless can",
                        e.message
                    ));
                    warned_expired = true;
                } else {
                    output::info(&format!(
                        "refresh failed ({}); retrying in {backoff}s",
                        e.message
                    ));
                }
                due = now + backoff as i64;
                backoff = (backoff * 2).min(60);
            }
        }
    }
}

/// Exit as the child did: its code, or its terminating signal re-raised.
fn finish(status: std::process::ExitStatus) -> Result<()> {
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        // Restore the default action, then die by the same signal.
        let _ = signal_hook::low_level::emulate_default_handler(sig);
        // SAFETY: resetting a disposition and raising on ourselves.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
        std::process::exit(128 + sig);
    }
    std::process::exit(status.code().unwrap_or(1));
}
