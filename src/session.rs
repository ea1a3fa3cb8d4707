//! The sign-in session: `keyless login`, the refresh grant behind every
//! exchange, and `keyless logout`. The identity sources that use it live in
//! [`crate::source::login`] and [`crate::source::client_credentials`]; this
//! module knows nothing of them.
//!
//! One lock per profile (`login-<profile>.lock` in the cache dir) serialises
//! sign-ins and refreshes across processes: one browser tab, one refresh at a
//! time, and a rotated refresh token is persisted before any token from the
//! same response is used, so a crash cannot lose the session. The refresh
//! token lives in the secret store; the latest ID/access tokens (short-lived)
//! in a 0600 session file beside the token cache.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cache::{LockGuard, TokenCache};
use crate::clock::{self, human_duration};
use crate::config::{AssertionKind, IssuerConfig, LoginFlow};
use crate::error::{Error, Result};
use crate::oidc::{self, Client, Failure, Tokens};
use crate::output;
use crate::private_fs::{self, Read0600};
use crate::provider::TokenKind;
use crate::secret::Secret;
use crate::secret_store::{self, SecretStore};
use crate::settings::Settings;

const SESSION_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SessionFile {
    pub version: u32,
    pub issuer: String,
    pub client_id: String,
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub id_token_exp: Option<i64>,
    pub signed_in_at: i64,
    #[serde(default)]
    pub refreshed_at: Option<i64>,
    /// Random, new at each sign-in and kept by refreshes: which sign-in this
    /// session is, without trusting a clock.
    #[serde(default)]
    pub sign_in_id: Option<String>,
}

fn new_sign_in_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Which sign-in a session is: `None` when there is no session,
/// `Some(None)` for one saved before sign-in ids existed.
pub type SignInMark = Option<Option<String>>;

/// The [`SignInMark`] of the profile's session now.
pub fn current_sign_in(settings: &Settings) -> SignInMark {
    read_session(settings).map(|s| s.sign_in_id)
}

pub fn session_path(settings: &Settings) -> PathBuf {
    settings
        .cache_dir
        .join(format!("session-{}.json", settings.profile))
}

pub fn read_session(settings: &Settings) -> Option<SessionFile> {
    match private_fs::read_private(&session_path(settings), 0o077, 256 * 1024) {
        Ok(Read0600::Data(b)) => serde_json::from_slice::<SessionFile>(&b)
            .ok()
            .filter(|s| s.version == SESSION_VERSION),
        _ => None,
    }
}

fn write_session(settings: &Settings, s: &SessionFile) -> Result<()> {
    private_fs::ensure_dir(&settings.cache_dir).map_err(Error::config)?;
    let path = session_path(settings);
    private_fs::write_atomic(&path, &serde_json::to_vec(s).unwrap_or_default())
        .map_err(|e| Error::io("cannot save the sign-in session", &path, &e))
}

/// The client secret: `KEYLESS_CLIENT_SECRET`, else the secret store.
pub fn client_secret(
    settings: &Settings,
    cfg: &IssuerConfig,
    store: &SecretStore,
) -> Result<Option<Secret<String>>> {
    if let Ok(s) = std::env::var(crate::env_vars::KEYLESS_CLIENT_SECRET)
        && !s.is_empty()
    {
        return Ok(Some(Secret::new(s)));
    }
    if !cfg.confidential {
        return Ok(None);
    }
    store
        .get(&secret_store::client_secret_name(&settings.profile))?
        .map(Some)
        .ok_or_else(|| {
            Error::config("the client is confidential but no client secret is stored").hint(
                "run `keyless setup issuer … --client-secret-stdin`, or set KEYLESS_CLIENT_SECRET",
            )
        })
}

/// The profile's login lock (`login-<profile>.lock` in the cache dir):
/// every sign-in, refresh and logout of the profile holds it.
pub fn lock(settings: &Settings, cache: &TokenCache) -> Result<LockGuard> {
    cache.lock_required(&format!("login-{}", settings.profile))
}

