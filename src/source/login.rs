//! The `login` source: a fresh JWT per exchange from the `keyless login`
//! session, minted by a refresh grant under the profile's login lock.
//!
//! When the refresh yields no new ID token, a cached one that was never
//! exchanged at this provider will do; when the session cannot give a JWT,
//! a person at a terminal is asked to sign in, and anyone else gets exit 3.

use std::time::Duration;

use super::{IdentityToken, Origin};
use crate::cache::{TokenCache, ledger_name};
use crate::clock;
use crate::config::{AssertionKind, IssuerConfig};
use crate::error::Result;
use crate::output;
use crate::provider::{Provider, TokenKind};
use crate::secret::Secret;
use crate::secret_store::{self, SecretStore};
use crate::session::{self, LoginOptions, Refreshed, SessionFile, sign_in_needed};
use crate::settings::Settings;

/// The session's ID token if it is not about to expire and was not yet
/// spent at `provider` (the single-use ledger is per provider).
fn unexchanged<'s>(cache: &TokenCache, provider: Provider, s: &'s SessionFile) -> Option<&'s str> {
    s.id_token.as_deref().filter(|t| {
        s.id_token_exp.is_some_and(|e| e - clock::now() > 60)
            && cache
                .exchanged_at(&ledger_name(provider.name(), t))
                .is_none()
    })
}

/// The session's ID token, as cached in the session file.
fn origin_session(token: &str) -> IdentityToken {
    IdentityToken {
        token: Secret::new(token.to_string()),
        origin: Origin::Session,
        kind: TokenKind::IdToken,
    }
}

/// A JWT for one exchange at `provider`, minted from the session by a
/// refresh grant. `interactive`: may a sign-in start here (a terminal, no
/// --no-login)?
pub fn fresh_jwt(
    settings: &Settings,
    cfg: &IssuerConfig,
    interactive: bool,
    provider: Provider,
) -> Result<IdentityToken> {
    let store = SecretStore::open(&settings.config_dir)?;
    let cache = TokenCache::new(settings.cache_dir.clone());
    let _lock = session::lock(settings, &cache)?;
    let rt_name = secret_store::refresh_token_name(&settings.profile);
    let session = session::read_session(settings)
        .filter(|s| s.issuer == cfg.issuer && s.client_id == cfg.client_id);
    let why = match (store.get(&rt_name)?, &session) {
        (None, None) => "no sign-in session for this profile".to_string(),
        (None, Some(s)) => {
            if let Some(t) = unexchanged(&cache, provider, s)
                && cfg.assertion == AssertionKind::IdToken
            {
                return Ok(origin_session(t));
            }
            "the session has no refresh token and its ID token is spent or expiring".to_string()
        }
        (Some(rt), _) => match refreshed(
            settings,
            cfg,
            &store,
            &rt,
            session.as_ref(),
            &cache,
            provider,
        )? {
            Ok(tok) => return Ok(tok),
            Err(why) => why,
        },
    };
    if !interactive {
        return Err(sign_in_needed(settings, &why));
    }
    output::note(&format!("Sign-in required ({why})."));
    let opts = LoginOptions {
        flow: None,
        no_browser: false,
        timeout: Duration::from_secs(session::DEFAULT_LOGIN_TIMEOUT_SECS),
    };
    let s = session::sign_in(settings, cfg, &store, &opts)?;
    match cfg.assertion {
        AssertionKind::IdToken => s
            .id_token
            .as_deref()
            .map(origin_session)
            .ok_or_else(|| sign_in_needed(settings, "the sign-in produced no ID token")),
        // The access token of a fresh sign-in is minted by a refresh right away.
        AssertionKind::AccessToken => match store.get(&rt_name)? {
            Some(rt) => refreshed(settings, cfg, &store, &rt, Some(&s), &cache, provider)?
                .map_err(|why| sign_in_needed(settings, &why)),
            None => Err(sign_in_needed(
                settings,
                "the provider issued no refresh token",
            )),
        },
    }
}

/// A refresh grant, falling back to the session's unexchanged ID token
/// when the provider sends no new one. `Ok(Err(why))`: sign-in needed.
fn refreshed(
    settings: &Settings,
    cfg: &IssuerConfig,
    store: &SecretStore,
    rt: &Secret<String>,
    session: Option<&SessionFile>,
    cache: &TokenCache,
    provider: Provider,
) -> Result<std::result::Result<IdentityToken, String>> {
    match session::refresh(settings, cfg, store, rt, session)? {
        Err(why) => Ok(Err(why)),
        Ok(Refreshed::Jwt(token, kind)) => Ok(Ok(IdentityToken {
            token,
            origin: Origin::Session,
            kind,
        })),
        Ok(Refreshed::NoNewIdToken) => {
            if let Some(t) = session.and_then(|s| unexchanged(cache, provider, s)) {
                output::info(
                    "the refresh returned no new ID token; using the session's unexchanged one",
                );
                return Ok(Ok(origin_session(t)));
            }
            Ok(Err(
                "the provider returned no new ID token on refresh, and the cached one was already exchanged".into(),
            ))
        }
    }
}
