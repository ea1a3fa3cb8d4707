//! Zero setup: a provider's configuration from the SDKs' own environment
//! variables, for CI jobs that follow Anthropic's migration guide ("inject
//! four variables and remove the API key") and never run `keyless setup`.
//!
//! With no saved configuration, the variables make one (a partial set is an
//! error naming what is missing); with one, its fields win and the
//! variables only fill optional fields it lacks, as the SDKs' rule is. The
//! base URL is taken from the environment only in zero setup: an inherited
//! `ANTHROPIC_BASE_URL` must not redirect a saved profile's JWTs. Every
//! value gets `setup`'s checks. [`Origins`] records where each field came
//! from, for `auth status`.

use std::collections::BTreeMap;

use crate::config::checks;
use crate::config::{AnthropicConfig, BaseUrl, Federation, IdentitySource, OpenAiConfig};
use crate::env_vars as ev;
use crate::error::{Error, Result};
use crate::provider::Provider;

/// Field name → the variable it came from (absent: the config file).
pub type Origins = BTreeMap<&'static str, &'static str>;

/// Reads one variable; blank counts as unset.
pub type Getter<'a> = ev::Lookup<'a>;

fn get(env: Getter, name: &str) -> Option<String> {
    ev::lookup(env, name).map(|v| v.trim().to_string())
}

/// A check's refusal, reworded for the variable that held the value.
fn bad(var: &str, e: Error) -> Error {
    let mut out = Error::config(format!("{var} is not usable: {}", e.message));
    if let Some(h) = e.hint {
        out = out.hint(h);
    }
    out
}

/// The identity source when the environment decides it: the provider's own
/// token variables, else `KEYLESS_IDENTITY` (any `--identity` value), else
/// `auto`, which detects the platform and lists what it considered.
fn identity(env: Getter, file_var: &str, token_var: &str) -> Result<Option<IdentitySource>> {
    if get(env, file_var).is_some() || get(env, token_var).is_some() {
        return Ok(Some(IdentitySource::Env));
    }
    match get(env, ev::KEYLESS_IDENTITY) {
        Some(spec) => {
            let source = IdentitySource::parse(&spec).map_err(|e| bad(ev::KEYLESS_IDENTITY, e))?;
            // The sign-in session and a client secret are saved credentials:
            // variables alone, which also choose the endpoint, must not
            // decide where their JWTs go.
            if matches!(
                source,
                IdentitySource::Login | IdentitySource::ClientCredentials { .. }
            ) {
                return Err(Error::config(format!(
                    "{}={spec} would send JWTs from the saved sign-in to an endpoint the environment names; zero setup takes only ambient identity sources",
                    ev::KEYLESS_IDENTITY
                ))
                .hint("record the provider with `keyless setup …` to use the sign-in session"));
            }
            Ok(Some(source))
        }
        None => Ok(Some(IdentitySource::Auto)),
    }
}

/// The variables that name `provider` for zero setup: with either set, the
/// environment configures it (in part, an error naming the rest).
fn naming_vars(provider: Provider) -> [&'static str; 2] {
    match provider {
        Provider::Anthropic => [
            ev::ANTHROPIC_FEDERATION_RULE_ID,
            ev::ANTHROPIC_ORGANIZATION_ID,
        ],
        Provider::Openai => [
            ev::OPENAI_IDENTITY_PROVIDER_ID,
            ev::OPENAI_SERVICE_ACCOUNT_ID,
        ],
    }
}

/// Does the environment name `provider` (zero setup)? The one test:
/// [`anthropic`] and [`openai`] build nothing without it, and
/// [`Provider::is_configured`] asks it.
pub fn names(provider: Provider, env: Getter) -> bool {
    naming_vars(provider).iter().any(|v| get(env, v).is_some())
}

fn missing(names: &[&str], what: &str) -> Error {
    Error::config(format!(
        "the environment configures {what} only in part: {} not set",
        names.join(", ")
    ))
    .hint("set them all (the SDKs' federation variables), or run `keyless setup`")
}