/// How long an interactive sign-in may take (`login --timeout`'s default).
pub const DEFAULT_LOGIN_TIMEOUT_SECS: u64 = 300;

pub struct LoginOptions {
    pub flow: Option<LoginFlow>,
    pub no_browser: bool,
    pub timeout: Duration,
}

/// `keyless login`: sign in interactively, whatever session exists.
pub fn login(settings: &Settings, cfg: &IssuerConfig, opts: &LoginOptions) -> Result<()> {
    let store = SecretStore::open(&settings.config_dir)?;
    let cache = TokenCache::new(settings.cache_dir.clone());
    let seen = current_sign_in(settings);
    let _lock = lock(settings, &cache)?;
    // Parallel sign-ins wait on the lock; whoever waited reuses the sign-in
    // that finished meanwhile instead of opening another browser tab. That
    // one is a session whose sign-in id changed while we waited (a refresh
    // keeps the id; a clock's second cannot tell two sign-ins apart).
    if let Some(s) = read_session(settings)
        && s.issuer == cfg.issuer
        && s.client_id == cfg.client_id
        && s.sign_in_id.is_some()
        && seen.as_ref() != Some(&s.sign_in_id)
    {
        output::note(&format!(
            "Signed in to {} as {} by another keyless process just now.",
            cfg.issuer,
            crate::redact::terminal(&s.sub)
        ));
        return Ok(());
    }
    sign_in(settings, cfg, &store, opts).map(|_| ())
}

/// The sign-in proper; the caller holds the login lock.
pub fn sign_in(
    settings: &Settings,
    cfg: &IssuerConfig,
    store: &SecretStore,
    opts: &LoginOptions,
) -> Result<SessionFile> {
    if std::env::var_os(crate::env_vars::ANTHROPIC_API_KEY).is_some() {
        output::warn(&format!(
            "{} is set; it outranks the token keyless provides in every Anthropic SDK (keyless exec removes it)",
            crate::env_vars::ANTHROPIC_API_KEY
        ));
    }
    let secret = client_secret(settings, cfg, store)?;
    let client = Client::discover(cfg, secret)?;
    let flow = match opts.flow.unwrap_or(cfg.flow) {
        LoginFlow::Auto => {
            let device_ok = client.disc.device_authorization_endpoint.is_some();
            if device_ok && (opts.no_browser || !oidc::browser::can_open()) {
                LoginFlow::Device
            } else {
                LoginFlow::Browser
            }
        }
        f => f,
    };
    let (tokens, nonce) = match flow {
        LoginFlow::Device => (
            oidc::device::login(&client, opts.no_browser, opts.timeout)?,
            None,
        ),
        _ => {
            let o = oidc::browser::login(
                &client,
                &oidc::browser::Options {
                    no_browser: opts.no_browser,
                    timeout: opts.timeout,
                },
            )?;
            (o.tokens, Some(o.nonce))
        }
    };
    let id_token = tokens.id_token.as_ref().ok_or_else(|| {
        Error::denied("the identity provider returned no ID token").hint("include the openid scope")
    })?;
    let claims = client.validate_id_token(id_token.expose(), nonce.as_deref())?;
    if cfg.assertion == AssertionKind::AccessToken {
        let at = tokens
            .access_token
            .as_ref()
            .ok_or_else(|| Error::denied("the identity provider returned no access token"))?;
        oidc::id_token::require_jwt_access_token(at.expose(), client.resource().as_deref())?;
    }
    // The refresh token first: nothing from this response is used before it is safe.
    match &tokens.refresh_token {
        Some(rt) => store.set(&secret_store::refresh_token_name(&settings.profile), rt)?,
        None => output::warn(
            "the identity provider issued no refresh token (is offline_access allowed?); you will need to sign in again when the ID token expires",
        ),
    }
    let now = clock::now();
    let session = SessionFile {
        version: SESSION_VERSION,
        issuer: cfg.issuer.clone(),
        client_id: cfg.client_id.clone(),
        sub: claims.sub.clone(),
        email: claims.email.clone(),
        id_token: Some(id_token.expose().clone()),
        id_token_exp: Some(claims.exp),
        signed_in_at: now,
        refreshed_at: None,
        sign_in_id: Some(new_sign_in_id()),
    };
    write_session(settings, &session)?;
    output::note(&format!(
        "Signed in to {} as {}{}; the ID token is valid for {}. Refresh token kept in {}.",
        cfg.issuer,
        crate::redact::terminal(&claims.sub),
        claims
            .email
            .as_deref()
            .map(|e| format!(" ({})", crate::redact::terminal(e)))
            .unwrap_or_default(),
        human_duration(claims.exp - now),
        store.describe()
    ));
    Ok(session)
}

