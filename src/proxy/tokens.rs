//! The token `exec --proxy` forwards with: taken through the same acquire
//! path as every command (cache, lock, single-use ledger) and kept fresh by
//! the one renewal engine ([`crate::handoff::renewal`]) on its proxy
//! schedule: ahead of expiry by a background task, and once per served
//! token when the API rejects it.
//!
//! `acquire::token` blocks (it runs its own small runtime), so renewals run
//! on a thread of their own; the engine lets one be in flight at a time
//! and callers that arrive meanwhile get its result.

use std::sync::{Arc, Mutex};

use axum::http::HeaderValue;

use crate::acquire;
use crate::config::IssuerConfig;
use crate::error::{Error, Result};
use crate::handoff::renewal::{Reason, Renewer, Schedule};
use crate::provider::Configured;
use crate::secret::Secret;
use crate::settings::{Freshness, Settings};

/// A token to forward with, and its `Authorization` value (built once per
/// token, marked sensitive), shared by every request that uses it.
#[derive(Clone)]
pub struct Current {
    pub token: Arc<Secret<String>>,
    pub auth: Option<HeaderValue>,
    /// The renewal engine's token this was made from.
    from: Arc<acquire::Token>,
}

impl From<Arc<acquire::Token>> for Current {
    fn from(t: Arc<acquire::Token>) -> Self {
        let auth = HeaderValue::try_from(format!("Bearer {}", t.access_token.expose()))
            .ok()
            .map(|mut v| {
                v.set_sensitive(true);
                v
            });
        Current {
            token: Arc::new(t.access_token.clone()),
            auth,
            from: t,
        }
    }
}

pub struct Tokens {
    renewer: Arc<Renewer<'static>>,
    /// The last token handed out, reused while the engine's is the same.
    last: Mutex<Option<Current>>,
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
        let settings = Settings::fixed(
            settings.config_dir.clone(),
            settings.cache_dir.clone(),
            &settings.profile,
        );
        let fetch = move |f| acquire::token(&settings, &target, issuer.as_ref(), f);
        Ok(Self::shared(Arc::new(Renewer::new(
            Schedule::PROXY,
            first,
            fetch,
        ))))
    }

    /// Tokens from a renewal engine someone else drives (`keyless agent`,
    /// whose other sinks get what a 401 renews too).
    pub fn shared(renewer: Arc<Renewer<'static>>) -> Self {
        Tokens {
            renewer,
            last: Mutex::new(None),
        }
    }

    /// When the background task should next look (Unix milliseconds).
    pub fn next_due_ms(&self) -> i64 {
        self.renewer.next_due_ms()
    }

    /// The token to forward with now: the current one unless a renewal is
    /// due, in which case it is renewed first (or, if that fails, served
    /// while it is still valid). An expired token is never handed out:
    /// between the retries of an outage the caller answers "no token".
    pub async fn get(&self) -> Result<Current> {
        let t = if self.renewer.is_due() {
            self.renew(None).await?
        } else {
            self.renewer.current()
        };
        self.usable(t)
    }

    /// The API rejected `token`: exchange a new one (forced: the cache's
    /// copy is the rejected one) unless another caller already did, or a
    /// forced exchange happened too recently.
    pub async fn rejected(&self, token: &Arc<Secret<String>>) -> Result<Current> {
        let t = self.renew(Some(token.clone())).await?;
        self.usable(t)
    }

    fn usable(&self, t: Arc<acquire::Token>) -> Result<Current> {
        if t.expires_at.saturating_mul(1000) <= crate::clock::now_ms() {
            return Err(Error::failure(
                "the token has expired and keyless could not renew it yet",
            ));
        }
        Ok(self.current(t))
    }

    fn current(&self, t: Arc<acquire::Token>) -> Current {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match &*last {
            Some(c) if Arc::ptr_eq(&c.from, &t) => c.clone(),
            _ => {
                let c = Current::from(t);
                *last = Some(c.clone());
                c
            }
        }
    }

    async fn renew(&self, rejected: Option<Arc<Secret<String>>>) -> Result<Arc<acquire::Token>> {
        let renewer = self.renewer.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let reason = match &rejected {
                Some(t) => Reason::Rejected(t),
                None => Reason::Due,
            };
            let _ = tx.send(renewer.renew(reason));
        });
        rx.await
            .unwrap_or_else(|_| Err(Error::failure("the token renewal thread died")))
    }
}
