//! The one renewal engine: keeps a token fresh for a program keyless did
//! not write, for every long-running consumer (`exec --refresh`'s SDK
//! profile, `exec --proxy`'s gate, and `keyless agent`'s sinks). Consumers
//! differ only in *where* the token goes (a [`Renewer::deliver_to`] sink, or
//! none when they read [`Renewer::current`]) and *when* it must be there
//! (the [`Schedule`] they pass); everything else is decided here once:
//!
//! - when a token is due ([`Schedule::due_at_ms`]);
//! - the one renewal step: ask the cache with `min_ttl = MAX` (another
//!   keyless may already hold a newer token), and force an exchange when
//!   that gives back the same token or one already due;
//! - a token the API rejected (HTTP 401) is replaced by a forced exchange,
//!   at most once per [`FORCED_MIN_INTERVAL`];
//! - one backoff after a failure: 1 s doubling, capped at a minute and at a
//!   tenth of the token's life;
//! - one place that logs renewals, failures and expiry.
//!
//! Usage, for a new consumer:
//!
//! ```ignore
//! let r = Renewer::new(Schedule::SDK_PROFILE, first, |fresh| acquire::token(s, &t, i, fresh))
//!     .deliver_to(|t| sink.write(t));
//! loop {
//!     sleep_until_ms(r.next_due_ms());
//!     let _ = r.renew(Reason::Due);  // logged here; Err only when nothing valid is left
//! }
//! ```
//!
//! It does not sleep, spawn or choose a provider: the consumer owns its
//! loop (a blocking wait for `exec --refresh`, a task for the proxy).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::acquire::Token;
use crate::clock::{self, now_ms};
use crate::error::Result;
use crate::output;
use crate::secret::Secret;
use crate::settings::Freshness;

/// A rejected token is replaced at most this often: a rule that denies
/// every new token must not turn each API call into an exchange.
pub const FORCED_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// The first wait after a failed renewal; it doubles up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 1000;
const MAX_BACKOFF_MS: i64 = 60_000;

/// When a consumer needs its next token: at half the token's life, then
/// moved to keep at least `lead_at_least_secs` and at most
/// `lead_at_most_secs` before expiry, and never before a quarter of the
/// life (so a token too short for the lead is not renewed in a loop).
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Who renews, at the start of the log lines.
    pub who: &'static str,
    pub lead_at_least_secs: i64,
    pub lead_at_most_secs: i64,
}

/// The Anthropic SDKs re-read an externally rotated credentials file once
/// less than this remains (advisory refresh) ...
pub const SDK_REREAD_WINDOW_SECS: i64 = 120;
/// ... and treat a token with less than this left as expired.
pub const SDK_EXPIRED_SECS: i64 = 30;

impl Schedule {
    /// `exec --refresh`'s SDK profile: the new token is in the credentials
    /// file a minute before the SDKs' re-read window (180 s before expiry)
    /// or, for tokens under 4 minutes, with three quarters of the life left
    /// (45 s for a 60 s token, clear of the SDKs' 30 s "expired").
    pub const SDK_PROFILE: Schedule = Schedule {
        who: "exec --refresh",
        lead_at_least_secs: SDK_REREAD_WINDOW_SECS + 60,
        lead_at_most_secs: i64::MAX,
    };
    /// `exec --proxy`: renewed 5 minutes before expiry, or at half-life for
    /// tokens under 10 minutes; a 401 renews at once (see [`Reason`]).
    pub const PROXY: Schedule = Schedule {
        who: "proxy",
        lead_at_least_secs: 0,
        lead_at_most_secs: 300,
    };

    /// When a token minted at `obtained_at` and expiring at `expires_at`
    /// (Unix seconds) is due, in Unix milliseconds. A token obtained long
    /// ago (from the cache) may be due already.
    pub fn due_at_ms(&self, obtained_at: i64, expires_at: i64) -> i64 {
        let expires = expires_at.saturating_mul(1000);
        let life = expires
            .saturating_sub(obtained_at.saturating_mul(1000))
            .max(0);
        let lead = (life / 2)
            .max(self.lead_at_least_secs.saturating_mul(1000))
            .min(self.lead_at_most_secs.saturating_mul(1000))
            .min(life - life / 4);
        expires - lead
    }

