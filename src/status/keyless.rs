//! keyless's own state for `auth status`: per provider, its configuration,
//! whether its identity source can give a JWT now, and its cached token;
//! and the sign-in session.
//!
//! It reads through the same stage-1 code ([`crate::source`]) and cache
//! parser ([`crate::cache`]) as the pipeline, so what it reports is what
//! `credential` would act on. It runs no identity command and makes no
//! network call: a command is only looked up on `PATH`.

use std::path::{Path, PathBuf};

use super::{CacheFreshness, CacheState, IdentityState, ProviderState, SessionState, precedence};
use crate::cache::{CacheKey, Inspection, TokenCache, ledger_name};
use crate::clock;
use crate::config::{IdentitySource, IssuerConfig};
use crate::env_vars;
use crate::jwt;
use crate::provider::{Configured, Provider};
use crate::redact::mask_token;
use crate::settings::{DEFAULT_MIN_TTL_SECS, Settings};
use crate::source::env::{Located, locate, neither_set};

/// `issuer` is the profile's, as `acquire` passes it: the audience
/// reported is the one `credential` asks for.
pub fn provider_state(
    s: &Settings,
    target: &Configured,
    issuer: Option<&IssuerConfig>,
    origins: crate::provider::from_env::Origins,
    cache: &TokenCache,
    env: &precedence::Env,
    warnings: &mut Vec<String>,
) -> ProviderState {
    let cstate = cache_state(cache, &target.cache_key(&s.profile), warnings);
    let provider = target.provider();
    let audience = Audience {
        asked: target.audience(issuer),
        explicit: target.recorded_audience(issuer).is_some(),
    };
    let identity = identity_state(target, issuer, &audience, s, cache, env);
    let now = clock::now();
    let can_serve = identity.available
        || cstate
            .expires_at
            .is_some_and(|exp| exp - now > crate::cache::LAST_RESORT_SECS);
    let openai_base = (env.var)(env_vars::OPENAI_BASE_URL);
    if let Configured::OpenAi(_) = target
        && let Err(e) = crate::provider::openai::env_base_url(openai_base.as_deref())
    {
        warnings.push(e.message);
    }
    let base = ProviderState {
        provider: provider.name(),
        identity_provider_id: None,
        token_endpoint: target.token_endpoint(),
        federation_rule_id: None,
        organization_id: None,
        service_account_id: None,
        workspace_id: None,
        base_url: target.api_base(openai_base.as_deref()),
        can_serve,
        identity,
        cache: cstate,
        origins,
    };
    match target {
        Configured::Anthropic(cfg) => ProviderState {
            federation_rule_id: Some(cfg.federation_rule_id.clone()),
            organization_id: Some(cfg.organization_id.clone()),
            service_account_id: cfg.service_account_id.clone(),
            workspace_id: cfg.workspace_id.clone(),
            // The profile's own spelling of its base URL.
            base_url: cfg
                .base_url
                .clone()
                .unwrap_or_else(|| crate::config::DEFAULT_ANTHROPIC_BASE_URL.into()),
            ..base
        },
        Configured::OpenAi(cfg) => ProviderState {
            identity_provider_id: Some(cfg.identity_provider_id.clone()),
            service_account_id: Some(cfg.service_account_id.clone()),
            ..base
        },
    }
}

fn cache_state(cache: &TokenCache, key: &CacheKey, warnings: &mut Vec<String>) -> CacheState {
    let now = clock::now();
    let mut c = CacheState {
        state: CacheFreshness::Missing,
        path: cache.entry_path(key).display().to_string(),
        expires_at: None,
        expiration: None,
        expires_in: None,
        masked_token: None,
        detail: None,
    };
    match cache.inspect(key) {
        Inspection::Missing => {}
        Inspection::Unsafe(m) | Inspection::Unreadable(m) => {
            warnings.push(format!("{m}; the next call replaces it"));
            c.state = CacheFreshness::Unusable;
            c.detail = Some(m);
        }
        Inspection::Valid(e) => {
            c.state = if e.expires_at <= now {
                CacheFreshness::Expired
            } else if e.is_fresh(now, DEFAULT_MIN_TTL_SECS.into()) {
                CacheFreshness::Fresh
            } else {
                CacheFreshness::RefreshDue
            };
            c.expires_at = Some(e.expires_at);
            c.expiration = Some(clock::rfc3339(e.expires_at));
            c.expires_in = Some(e.expires_at - now);
            c.masked_token = Some(mask_token(e.access_token.expose()));
        }
    }
    c
}

