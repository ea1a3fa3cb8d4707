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

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::acquire::{self, Freshness, Token};
use crate::cli::{ExecArgs, Provider};
use crate::config::{AnthropicConfig, IssuerConfig};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::jwt;
use crate::output;
use crate::private_fs;
use crate::settings::Settings;

pub const PROFILE: &str = "keyless";
const FORWARDED: [i32; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// When the credentials file must next be rewritten, in Unix seconds.
pub fn due_at(now: i64, expires_at: i64) -> i64 {
    let left = (expires_at - now).max(0);
    let half = now + left / 2;
    if left > 360 {
        half.min(expires_at - 180)
    } else {
        half
    }
}

fn write_profile(dir: &Path, cfg: &AnthropicConfig) -> Result<()> {
    let mut profile = serde_json::json!({
        "version": "1.0",
        "authentication": {"type": "user_oauth"},
        "organization_id": cfg.organization_id,
    });
    if !cfg.uses_default_base_url() {
        profile["base_url"] = cfg.base_url().into();
    }
    let path = dir.join("configs").join(format!("{PROFILE}.json"));
    private_fs::write_atomic(&path, profile.to_string().as_bytes())
        .map_err(|e| Error::io("cannot write the SDK profile", &path, &e))
}

fn write_credentials(dir: &Path, token: &Token) -> Result<()> {
    let body = serde_json::json!({
        "version": "1.0",
        "type": "oauth_token",
        "access_token": token.access_token.expose(),
        "expires_at": token.expires_at,
    });
    let path = dir.join("credentials").join(format!("{PROFILE}.json"));
    private_fs::write_atomic(&path, body.to_string().as_bytes())
        .map_err(|e| Error::io("cannot write the SDK credentials", &path, &e))
}

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
    let cfg = settings.anthropic(&loaded)?;
    let issuer = settings.issuer(&loaded);
    let fresh: Freshness = (&args.freshness).into();
    let token = acquire::anthropic_token(settings, &cfg, issuer.as_ref(), fresh)?;

    // A private directory (0700), removed when `dir` drops.
    let dir = tempfile::Builder::new()
        .prefix("keyless-exec-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .map_err(|e| Error::failure(format!("cannot create a private directory: {e}")))?;
    for sub in ["configs", "credentials"] {
        private_fs::ensure_dir(&dir.path().join(sub)).map_err(Error::failure)?;
    }
    write_profile(dir.path(), &cfg)?;
    write_credentials(dir.path(), &token)?;

    let program = &args.command[0];
    let mut cmd = Command::new(program);
    cmd.args(&args.command[1..])
        .env("ANTHROPIC_CONFIG_DIR", dir.path())
        .env("ANTHROPIC_PROFILE", PROFILE)
        // Both outrank a profile in every SDK; the base URL is in the profile.
        .env_remove(env_vars::ANTHROPIC_AUTH_TOKEN)
        .env_remove(env_vars::ANTHROPIC_BASE_URL)
        .env_remove(env_vars::KEYLESS_CLIENT_SECRET);
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
    let mut child = cmd.spawn().map_err(|e| {
        let (code, why) = match e.kind() {
            std::io::ErrorKind::NotFound => (127, "command not found"),
            _ => (126, "cannot execute"),
        };
        Error::new(
            crate::error::Kind::Code(code),
            format!(
                "cannot run `{}`: {why} ({})",
                program.to_string_lossy(),
                crate::error::io_reason(&e)
            ),
        )
    })?;
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

    let status = refresh_until_exit(settings, &cfg, issuer.as_ref(), dir.path(), token, &rx);
    handle.close();
    drop(dir);
    finish(status)
}

/// Sleep until a refresh is due or the child exits; refresh; repeat.
fn refresh_until_exit(
    settings: &Settings,
    cfg: &AnthropicConfig,
    issuer: Option<&IssuerConfig>,
    dir: &Path,
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
        let next = acquire::anthropic_token(settings, cfg, issuer, fresh).and_then(|t| {
            if t.access_token == current.access_token {
                let forced = Freshness {
                    force_refresh: true,
                    ..fresh
                };
                acquire::anthropic_token(settings, cfg, issuer, forced)
            } else {
                Ok(t)
            }
        });
        let now = jwt::now();
        match next.and_then(|t| write_credentials(dir, &t).map(|()| t)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_half_life_and_at_least_180s_early_for_long_tokens() {
        assert_eq!(due_at(1000, 1120), 1060); // 120 s token: at half-life
        assert_eq!(due_at(1000, 1360), 1180); // 6 min: half-life
        assert_eq!(due_at(1000, 1600), 1300); // 10 min: half-life (300 s) beats exp-180 (1420)
        assert_eq!(due_at(1000, 4600), 2800); // 1 h: half-life
        assert_eq!(due_at(1000, 1361), 1180); // just over 6 min: min(1180, 1181)
        assert_eq!(due_at(1000, 900), 1000); // expired: now
    }
}