/// Why no JWT could be had without signing in.
pub fn sign_in_needed(settings: &Settings, why: &str) -> Error {
    Error::sign_in(format!("sign-in required: {why}"))
        .hint(format!("run `{}`", settings.command("login")))
}

/// What a refresh grant gave.
pub enum Refreshed {
    /// A JWT to exchange: the new access token (`--assertion access-token`)
    /// or a new ID token, validated and saved in the session file.
    Jwt(Secret<String>, TokenKind),
    /// The provider sent no new ID token; the caller may fall back to the
    /// session's cached one if it was never exchanged.
    NoNewIdToken,
}

/// One refresh grant; the caller holds the login lock. `Ok(Err(why))`
/// means the session cannot give a JWT without a new sign-in; `Err` is a
/// failure to report as is.
pub fn refresh(
    settings: &Settings,
    cfg: &IssuerConfig,
    store: &SecretStore,
    rt: &Secret<String>,
    session: Option<&SessionFile>,
) -> Result<std::result::Result<Refreshed, String>> {
    let secret = client_secret(settings, cfg, store)?;
    let client = Client::discover(cfg, secret)?;
    let resource = client.resource();
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.expose().as_str()),
    ];
    if let Some(r) = &resource {
        params.push(("resource", r));
    }
    output::info(&format!(
        "refreshing the sign-in session at {}",
        client.disc.token_endpoint
    ));
    let tokens: Tokens = match client.token_request(&params) {
        Ok(t) => t,
        Err(Failure::OAuth { error, .. }) if error == "invalid_grant" => {
            let _ = store.delete(&secret_store::refresh_token_name(&settings.profile));
            return Ok(Err("the sign-in session has expired or was revoked".into()));
        }
        Err(f) => return Err(f.into_error("refreshing the sign-in session")),
    };
    // Rotation: persist the new refresh token before using anything else.
    if let Some(new_rt) = &tokens.refresh_token {
        store.set(&secret_store::refresh_token_name(&settings.profile), new_rt)?;
    }
    let now = clock::now();
    match cfg.assertion {
        AssertionKind::AccessToken => {
            let at = tokens
                .access_token
                .ok_or_else(|| Error::denied("the refresh returned no access token"))?;
            oidc::id_token::require_jwt_access_token(at.expose(), resource.as_deref())?;
            Ok(Ok(Refreshed::Jwt(at, TokenKind::Jwt)))
        }
        AssertionKind::IdToken => {
            let previous = session.and_then(|s| s.id_token.clone());
            let new = tokens
                .id_token
                .filter(|t| Some(t.expose()) != previous.as_ref());
            let Some(id) = new else {
                return Ok(Ok(Refreshed::NoNewIdToken));
            };
            let claims = client.validate_id_token(id.expose(), None)?;
            // OpenID Connect Core §12.2: a refreshed ID token names the same
            // account (iss is checked by the validation). The rotated refresh
            // token now stands for that other account, so it goes too.
            if let Some(s) = session
                && s.sub != claims.sub
            {
                let _ = store.delete(&secret_store::refresh_token_name(&settings.profile));
                return Err(sign_in_needed(
                    settings,
                    &format!(
                        "the identity provider's refresh returned an ID token for another account (subject {:?}, signed in as {:?}); it was not used",
                        crate::redact::server_text(&claims.sub),
                        crate::redact::server_text(&s.sub)
                    ),
                ));
            }
            let mut s = match session {
                Some(s) => s.clone(),
                None => SessionFile {
                    version: SESSION_VERSION,
                    issuer: cfg.issuer.clone(),
                    client_id: cfg.client_id.clone(),
                    signed_in_at: now,
                    sign_in_id: Some(new_sign_in_id()),
                    ..Default::default()
                },
            };
            s.sub = claims.sub;
            s.email = claims.email.or(s.email);
            s.id_token = Some(id.expose().clone());
            s.id_token_exp = Some(claims.exp);
            s.refreshed_at = Some(now);
            write_session(settings, &s)?;
            Ok(Ok(Refreshed::Jwt(id, TokenKind::IdToken)))
        }
    }
}