/// Anthropic from `ANTHROPIC_*`: None when neither the rule nor the
/// organization is set (nothing to build).
pub fn anthropic(env: Getter) -> Result<Option<(AnthropicConfig, Origins)>> {
    if !names(Provider::Anthropic, env) {
        return Ok(None);
    }
    let rule = get(env, ev::ANTHROPIC_FEDERATION_RULE_ID);
    let org = get(env, ev::ANTHROPIC_ORGANIZATION_ID);
    let identity = identity(
        env,
        ev::ANTHROPIC_IDENTITY_TOKEN_FILE,
        ev::ANTHROPIC_IDENTITY_TOKEN,
    )?;
    let mut absent = Vec::new();
    if rule.is_none() {
        absent.push(ev::ANTHROPIC_FEDERATION_RULE_ID.to_string());
    }
    if org.is_none() {
        absent.push(ev::ANTHROPIC_ORGANIZATION_ID.to_string());
    }
    if !absent.is_empty() {
        let names: Vec<&str> = absent.iter().map(String::as_str).collect();
        return Err(missing(&names, "Anthropic federation"));
    }
    let (rule, org, identity) = (rule.unwrap_or_default(), org.unwrap_or_default(), identity);
    checks::check_rule_id(&rule).map_err(|e| bad(ev::ANTHROPIC_FEDERATION_RULE_ID, e))?;
    checks::check_organization_id(&org).map_err(|e| bad(ev::ANTHROPIC_ORGANIZATION_ID, e))?;
    let base_url = get(env, ev::ANTHROPIC_BASE_URL)
        .map(|u| {
            BaseUrl::parse("--base-url", &u)
                .map(BaseUrl::into_string)
                .map_err(|e| bad(ev::ANTHROPIC_BASE_URL, e))
        })
        .transpose()?;
    let mut cfg = AnthropicConfig {
        federation_rule_id: rule,
        organization_id: org,
        service_account_id: None,
        workspace_id: None,
        base_url,
        federation: Federation {
            audience: None,
            identity: identity.unwrap_or(IdentitySource::Auto),
            ca_file: None,
        },
        unknown: Default::default(),
    };
    let mut origins = Origins::from([
        ("federation_rule_id", ev::ANTHROPIC_FEDERATION_RULE_ID),
        ("organization_id", ev::ANTHROPIC_ORGANIZATION_ID),
    ]);
    if let Some(o) = identity_origin(
        env,
        ev::ANTHROPIC_IDENTITY_TOKEN_FILE,
        ev::ANTHROPIC_IDENTITY_TOKEN,
    ) {
        origins.insert("identity", o);
    }
    if cfg.base_url.is_some() {
        origins.insert("base_url", ev::ANTHROPIC_BASE_URL);
    }
    fill_anthropic(&mut cfg, &mut origins, env)?;
    Ok(Some((cfg, origins)))
}

/// The variable the identity source came from; None for `auto`.
fn identity_origin(
    env: Getter,
    file_var: &'static str,
    token_var: &'static str,
) -> Option<&'static str> {
    [file_var, token_var, ev::KEYLESS_IDENTITY]
        .into_iter()
        .find(|v| get(env, v).is_some())
}

/// Fill the optional Anthropic fields `cfg` lacks from the environment.
pub fn fill_anthropic(cfg: &mut AnthropicConfig, origins: &mut Origins, env: Getter) -> Result<()> {
    if cfg.service_account_id.is_none()
        && let Some(v) = get(env, ev::ANTHROPIC_SERVICE_ACCOUNT_ID)
    {
        checks::check_service_account_id(&v)
            .map_err(|e| bad(ev::ANTHROPIC_SERVICE_ACCOUNT_ID, e))?;
        cfg.service_account_id = Some(v);
        origins.insert("service_account_id", ev::ANTHROPIC_SERVICE_ACCOUNT_ID);
    }
    if cfg.workspace_id.is_none()
        && let Some(v) = get(env, ev::ANTHROPIC_WORKSPACE_ID)
    {
        checks::check_workspace_id(&v).map_err(|e| bad(ev::ANTHROPIC_WORKSPACE_ID, e))?;
        cfg.workspace_id = Some(v);
        origins.insert("workspace_id", ev::ANTHROPIC_WORKSPACE_ID);
    }
    if cfg.federation.audience.is_none()
        && let Some(v) = get(env, ev::ANTHROPIC_OIDC_AUDIENCE)
    {
        checks::check_plain("--audience", &v).map_err(|e| bad(ev::ANTHROPIC_OIDC_AUDIENCE, e))?;
        cfg.federation.audience = Some(v);
        origins.insert("audience", ev::ANTHROPIC_OIDC_AUDIENCE);
    }
    Ok(())
}

