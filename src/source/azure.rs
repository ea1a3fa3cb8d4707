//! The `azure` source: Azure's managed identity, in the order Azure's own
//! identity libraries try it:
//!
//! 1. AKS workload identity: `AZURE_FEDERATED_TOKEN_FILE`, the projected
//!    service-account JWT, re-read per exchange (its audience is the pod
//!    spec's, `api://AzureADTokenExchange` by the webhook);
//! 2. App Service, Functions, Container Apps: `GET
//!    $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…` with
//!    `X-IDENTITY-HEADER: $IDENTITY_HEADER`;
//! 3. Azure Arc: `IDENTITY_ENDPOINT` with `IMDS_ENDPOINT`, the challenge
//!    flow of [`super::azure_arc`];
//! 4. the VM's IMDS: `GET
//!    http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`
//!    with `Metadata: true` (`KEYLESS_AZURE_IMDS_ENDPOINT` replaces the
//!    base), retried on 404, 410, 429 and 5xx as Microsoft documents.
//!
//! The resource must be given (`--audience api://<app-id>`): there is no
//! safe default, and tokens for Microsoft's own APIs are refused. A
//! user-assigned identity is chosen with `AZURE_CLIENT_ID`, as Azure's
//! libraries read it. The JWT is the answer's `access_token`.

use std::time::Duration;

use super::platform::{self, Call, Retry};
use super::{Context, IdentityToken, Origin};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::provider::TokenKind;
use crate::secret::Secret;

pub const DEFAULT_IMDS: &str = "http://169.254.169.254";
pub const TOKEN_PATH: &str = "/metadata/identity/oauth2/token";
const IMDS_API: &str = "2018-02-01";
const APP_SERVICE_API: &str = "2019-08-01";

/// Microsoft documents retrying these with exponential backoff; keyless
/// waits 1, 2 and 4 s (shorter than Microsoft's 2/6/14/30 s, to stay a
/// prompt credential helper).
pub const IMDS_RETRY: Retry = Retry {
    statuses: |s| matches!(s, 404 | 410 | 429) || (500..600).contains(&s),
    delays: &[
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(4),
    ],
};

/// Which of Azure's managed-identity endpoints the environment names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    WorkloadIdentity(String),
    AppService { endpoint: String },
    Arc { endpoint: String },
    Imds,
}

impl Kind {
    pub fn detect(get: &dyn Fn(&str) -> Option<String>) -> Kind {
        let set = |n: &str| env_vars::lookup(get, n);
        if let Some(f) = set(env_vars::AZURE_FEDERATED_TOKEN_FILE) {
            return Kind::WorkloadIdentity(f);
        }
        if let Some(endpoint) = set(env_vars::IDENTITY_ENDPOINT) {
            if set(env_vars::IDENTITY_HEADER).is_some() {
                return Kind::AppService { endpoint };
            }
            if set(env_vars::IMDS_ENDPOINT).is_some() {
                return Kind::Arc { endpoint };
            }
        }
        Kind::Imds
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Kind::WorkloadIdentity(_) => "AKS workload identity",
            Kind::AppService { .. } => "Azure App Service managed identity",
            Kind::Arc { .. } => "Azure Arc managed identity",
            Kind::Imds => "Azure IMDS",
        }
    }
}

/// The IMDS base: `KEYLESS_AZURE_IMDS_ENDPOINT` (scheme, host, port) or
/// the link-local address.
pub fn imds_base(get: &dyn Fn(&str) -> Option<String>) -> Result<url::Url> {
    let var = env_vars::KEYLESS_AZURE_IMDS_ENDPOINT;
    let Some(v) = env_vars::lookup(get, var) else {
        return Ok(url::Url::parse(DEFAULT_IMDS).expect("a valid URL"));
    };
    let url = platform::endpoint(v.trim(), var)?;
    if !matches!(url.path(), "" | "/") || url.query().is_some() || !url.username().is_empty() {
        return Err(Error::config(format!(
            "{var} must be a base URL (scheme, host and port), like http://127.0.0.1:8080"
        )));
    }
    Ok(url)
}

/// The resource to ask for: the explicit audience, never a default, never
/// a Microsoft API.
pub fn resource<'a>(ctx: &Context<'a>) -> Result<&'a str> {
    let Some(aud) = ctx.audience.filter(|_| ctx.audience_explicit) else {
        return Err(Error::config(
            "the azure identity source needs the resource to ask Azure for, and the profile names none",
        )
        .hint(format!(
            "record the App ID URI of the app registration the federation rule trusts: `keyless setup {} --audience api://<app-id>`",
            ctx.provider.name()
        )));
    };
    let bare = aud.trim_end_matches('/').to_ascii_lowercase();
    const MICROSOFT: &[&str] = &[
        "https://management.azure.com",
        "https://management.core.windows.net",
        "https://graph.microsoft.com",
        "https://vault.azure.net",
        "https://storage.azure.com",
    ];
    if MICROSOFT.contains(&bare.as_str()) {
        return Err(Error::config(format!(
            "the audience {aud} is a Microsoft API; its tokens are for that API alone, not for a federation rule"
        ))
        .hint("use the App ID URI of your own app registration: `--audience api://<app-id>`"));
    }
    Ok(aud)
}