/// The audience keyless asks identity sources for, and whether the profile
/// or the environment named it.
struct Audience {
    asked: Option<String>,
    explicit: bool,
}

/// What is known while judging one identity source: the verdicts it
/// builds carry the source's spec and the audience asked.
struct Judging<'a> {
    provider: Provider,
    target: &'a Configured,
    issuer: Option<&'a IssuerConfig>,
    src: &'a IdentitySource,
    aud: &'a Audience,
    cache: &'a TokenCache,
}

impl Judging<'_> {
    fn state(&self, available: bool, reason: Option<String>) -> IdentityState {
        IdentityState {
            source: self.src.spec(),
            available,
            reason,
            audience: self.aud.asked.clone(),
            skipped: Vec::new(),
        }
    }

    /// A JWT at hand: usable unless expired, for another audience than the
    /// profile names (the refusal `credential` makes before spending it), or
    /// already exchanged. The audience reported is the token's.
    fn judge(&self, token: &str, what: &str) -> IdentityState {
        // The refusal `credential` makes before spending it, asked the same.
        let mismatch =
            |claims: &jwt::Inspected| self.target.claims_mismatch(claims, self.issuer, what);
        let in_token = jwt::inspect(token, what)
            .ok()
            .map(|c| c.aud.join(" "))
            .filter(|a| !a.is_empty());
        let st = match jwt::check_assertion(token, what, clock::now()) {
            Err(e) => self.state(false, Some(e.message)),
            Ok((claims, _)) if mismatch(&claims).is_some() => {
                self.state(false, mismatch(&claims).map(|e| e.message))
            }
            Ok(_) => match self
                .cache
                .exchanged_at(&ledger_name(self.provider.name(), token))
            {
                Some(_) => self.state(
                    false,
                    Some(format!(
                        "{what} was already exchanged; waiting for a new one"
                    )),
                ),
                None => self.state(true, None),
            },
        };
        IdentityState {
            audience: in_token.or(st.audience),
            ..st
        }
    }

    fn file(&self, path: &Path) -> IdentityState {
        match crate::source::file::read(path) {
            Ok(t) => self.judge(
                t.token.expose(),
                &format!("the token in {}", path.display()),
            ),
            Err(e) => self.state(false, Some(e.message)),
        }
    }

    /// The variables `env` reads: a file's path or the token itself.
    fn env_vars(&self, get: &dyn Fn(&str) -> Option<String>) -> IdentityState {
        let vars = self.provider.identity_vars();
        match locate(vars, get) {
            Located::File(p) => self.file(&p),
            Located::Value(var, t) => self.judge(t.expose(), &format!("the token in ${var}")),
            Located::Neither => self.state(false, Some(neither_set(vars))),
        }
    }

    fn named_var(&self, name: &str, get: &dyn Fn(&str) -> Option<String>) -> IdentityState {
        match env_vars::lookup(get, name) {
            Some(t) => self.judge(t.trim(), &format!("the token in ${name}")),
            None => self.state(false, Some(format!("{name} is not set"))),
        }
    }

    fn github_actions(&self, get: &dyn Fn(&str) -> Option<String>) -> IdentityState {
        let set = |n: &str| env_vars::lookup(get, n).is_some();
        if set(env_vars::ACTIONS_ID_TOKEN_REQUEST_URL)
            && set(env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN)
        {
            self.state(
                true,
                Some("GitHub Actions' OIDC endpoint (not requested without --check)".into()),
            )
        } else {
            self.state(
                false,
                Some(format!(
                    "{} and {} are not set (the job needs `permissions: id-token: write`)",
                    env_vars::ACTIONS_ID_TOKEN_REQUEST_URL,
                    env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN
                )),
            )
        }
    }

    fn login(&self, settings: &Settings) -> IdentityState {
        match crate::session::read_session(settings) {
            Some(s) => self.state(
                true,
                Some(format!(
                    "sign-in session for {}",
                    crate::redact::terminal(&s.sub)
                )),
            ),
            None => self.state(
                false,
                Some("no sign-in session: run `keyless login`".into()),
            ),
        }
    }

    /// A command is only looked up on `PATH`, never run.
    fn command(&self, argv: &[String], path: Option<&str>) -> IdentityState {
        match argv.first() {
            None => self.state(false, Some("the identity command is empty".into())),
            Some(prog) => match find_program(prog, path) {
                Some(_) => self.state(
                    true,
                    Some(format!("`{prog}` found (not run without --check)")),
                ),
                None => self.state(
                    false,
                    Some(format!("`{prog}` is not found or not executable")),
                ),
            },
        }
    }
}

