//! The use case shared by `credential`, `env` and `exec`: serve from the
//! cache, or take the lock, look again, fetch a fresh identity token
//! (stage 1), claim it in the single-use ledger, exchange it (stage 2), and
//! cache the result (stage 3). Output (stage 4) is the caller's.
//!
//! It is the same for every provider: a [`Configured`] supplies what
//! differs (the cache key, the identity source, the audience and the
//! exchange itself), so nothing here matches on a provider.

use crate::cache::{CacheKey, Claim, Entry, TokenCache};
use crate::clock::{self, human_duration, rfc3339};
use crate::config::IssuerConfig;
use crate::error::{Error, Kind, Result};
use crate::jwt;
use crate::output;
use crate::provider::Configured;
use crate::secret::Secret;
use crate::session;
use crate::settings::{Freshness, Settings};
use crate::source::{self, Origin};

/// A token ready to hand out.
pub struct Token {
    pub access_token: Secret<String>,
    pub token_type: String,
    pub expires_at: i64,
    /// When it was minted (Unix seconds): with `expires_at`, its lifetime.
    pub obtained_at: i64,
}

impl From<Entry> for Token {
    fn from(e: Entry) -> Self {
        Token {
            access_token: e.access_token,
            token_type: e.token_type,
            expires_at: e.expires_at,
            obtained_at: e.obtained_at,
        }
    }
}

/// A token for `target`: from the cache while it is fresh, else exchanged.
/// `issuer` is the profile's, for the `login` and `client-credentials` sources.
pub fn token(
    settings: &Settings,
    target: &Configured,
    issuer: Option<&IssuerConfig>,
    fresh: Freshness,
) -> Result<Token> {
    let t = cached_or_exchanged(settings, target, issuer, fresh)?;
    // Every token keyless hands out passes here: in a GitHub Actions job,
    // the runner masks it in the log before anyone can print it.
    output::mask_in_ci(t.access_token.expose());
    Ok(t)
}

fn cached_or_exchanged(
    settings: &Settings,
    target: &Configured,
    issuer: Option<&IssuerConfig>,
    fresh: Freshness,
) -> Result<Token> {
    let key: CacheKey = target.cache_key(&settings.profile);
    let cache = TokenCache::new(settings.cache_dir.clone());
    let now = clock::now();
    let before = cache.read(&key);
    if let Some(e) = &before
        && !fresh.force_refresh
    {
        if e.is_fresh_for(now, fresh.min_ttl, fresh.keep_for) {
            output::info(&format!(
                "serving the cached token (expires in {})",
                human_duration(e.expires_at - now)
            ));
            return Ok(e.clone().into());
        }
        output::info("the cached token is too close to expiry; exchanging a new one");
    }
    let guard = cache.lock(&key)?;
    // Another process may have exchanged while we waited for the lock. Under
    // --force-refresh only a token that replaced the one we saw counts.
    if let Some(e) = cache.read(&key) {
        let now = clock::now();
        let usable = if fresh.force_refresh {
            let replaced = before
                .as_ref()
                .is_none_or(|b| b.access_token != e.access_token);
            replaced && e.expires_at > now
        } else {
            e.is_fresh_for(now, fresh.min_ttl, fresh.keep_for)
        };
        if usable {
            output::info("another keyless process just exchanged; using its token");
            return Ok(e.into());
        }
    }
    let audience = target.audience(issuer);
    let ctx = source::Context {
        settings,
        issuer,
        interactive: fresh.interactive,
        provider: target.provider(),
        audience: audience.as_deref(),
        audience_explicit: target.recorded_audience(issuer).is_some(),
    };
    let (entry, minted_by) = match exchange(&cache, target, &ctx) {
        Ok(e) => e,
        Err(err) => return serve_stale(before, err, fresh),
    };
    // A logout while the exchange was in flight: the token came from a
    // session that is gone, so it is neither cached nor served.
    if let Some(sign_in) = minted_by
        && session::current_sign_in(settings) != sign_in
    {
        return Err(session::sign_in_needed(
            settings,
            "the sign-in session was signed out or replaced while this exchange was in flight",
        ));
    }
    cache.write(&guard, &key, &entry);
    Ok(entry.into())
}

/// When a refresh fails for a reason that may pass (the identity file has not
/// rotated yet, the network is down) and the cached token is still good for a
/// while, keep serving it, as the SDKs' advisory refresh does. Denials and
/// configuration errors, and `--force-refresh`, still fail.
fn serve_stale(cached: Option<Entry>, err: Error, fresh: Freshness) -> Result<Token> {
    let transient = matches!(err.kind, Kind::SignIn | Kind::Network);
    match cached {
        Some(e) if transient && !fresh.force_refresh && e.servable_as_last_resort(clock::now()) => {
            output::warn(&format!(
                "could not refresh the token ({}); serving the cached one, which expires in {}",
                err.message,
                human_duration(e.expires_at - clock::now())
            ));
            Ok(e.into())
        }
        _ => Err(err),
    }
}

/// The minted token, and for a JWT from the sign-in session, which sign-in
/// that was ([`session::current_sign_in`] right after the fetch).
type Exchanged = (Entry, Option<session::SignInMark>);