    fn due(&self, t: &Token) -> i64 {
        self.due_at_ms(t.obtained_at, t.expires_at)
    }
}

/// Why a renewal is asked for.
pub enum Reason<'t> {
    /// The schedule says so (a no-op if another caller already renewed).
    Due,
    /// The API refused this token: replace it unless it was already.
    Rejected(&'t Secret<String>),
}

type Fetch<'a> = Box<dyn Fn(Freshness) -> Result<Token> + Send + Sync + 'a>;
type Deliver<'a> = Box<dyn Fn(&Token) -> Result<()> + Send + Sync + 'a>;

struct State {
    current: Arc<Token>,
    due_ms: i64,
    backoff_ms: i64,
    last_forced: Option<Instant>,
    warned_expired: bool,
}

/// Keeps one provider's token fresh on one [`Schedule`]. Shareable: the
/// state lock is held only briefly; one renewal is in flight at a time and
/// callers arriving meanwhile get its result.
pub struct Renewer<'a> {
    schedule: Schedule,
    fetch: Fetch<'a>,
    deliver: Option<Deliver<'a>>,
    state: Mutex<State>,
    flight: Mutex<()>,
}

impl<'a> Renewer<'a> {
    /// Start from `first` (already delivered, if there is a sink); `fetch`
    /// is `acquire::token` for the consumer's provider with the given
    /// freshness.
    pub fn new(
        schedule: Schedule,
        first: Token,
        fetch: impl Fn(Freshness) -> Result<Token> + Send + Sync + 'a,
    ) -> Self {
        let due_ms = schedule.due(&first);
        Renewer {
            schedule,
            fetch: Box::new(fetch),
            deliver: None,
            state: Mutex::new(State {
                current: Arc::new(first),
                due_ms,
                backoff_ms: FIRST_BACKOFF_MS,
                last_forced: None,
                warned_expired: false,
            }),
            flight: Mutex::new(()),
        }
    }