/// `keyless logout`: revoke the refresh token (RFC 7009, best effort), remove
/// it and the session, and delete the profile's cached tokens. Always
/// succeeds locally.
pub fn logout(
    settings: &Settings,
    cfg: Option<&IssuerConfig>,
    cache_keys: &[crate::cache::CacheKey],
) -> Result<()> {
    // Logout always succeeds locally: every step below only warns.
    let cache = TokenCache::new(settings.cache_dir.clone());
    if !session_path(settings).exists() {
        // Never signed in (or signed out already): no session, so no
        // refresh token to revoke, and no secret store to open (and warn
        // about) on a machine without a keyring.
        let removed = cache.remove_locked(cache_keys);
        output::note(&format!(
            "Profile {:?} is not signed in{}; {removed} cached token{} removed.",
            settings.profile,
            if cfg.is_none() {
                " (it has no issuer: nothing to sign out of)"
            } else {
                ""
            },
            if removed == 1 { "" } else { "s" }
        ));
        return Ok(());
    }
    let _lock = lock(settings, &cache)
        .map_err(|e| {
            output::warn(&format!(
                "signing out without the session lock: {}",
                e.message
            ))
        })
        .ok();
    let store = match SecretStore::open(&settings.config_dir) {
        Ok(s) => Some(s),
        Err(e) => {
            output::warn(&format!(
                "cannot open the secret store ({}); the refresh token stays there",
                e.message
            ));
            None
        }
    };
    let rt_name = secret_store::refresh_token_name(&settings.profile);
    let rt = store.as_ref().and_then(|s| s.get(&rt_name).unwrap_or(None));
    if let (Some(rt), Some(cfg), Some(store)) = (&rt, cfg, &store) {
        let revoked = Client::discover(cfg, client_secret(settings, cfg, store).unwrap_or(None))
            .and_then(|c| match c.disc.revocation_endpoint.clone() {
                None => Ok(false),
                Some(ep) => c
                    .post_form(
                        &ep,
                        &[("token", rt.expose()), ("token_type_hint", "refresh_token")],
                    )
                    .map(|_| true)
                    .map_err(|f| f.into_error("revoking the refresh token")),
            });
        match revoked {
            Ok(true) => output::note(&format!("Revoked the refresh token at {}.", cfg.issuer)),
            Ok(false) => output::note(
                "The issuer has no revocation endpoint; the refresh token was only removed here.",
            ),
            Err(e) => output::warn(&format!(
                "could not revoke the refresh token ({}); removing it here anyway",
                e.message
            )),
        }
    }
    if let Some(store) = &store
        && let Err(e) = store.delete(&rt_name)
    {
        output::warn(&format!(
            "cannot remove the refresh token from the store: {}",
            e.message
        ));
    }
    let _ = std::fs::remove_file(session_path(settings));
    // An exchange holds its key's lock and takes the login lock inside, so
    // the login lock goes first. Under each key's lock, an exchange in flight
    // has either written (and its file goes now) or will find the session
    // gone and not write.
    drop(_lock);
    let removed = cache.remove_locked(cache_keys);
    output::note(&format!(
        "Signed out of profile {:?}: the sign-in session and {removed} cached token{} removed.",
        settings.profile,
        if removed == 1 { "" } else { "s" }
    ));
    Ok(())
}