/// OpenAI from LiteLLM's names (`OPENAI_IDENTITY_PROVIDER_ID`,
/// `OPENAI_SERVICE_ACCOUNT_ID`; OpenAI's SDKs read none): None when neither
/// is set.
pub fn openai(env: Getter) -> Result<Option<(OpenAiConfig, Origins)>> {
    if !names(Provider::Openai, env) {
        return Ok(None);
    }
    let wip = get(env, ev::OPENAI_IDENTITY_PROVIDER_ID);
    let sa = get(env, ev::OPENAI_SERVICE_ACCOUNT_ID);
    let identity = identity(
        env,
        ev::OPENAI_IDENTITY_TOKEN_FILE,
        ev::OPENAI_IDENTITY_TOKEN,
    )?;
    let mut absent = Vec::new();
    if wip.is_none() {
        absent.push(ev::OPENAI_IDENTITY_PROVIDER_ID.to_string());
    }
    if sa.is_none() {
        absent.push(ev::OPENAI_SERVICE_ACCOUNT_ID.to_string());
    }
    if !absent.is_empty() {
        let names: Vec<&str> = absent.iter().map(String::as_str).collect();
        return Err(missing(&names, "OpenAI workload identity"));
    }
    let (wip, sa) = (wip.unwrap_or_default(), sa.unwrap_or_default());
    checks::check_identity_provider_id(&wip)
        .map_err(|e| bad(ev::OPENAI_IDENTITY_PROVIDER_ID, e))?;
    checks::check_plain("--service-account-id", &sa)
        .map_err(|e| bad(ev::OPENAI_SERVICE_ACCOUNT_ID, e))?;
    let token_endpoint = get(env, ev::KEYLESS_OPENAI_TOKEN_ENDPOINT)
        .map(|u| {
            checks::check_url("--token-endpoint", &u)
                .map_err(|e| bad(ev::KEYLESS_OPENAI_TOKEN_ENDPOINT, e))
        })
        .transpose()?;
    let mut origins = Origins::from([
        ("identity_provider_id", ev::OPENAI_IDENTITY_PROVIDER_ID),
        ("service_account_id", ev::OPENAI_SERVICE_ACCOUNT_ID),
    ]);
    if let Some(o) = identity_origin(
        env,
        ev::OPENAI_IDENTITY_TOKEN_FILE,
        ev::OPENAI_IDENTITY_TOKEN,
    ) {
        origins.insert("identity", o);
    }
    if token_endpoint.is_some() {
        origins.insert("token_endpoint", ev::KEYLESS_OPENAI_TOKEN_ENDPOINT);
    }
    let mut cfg = OpenAiConfig {
        identity_provider_id: wip,
        service_account_id: sa,
        token_endpoint,
        federation: Federation {
            audience: None,
            identity: identity.unwrap_or(IdentitySource::Auto),
            ca_file: None,
        },
        unknown: Default::default(),
    };
    fill_openai(&mut cfg, &mut origins, env)?;
    Ok(Some((cfg, origins)))
}

/// Fill the optional OpenAI fields `cfg` lacks from the environment.
pub fn fill_openai(cfg: &mut OpenAiConfig, origins: &mut Origins, env: Getter) -> Result<()> {
    if cfg.federation.audience.is_none()
        && let Some(v) = get(env, ev::OPENAI_OIDC_AUDIENCE)
    {
        checks::check_plain("--audience", &v).map_err(|e| bad(ev::OPENAI_OIDC_AUDIENCE, e))?;
        cfg.federation.audience = Some(v);
        origins.insert("audience", ev::OPENAI_OIDC_AUDIENCE);
    }
    Ok(())
}