    /// Put each new token in place with `sink` before it counts as renewed
    /// (a failed write is a failed renewal, retried on the backoff).
    pub fn deliver_to(mut self, sink: impl Fn(&Token) -> Result<()> + Send + Sync + 'a) -> Self {
        self.deliver = Some(Box::new(sink));
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The token to use now.
    pub fn current(&self) -> Arc<Token> {
        self.state().current.clone()
    }

    /// When the next renewal is due (Unix milliseconds): the schedule's
    /// point, or the backoff's after a failure.
    pub fn next_due_ms(&self) -> i64 {
        self.state().due_ms
    }

    pub fn is_due(&self) -> bool {
        now_ms() >= self.next_due_ms()
    }

    /// Renew for `reason`, logging the outcome. On failure the current
    /// token is returned while it is still valid (the next try waits for the
    /// backoff); `Err` only when nothing valid is left.
    pub fn renew(&self, reason: Reason) -> Result<Arc<Token>> {
        let _flight = self.flight.lock().unwrap_or_else(|p| p.into_inner());
        let forced = {
            let mut st = self.state();
            match reason {
                Reason::Due if now_ms() < st.due_ms => return Ok(st.current.clone()),
                Reason::Due => false,
                Reason::Rejected(seen) => {
                    // Someone else replaced it while we waited, or a forced
                    // exchange happened too recently.
                    if st.current.access_token.expose() != seen.expose()
                        || st
                            .last_forced
                            .is_some_and(|t| t.elapsed() < FORCED_MIN_INTERVAL)
                    {
                        return Ok(st.current.clone());
                    }
                    st.last_forced = Some(Instant::now());
                    true
                }
            }
        };
        let old = self.current();
        let result = self.fetch_new(&old, forced).and_then(|t| {
            if let Some(sink) = &self.deliver {
                sink(&t)?;
            }
            Ok(t)
        });
        let mut st = self.state();
        let who = self.schedule.who;
        match result {
            Ok(t) => {
                output::info(&format!(
                    "{who}: renewed the token; the new one expires in {}",
                    clock::human_duration(t.expires_at - clock::now())
                ));
                st.due_ms = self.schedule.due(&t);
                st.current = Arc::new(t);
                st.backoff_ms = FIRST_BACKOFF_MS;
                st.warned_expired = false;
                Ok(st.current.clone())
            }
            Err(e) => {
                let life_ms = (st.current.expires_at - st.current.obtained_at).max(10) * 1000;
                st.due_ms = now_ms() + st.backoff_ms;
                let retry = st.backoff_ms;
                st.backoff_ms = next_backoff(st.backoff_ms, life_ms);
                if st.current.expires_at > clock::now() + 1 {
                    output::info(&format!(
                        "{who}: renewing the token failed ({}); the current one expires in {}, retrying in {retry} ms",
                        e.message,
                        clock::human_duration(st.current.expires_at - clock::now())
                    ));
                    Ok(st.current.clone())
                } else {
                    if !st.warned_expired {
                        output::warn(&format!(
                            "{who}: the token has expired and keyless could not renew it ({}); API calls fail until it can, retrying in {retry} ms",
                            e.message
                        ));
                        st.warned_expired = true;
                    }
                    Err(e)
                }
            }
        }
    }

    /// The one renewal step: a token other than `old`. A due renewal asks
    /// the cache first (`min_ttl = MAX`: served only if another process
    /// already renewed), and forces an exchange when that gives back `old`
    /// or a token already due; a rejected token is replaced by a forced
    /// exchange straight away (the cache's copy is the rejected one).
    fn fetch_new(&self, old: &Token, forced: bool) -> Result<Token> {
        let fresh = Freshness {
            min_ttl: i64::MAX,
            keep_for: 0,
            force_refresh: forced,
            interactive: false,
        };
        let t = (self.fetch)(fresh)?;
        if forced
            || (t.access_token.expose() != old.access_token.expose()
                && self.schedule.due(&t) > now_ms())
        {
            return Ok(t);
        }
        (self.fetch)(Freshness {
            force_refresh: true,
            ..fresh
        })
    }
}

/// Doubling, at most a minute and a tenth of the token's life, at least 1 s.
fn next_backoff(backoff_ms: i64, life_ms: i64) -> i64 {
    (backoff_ms * 2)
        .min(MAX_BACKOFF_MS)
        .min(life_ms / 10)
        .max(FIRST_BACKOFF_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Every lifetime the providers allow, 60 s to 24 h.
    fn lifetimes() -> impl Iterator<Item = i64> {
        (60..=600).chain((601..=86_400).step_by(97)).chain([86_400])
    }

    /// A fresh token: the replacement is in place while the old one still
    /// has 180 s (outside the SDKs' 120 s re-read window) or, for tokens too
    /// short for that, three quarters of its life (45 s for a 60 s token,
    /// far from the SDKs' 30 s "expired"); never before a quarter of its life
    /// (no exchange loop) and never after half.
    #[test]
    fn sdk_profile_rotation_is_early_enough_for_every_lifetime() {
        let t0 = 1_000_000i64;
        for life in lifetimes() {
            let due = Schedule::SDK_PROFILE.due_at_ms(t0, t0 + life);
            let left = (t0 + life) * 1000 - due;
            assert!(
                left >= 1000 * 180.min(life * 3 / 4),
                "{life} s token: rotated with {left} ms left"
            );
            assert!(left >= 45_000, "{life} s token: {left} ms left");
            assert!(
                due - t0 * 1000 >= life * 250,
                "{life} s token: rotated too soon"
            );
            assert!(
                due - t0 * 1000 <= life * 500,
                "{life} s token: after half-life"
            );
        }
    }

    #[test]
    fn sdk_profile_due_points() {
        let t0 = 1_000_000i64;
        let due = |life| Schedule::SDK_PROFILE.due_at_ms(t0, t0 + life);
        // a 60 s token obtained 40 s ago: due already
        assert!(due(60) <= (t0 + 40) * 1000);
        assert_eq!(due(60), (t0 + 15) * 1000);
        assert_eq!(due(600), (t0 + 300) * 1000);
        assert_eq!(due(300), (t0 + 120) * 1000);
        assert_eq!(due(86_400), (t0 + 43_200) * 1000);
    }

    #[test]
    fn proxy_renews_at_half_life_and_at_most_five_minutes_before_expiry() {
        let due = |exp| Schedule::PROXY.due_at_ms(1000, exp) / 1000;
        assert_eq!(due(1060), 1030);
        assert_eq!(due(4600), 4300);
        assert_eq!(due(1000), 1000);
        assert_eq!(due(900), 900);
    }

    #[test]
    fn backoff_doubles_to_a_minute_or_a_tenth_of_the_life() {
        assert_eq!(next_backoff(1000, 3_600_000), 2000);
        assert_eq!(next_backoff(40_000, 3_600_000), 60_000);
        assert_eq!(next_backoff(4000, 60_000), 6000);
        assert_eq!(next_backoff(1000, 5000), 1000);
    }

    fn token(value: &str, obtained_at: i64, expires_at: i64) -> Token {
        Token {
            access_token: Secret::new(value.into()),
            token_type: "Bearer".into(),
            expires_at,
            obtained_at,
        }
    }

    /// The cache gives back the same token: the engine forces an exchange
    /// once, and delivers the new token.
    #[test]
    fn an_unchanged_token_is_replaced_by_a_forced_exchange() {
        let now = clock::now();
        let calls = AtomicUsize::new(0);
        let delivered = Mutex::new(Vec::new());
        let r = Renewer::new(Schedule::PROXY, token("old", now - 50, now + 10), |f| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(if f.force_refresh {
                token("new", now, now + 3600)
            } else {
                token("old", now - 50, now + 10)
            })
        })
        .deliver_to(|t| {
            delivered
                .lock()
                .unwrap()
                .push(t.access_token.expose().clone());
            Ok(())
        });
        assert!(r.is_due());
        let t = r.renew(Reason::Due).unwrap();
        assert_eq!(t.access_token.expose(), "new");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(*delivered.lock().unwrap(), ["new"]);
        assert!(!r.is_due());
        // not due: no fetch
        r.renew(Reason::Due).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    /// A 401 forces one exchange; a second 401 for the same token within
    /// the interval, or for a token already replaced, fetches nothing.
    #[test]
    fn a_rejected_token_is_replaced_once() {
        let now = clock::now();
        let calls = AtomicUsize::new(0);
        let r = Renewer::new(Schedule::PROXY, token("a", now, now + 3600), |f| {
            assert!(f.force_refresh);
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Ok(token(&format!("t{n}"), now, now + 3600))
        });
        let a = r.current();
        assert_eq!(
            r.renew(Reason::Rejected(&a.access_token))
                .unwrap()
                .access_token
                .expose(),
            "t0"
        );
        r.renew(Reason::Rejected(&a.access_token)).unwrap();
        let t0 = r.current();
        r.renew(Reason::Rejected(&t0.access_token)).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// A failure keeps a still-valid token and backs off; with nothing
    /// valid left it is an error.
    #[test]
    fn a_failure_backs_off_and_serves_a_still_valid_token() {
        let now = clock::now();
        let fail = |_| Err(crate::error::Error::network("down"));
        let r = Renewer::new(Schedule::PROXY, token("a", now - 100, now + 100), fail);
        assert_eq!(r.renew(Reason::Due).unwrap().access_token.expose(), "a");
        assert!(r.next_due_ms() > now_ms());
        let gone = Renewer::new(Schedule::PROXY, token("a", now - 100, now - 1), fail);
        assert!(gone.renew(Reason::Due).is_err());
    }
}
