//! The `azure-pipelines` source: Azure DevOps' OIDC endpoint, as Azure's
//! `AzurePipelinesCredential` asks it: `POST
//! $SYSTEM_OIDCREQUESTURI?api-version=7.1[&serviceConnectionId=…]` with
//! `Authorization: Bearer $SYSTEM_ACCESSTOKEN` (which the pipeline must map
//! into the step's env); the JWT is in `.oidcToken`.
//!
//! Azure DevOps fixes the audience: every token is for
//! `api://AzureADTokenExchange`. The source accepts that audience and
//! refuses any other the profile records, since the rule could never match.

use super::platform::{self, Call};
use super::{Context, IdentityToken, Origin};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::provider::TokenKind;
use crate::secret::Secret;

const WHAT: &str = "Azure DevOps";
const API: &str = "7.1";
/// The audience of every Azure DevOps OIDC token.
pub const AUDIENCE: &str = "api://AzureADTokenExchange";

/// Refuse an audience the platform will never put in the token.
pub fn check_audience(ctx: &Context) -> Result<()> {
    match ctx.audience.filter(|_| ctx.audience_explicit) {
        Some(a) if a != AUDIENCE => Err(Error::config(format!(
            "Azure DevOps tokens are always for audience {AUDIENCE}, but the profile records {a}"
        ))
        .hint(format!(
            "set the federation rule's audience to {AUDIENCE}, and `keyless setup {} --audience {AUDIENCE}`",
            ctx.provider.name()
        ))),
        _ => Ok(()),
    }
}

pub fn fetch(ctx: &Context, service_connection: Option<&str>) -> Result<IdentityToken> {
    check_audience(ctx)?;
    // Without an id in the source: the one the AzureCLI task exports.
    let exported = platform::var(env_vars::AZURESUBSCRIPTION_SERVICE_CONNECTION_ID);
    let service_connection = service_connection.or(exported.as_deref().map(str::trim));
    let Some(uri) = platform::var(env_vars::SYSTEM_OIDCREQUESTURI) else {
        return Err(Error::sign_in(format!(
            "the azure-pipelines identity source needs {}, which Azure Pipelines sets in each job",
            env_vars::SYSTEM_OIDCREQUESTURI
        ))
        .hint(
            "run in Azure Pipelines, or choose another source with `keyless setup … --identity …`",
        ));
    };
    let Some(token) = platform::var(env_vars::SYSTEM_ACCESSTOKEN) else {
        return Err(Error::sign_in(format!(
            "this Azure Pipelines job cannot request an OIDC token: {} is not set",
            env_vars::SYSTEM_ACCESSTOKEN
        ))
        .hint("map it into the step: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`"));
    };
    let mut url = platform::endpoint(uri.trim(), env_vars::SYSTEM_OIDCREQUESTURI)?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("api-version", API);
        if let Some(sc) = service_connection {
            q.append_pair("serviceConnectionId", sc);
        }
    }
    let bearer = Secret::new(format!("Bearer {}", token.trim()));
    let headers = [
        ("authorization", bearer.expose().as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    let call = Call {
        post: true,
        ..Call::get(&url, &headers, WHAT)
    };
    let resp = platform::classify(platform::send(&call)?, WHAT, &platform::shown(&url))?;
    let jwt = platform::json_field(&resp.body, "oidcToken").ok_or_else(|| {
        Error::network(format!(
            "{WHAT} answered 200 but with no JWT (no `oidcToken` field)"
        ))
        .hint("SYSTEM_OIDCREQUESTURI may not point at Azure DevOps' OIDC endpoint")
    })?;
    Ok(IdentityToken {
        token: Secret::new(jwt),
        origin: Origin::Platform("Azure DevOps"),
        kind: TokenKind::Jwt,
    })
}
