//! The token `exec --proxy` forwards with: taken through the same
//! acquire path as every command (cache, lock, single-use ledger), renewed
//! ahead of expiry by a background task, and replaced at most once per
//! served token when the API rejects it.
//!
//! `acquire::token` blocks (it runs its own small runtime), so it runs on a
//! thread of its own; one refresh is in flight at a time and callers that
//! arrive meanwhile wait for its result.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::acquire;
use crate::config::IssuerConfig;
use crate::error::{Error, Result};
use crate::jwt;
use crate::output;
use crate::provider::Configured;
use crate::secret::Secret;
use crate::settings::{Freshness, Settings};

/// A rejected token is replaced at most this often: a rule that denies
/// every new token must not turn each API call into an exchange.
const FORCED_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// A refresh that failed is retried after this long (doubling to a minute).
const FIRST_BACKOFF_SECS: i64 = 1;

#[derive(Clone)]
pub struct Current {
    pub token: Arc<Secret<String>>,
    pub expires_at: i64,
    /// When a refresh is due (Unix seconds).
    due: i64,
}

impl Current {
    fn new(t: acquire::Token, now: i64) -> Self {
        let left = (t.expires_at - now).max(0);
        // Half the remaining life, and no later than 5 minutes before expiry.
        let lead = (left / 2).min(300);
        Current {
            token: Arc::new(t.access_token),
            expires_at: t.expires_at,
            due: t.expires_at - lead,
        }
    }
}

struct State {
    current: Current,
    last_forced: Option<Instant>,
    backoff: i64,
}

/// What `acquire::token` needs, owned, for the refresh thread.
struct Source {
    settings: Settings,
    target: Configured,
    issuer: Option<IssuerConfig>,
}

pub struct Tokens {
    source: Arc<Source>,
    state: Mutex<State>,
    single_flight: tokio::sync::Mutex<()>,
}

impl Tokens {
    /// The first token, acquired as `exec` would (`fresh` is the caller's).
    pub fn start(
        settings: &Settings,
        target: Configured,
        issuer: Option<IssuerConfig>,
        fresh: Freshness,
    ) -> Result<Self> {
        let first = acquire::token(settings, &target, issuer.as_ref(), fresh)?;
        let source = Source {
            settings: Settings::fixed(
                settings.config_dir.clone(),
                settings.cache_dir.clone(),
                &settings.profile,
            ),
            target,
            issuer,
        };
        Ok(Tokens {
            source: Arc::new(source),
            state: Mutex::new(State {
                current: Current::new(first, jwt::now()),
                last_forced: None,
                backoff: FIRST_BACKOFF_SECS,
            }),
            single_flight: tokio::sync::Mutex::new(()),
        })
    }

    fn snapshot(&self) -> Current {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .current
            .clone()
    }

    /// When the background task should next look.
    pub fn next_due(&self) -> i64 {
        self.snapshot().due
    }

    /// The token to forward with now: the current one unless a refresh is
    /// due, in which case it is refreshed first (or, if that fails, served
    /// while it is still valid).
    pub async fn get(&self) -> Result<Current> {
        let cur = self.snapshot();
        if jwt::now() < cur.due {
            return Ok(cur);
        }
        self.refresh(&cur.token, false).await
    }

    /// The API rejected `token`: exchange a new one (forced: the cache's
    /// copy is the rejected one) unless another caller already did, or a
    /// forced exchange happened too recently.
    pub async fn rejected(&self, token: &Arc<Secret<String>>) -> Result<Current> {
        self.refresh(token, true).await
    }

    async fn refresh(&self, seen: &Arc<Secret<String>>, rejected: bool) -> Result<Current> {
        let _flight = self.single_flight.lock().await;
        let cur = self.snapshot();
        let now = jwt::now();
        if cur.token.expose() != seen.expose() && (rejected || now < cur.due) {
            // Someone else replaced it while we waited.
            return Ok(cur);
        }
        if rejected {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if st
                .last_forced
                .is_some_and(|t| t.elapsed() < FORCED_MIN_INTERVAL)
            {
                return Ok(st.current.clone());
            }
            st.last_forced = Some(Instant::now());
        }
        let source = self.source.clone();
        let old = cur.token.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(renew(&source, &old, rejected));
        });
        let result = rx
            .await
            .unwrap_or_else(|_| Err(Error::failure("the token refresh thread died")));
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = jwt::now();
        match result {
            Ok(t) => {
                output::info(&format!(
                    "proxy: renewed the token; the new one expires in {}",
                    jwt::human_duration(t.expires_at - now)
                ));
                st.current = Current::new(t, now);
                st.backoff = FIRST_BACKOFF_SECS;
                Ok(st.current.clone())
            }
            Err(e) => {
                // Either way the next try waits for the backoff.
                st.current.due = now + st.backoff;
                st.backoff = (st.backoff * 2).min(60);
                if st.current.expires_at > now + 1 {
                    output::info(&format!(
                        "proxy: renewing the token failed ({}); serving the current one, retrying in {}s",
                        e.message,
                        st.current.due - now
                    ));
                    Ok(st.current.clone())
                } else {
                    output::warn(&format!("proxy: cannot renew the token: {}", e.message));
                    Err(e)
                }
            }
        }
    }
}

/// One renewal, blocking: a token other than `old`. A token the API
/// rejected is replaced by a forced exchange straight away; a due one is
/// first looked for in the cache (another keyless may have renewed it).
fn renew(source: &Source, old: &Secret<String>, rejected: bool) -> Result<acquire::Token> {
    let fresh = Freshness {
        min_ttl: i64::MAX,
        keep_for: 0,
        force_refresh: rejected,
        interactive: false,
    };
    let get = |f| acquire::token(&source.settings, &source.target, source.issuer.as_ref(), f);
    let t = get(fresh)?;
    if t.access_token.expose() != old.expose() {
        return Ok(t);
    }
    get(Freshness {
        force_refresh: true,
        ..fresh
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: i64) -> acquire::Token {
        acquire::Token {
            access_token: Secret::new("t".into()),
            token_type: "Bearer".into(),
            expires_at,
            obtained_at: 1000,
        }
    }

    #[test]
    fn refresh_is_due_at_half_life_and_at_most_five_minutes_before_expiry() {
        assert_eq!(Current::new(token(1060), 1000).due, 1030);
        assert_eq!(Current::new(token(4600), 1000).due, 4300);
        assert_eq!(Current::new(token(1000), 1000).due, 1000);
        assert_eq!(Current::new(token(900), 1000).due, 900);
    }
}