/// Is a JWT available from this source right now? Files and variables are
/// read and inspected; a command is only looked up, never run.
fn identity_state(
    target: &Configured,
    issuer: Option<&IssuerConfig>,
    aud: &Audience,
    settings: &Settings,
    cache: &TokenCache,
    env: &precedence::Env,
) -> IdentityState {
    let provider = target.provider();
    let src = target.identity();
    let j = Judging {
        provider,
        target,
        issuer,
        src,
        aud,
        cache,
    };
    let state = |available: bool, reason: Option<String>| j.state(available, reason);
    let judge = |token: &str, what: &str| j.judge(token, what);
    let explicit_audience = aud.asked.as_deref().filter(|_| aud.explicit);
    match src {
        IdentitySource::File { path } => {
            let p = match (path.strip_prefix("~/"), &env.home) {
                (Some(rest), Some(h)) => h.join(rest),
                _ => PathBuf::from(path),
            };
            j.file(&p)
        }
        IdentitySource::Env => j.env_vars(env.var),
        IdentitySource::EnvNamed { name } => j.named_var(name, env.var),
        IdentitySource::GithubActions => j.github_actions(env.var),
        IdentitySource::Auto => super::ambient::auto_state(
            provider,
            aud.asked.as_deref(),
            aud.explicit,
            env.var,
            &state,
            &judge,
        ),
        IdentitySource::Azure => {
            super::ambient::azure_state(explicit_audience, env.var, &state, &judge)
        }
        IdentitySource::Buildkite => super::ambient::buildkite_state(env.var, &state),
        IdentitySource::AzurePipelines { .. } => super::ambient::azure_pipelines_state(
            aud.asked.as_deref(),
            aud.explicit,
            env.var,
            &state,
        ),
        IdentitySource::Gcp => j.state(
            true,
            Some("the GCP metadata server (not requested without --check)".into()),
        ),
        IdentitySource::Aws => {
            let (available, reason) = crate::source::aws::status(env.var);
            j.state(available, Some(reason))
        }
        IdentitySource::Login => j.login(settings),
        IdentitySource::ClientCredentials { .. } => j.state(
            true,
            Some("client credentials at the issuer (not requested without --check)".into()),
        ),
        IdentitySource::Command { argv } => j.command(argv, (env.var)(env_vars::PATH).as_deref()),
    }
}

fn find_program(prog: &str, path: Option<&str>) -> Option<PathBuf> {
    let executable = |p: &Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        p.is_file()
    };
    if prog.contains('/') {
        let p = PathBuf::from(prog);
        return executable(&p).then_some(p);
    }
    std::env::split_paths(path?)
        .map(|d| d.join(prog))
        .find(|p| executable(p))
}

/// The sign-in session of the profile's issuer. The keyring is never
/// queried here: `store_file` is the file store's path, when that is in use.
pub fn session_state(
    s: &Settings,
    issuer: IssuerConfig,
    store_desc: String,
    store_file: Option<&Path>,
) -> SessionState {
    let f = crate::session::read_session(s).filter(|f| f.issuer == issuer.issuer);
    SessionState {
        signed_in: f.is_some(),
        subject: f.as_ref().map(|f| f.sub.clone()),
        email: f.as_ref().and_then(|f| f.email.clone()),
        id_token_expires_at: f.as_ref().and_then(|f| f.id_token_exp),
        id_token_expiration: f.as_ref().and_then(|f| f.id_token_exp).map(clock::rfc3339),
        refresh_token_store: store_desc,
        refresh_token_present: store_file.map(|p| {
            crate::secret_store::file_has(p, &crate::secret_store::refresh_token_name(&s.profile))
        }),
        issuer: issuer.issuer,
        client_id: issuer.client_id,
    }
}