fn exchange(cache: &TokenCache, target: &Configured, ctx: &source::Context) -> Result<Exchanged> {
    let identity = source::fetch(target.identity(), ctx)?;
    let minted_by =
        matches!(identity.origin, Origin::Session).then(|| session::current_sign_in(ctx.settings));
    let what = identity.origin.describe();
    let now = clock::now();
    let (claims, warning) = jwt::check_assertion(identity.token.expose(), &what, now)?;
    if let Some(w) = warning {
        output::warn(&w);
    }
    output::debug(&format!(
        "identity token: iss={} sub={} aud={} exp={}{}",
        crate::redact::terminal(claims.iss.as_deref().unwrap_or("-")),
        crate::redact::terminal(claims.sub.as_deref().unwrap_or("-")),
        crate::redact::terminal(&claims.aud.join(",")),
        claims.exp.map(rfc3339).unwrap_or_default(),
        claims
            .jti
            .as_deref()
            .map(|j| format!(" jti={}", crate::redact::terminal(j)))
            .unwrap_or_default()
    ));
    target.check_claims(&claims, ctx.issuer, &what)?;
    crate::config::managed::policy::check_jwt_issuer(
        &ctx.settings.profile,
        target.provider().name(),
        claims.iss.as_deref(),
    )?;
    // The claim comes last before sending: a failure to build the runtime
    // must not leave the JWT recorded as spent.
    let rt = crate::http::runtime()?;
    let digest = crate::cache::ledger_name(target.provider().name(), identity.token.expose());
    let exp = claims.exp.unwrap_or(now);
    let pending = match cache.claim_assertion(&digest, exp, now) {
        Claim::AlreadyExchanged(at) => {
            return Err(already_exchanged(&identity.origin, &what, at, &claims, now));
        }
        Claim::Unknown => {
            output::warn(
                "cannot record which identity tokens were exchanged (no usable cache or temp dir); a single-use JWT may be sent twice",
            );
            None
        }
        Claim::Unwritable(why) => {
            output::warn(&format!(
                "cannot record this identity token in the single-use ledger ({why}); a single-use JWT may be sent twice"
            ));
            None
        }
        Claim::Unreadable(why) => {
            return Err(Error::failure(format!(
                "cannot read the single-use ledger's record of {what} ({why}); keyless will not risk sending it twice"
            ))
            .hint(format!(
                "check the permissions of {}",
                cache.dir().join("exchanged").display()
            )));
        }
        Claim::Fresh(p) => Some(p),
    };
    // The ledger marks the JWT sent once a connection to the endpoint is up.
    let client = match &pending {
        Some(p) => crate::http::client_observed(target.ca_file(), p.on_connect()),
        None => crate::http::client_with_ca(target.ca_file()),
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            if let Some(p) = pending {
                p.release();
            }
            return Err(e);
        }
    };
    // Expiry counts from when the request left, not when the answer came back.
    let sent_at = clock::now();
    // With a ledger record just claimed, this JWT was never sent before: a
    // denial is not `jti_reused`.
    let result = rt.block_on(target.exchange(
        &client,
        &identity.token,
        identity.kind,
        &claims,
        pending.is_some(),
    ));
    let minted = match result {
        Ok(m) => m,
        Err(e) => {
            if let Some(p) = pending {
                if e.not_sent {
                    // The request never left this machine: the JWT is unspent.
                    p.release();
                } else {
                    mark_sent(&p);
                }
            }
            return Err(e.error);
        }
    };
    if let Some(p) = &pending {
        mark_sent(p);
    }
    output::info(&format!(
        "minted a token valid for {}",
        human_duration(minted.expires_in)
    ));
    let entry = Entry {
        access_token: minted.access_token,
        token_type: minted.token_type,
        // Lifetimes are clamped to a day, so this cannot overflow; checked anyway.
        expires_at: sent_at.saturating_add(minted.expires_in),
        obtained_at: sent_at,
    };
    Ok((entry, minted_by))
}

/// After an answer (or a failure that may have reached the server): the
/// connection hook has normally marked the JWT sent already.
fn mark_sent(p: &crate::cache::ledger::Pending) {
    if let Err(e) = p.mark_sent() {
        output::warn(&format!(
            "cannot record in the single-use ledger that the identity token was sent: {}",
            crate::error::io_reason(&e)
        ));
    }
}

/// keyless never presents a JWT twice: the provider would deny it (`jti_reused`)
/// and, worse, blame the rule. Say what happened and when a new one is due.
fn already_exchanged(
    origin: &Origin,
    what: &str,
    at: i64,
    claims: &jwt::Inspected,
    now: i64,
) -> Error {
    let when = if at > 0 {
        format!(" at {} ({} ago)", rfc3339(at), human_duration(now - at))
    } else {
        String::new()
    };
    let mut e = Error::sign_in(format!(
        "{what} was already exchanged{when}; identity tokens are single-use, so keyless will not send it again"
    ));
    match origin {
        Origin::File(_) => {
            if let (Some(iat), Some(exp)) = (claims.iat, claims.exp) {
                // Kubelet and SPIFFE helpers rotate at about 80% of the lifetime.
                let rotate = iat + (exp - iat) * 4 / 5;
                let due = if rotate > now {
                    format!(
                        "around {} (in {})",
                        rfc3339(rotate),
                        human_duration(rotate - now)
                    )
                } else {
                    "any moment now".to_string()
                };
                e = e.detail(format!(
                    "the file will likely be rotated {due}; the token in it expires at {}",
                    rfc3339(exp)
                ));
            }
            e.hint("wait for the file to rotate; until then keyless serves a cached token while one is still valid")
        }
        Origin::EnvValue(var) => e.hint(format!(
            "{var} holds one token per job or run, and keyless already exchanged it: the cached token serves while it lives; for longer jobs raise the federation rule's token lifetime, or put a fresh token in {var}"
        )),
        Origin::Platform(p) => e.hint(format!(
            "{p} handed back a token keyless already exchanged; retry in a moment"
        )),
        Origin::Session | Origin::ClientCredentials => e.hint(
            "the identity provider handed back a token keyless already exchanged; run `keyless login` to start a new session",
        ),
        Origin::Command(_) => e.hint(
            "the command printed a token it had printed before; make it mint a new one on each run",
        ),
    }
}