pub fn fetch(ctx: &Context) -> Result<IdentityToken> {
    let kind = Kind::detect(&|n| std::env::var(n).ok());
    crate::output::info(&format!("azure: using {}", kind.describe()));
    fetch_kind(ctx, kind)
}

/// Ask the endpoint `kind` names.
pub fn fetch_kind(ctx: &Context, kind: Kind) -> Result<IdentityToken> {
    let get = |n: &str| std::env::var(n).ok();
    match kind {
        Kind::WorkloadIdentity(path) => workload_identity(ctx, &path),
        Kind::AppService { endpoint } => {
            let resource = resource(ctx)?;
            let mut url = platform::endpoint(&endpoint, env_vars::IDENTITY_ENDPOINT)?;
            query(&mut url, APP_SERVICE_API, resource, "client_id");
            let header = Secret::new(platform::var(env_vars::IDENTITY_HEADER).unwrap_or_default());
            let headers = [("x-identity-header", header.expose().as_str())];
            // App Service documents no retries, unlike IMDS.
            let what = "Azure App Service's identity endpoint";
            token(
                platform::send(&Call::get(&url, &headers, what))?,
                what,
                &url,
            )
        }
        Kind::Arc { endpoint } => {
            let resource = resource(ctx)?;
            super::azure_arc::fetch(&endpoint, resource)
        }
        Kind::Imds => {
            let resource = resource(ctx)?;
            let mut url = imds_base(&get)?.join(TOKEN_PATH).expect("a valid path");
            query(&mut url, IMDS_API, resource, "client_id");
            let headers = [("metadata", "true")];
            let what = "Azure IMDS";
            let call = Call {
                retry: IMDS_RETRY,
                ..Call::get(&url, &headers, what)
            };
            token(platform::send(&call)?, what, &url)
        }
    }
}

/// `api-version`, `resource` and, for a user-assigned identity,
/// `AZURE_CLIENT_ID` as `client_param`.
pub fn query(url: &mut url::Url, api: &str, resource: &str, client_param: &str) {
    let client_id = platform::var(env_vars::AZURE_CLIENT_ID);
    let mut q = url.query_pairs_mut();
    q.append_pair("api-version", api)
        .append_pair("resource", resource);
    if let Some(id) = client_id {
        q.append_pair(client_param, id.trim());
    }
}

/// The JWT in a 200 answer's `access_token`; Azure's error answers
/// (`{error, error_description}`) explained.
pub fn token(resp: crate::http::Response, what: &str, url: &url::Url) -> Result<IdentityToken> {
    let shown = platform::shown(url);
    if resp.status == 400 {
        let code = platform::json_field(&resp.body, "error")
            .map(|c| crate::redact::server_text(&c))
            .unwrap_or_else(|| "no error code".into());
        let desc = platform::json_field(&resp.body, "error_description")
            .map(|d| crate::redact::server_text(&d.chars().take(300).collect::<String>()));
        let mut e = Error::config(format!(
            "{what} at {shown} refused the resource asked for (400 {code})"
        ));
        if let Some(d) = desc {
            e = e.detail(d);
        }
        return Err(e.hint(
            "the audience must be the App ID URI of an app registration in this tenant (`--audience api://<app-id>`), and the machine must have a managed identity (set AZURE_CLIENT_ID for a user-assigned one)",
        ));
    }
    let resp = platform::classify(resp, what, &shown)?;
    let jwt = platform::json_field(&resp.body, "access_token").ok_or_else(|| {
        Error::network(format!(
            "{what} answered 200 but with no JWT (no `access_token` field)"
        ))
    })?;
    Ok(IdentityToken {
        token: Secret::new(jwt),
        origin: Origin::Platform("Azure managed identity"),
        kind: TokenKind::Jwt,
    })
}

/// AKS: the projected token file. Its audience is fixed by the pod spec:
/// when the profile names one, the token must carry it.
fn workload_identity(ctx: &Context, path: &str) -> Result<IdentityToken> {
    let t = super::file::read(std::path::Path::new(path))?;
    if ctx.audience_explicit
        && let Some(want) = ctx.audience
        && let Ok(claims) = crate::jwt::inspect(t.token.expose(), &t.origin.describe())
        && !claims.aud.iter().any(|a| a == want)
    {
        return Err(Error::config(format!(
            "the AKS workload identity token in {path} ({}) is for audience {}, not {want}",
            env_vars::AZURE_FEDERATED_TOKEN_FILE,
            claims.aud.join(", ")
        ))
        .hint(format!(
            "set the federation rule's audience to {} and record it with `--audience`, or project a token with audience {want} and use --identity file:PATH",
            claims.aud.first().map(String::as_str).unwrap_or("the token's")
        )));
    }
    Ok(t)
}
