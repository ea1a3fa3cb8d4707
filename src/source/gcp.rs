//! The `gcp` source: Google's metadata server (GCE, GKE workload identity,
//! Cloud Run, Cloud Functions), as Google's own libraries ask it: `GET
//! http://$GCE_METADATA_HOST/computeMetadata/v1/instance/service-accounts/
//! default/identity?audience=…&format=full` with `Metadata-Flavor: Google`,
//! answered in plain text by a server that says `Metadata-Flavor: Google`
//! too. `GCE_METADATA_HOST` (default `metadata.google.internal`) redirects
//! it, as in Google's libraries. A fresh JWT per exchange.

use super::{IdentityToken, Origin, platform};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::provider::TokenKind;
use crate::secret::Secret;

const WHAT: &str = "the GCP metadata server";
const DEFAULT_HOST: &str = "metadata.google.internal";
const PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/identity";

pub fn fetch(audience: Option<&str>) -> Result<IdentityToken> {
    fetch_from(audience, None)
}

/// [`fetch`] from `host` (host:port) when given, else as the variables say.
pub fn fetch_from(audience: Option<&str>, host: Option<String>) -> Result<IdentityToken> {
    let audience = audience.ok_or_else(|| {
        Error::config("the gcp identity source needs an audience, and the profile names none")
            .hint("record the one the federation rule matches: `keyless setup openai --audience …`")
    })?;
    let host = host
        .or_else(|| env_vars::var(env_vars::GCE_METADATA_HOST))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_string());
    let mut url = url::Url::parse(&format!("http://{host}{PATH}")).map_err(|e| {
        Error::config(format!(
            "{} ({host:?}) is not a host[:port]: {e}",
            env_vars::GCE_METADATA_HOST
        ))
    })?;
    url.query_pairs_mut()
        .append_pair("audience", audience)
        .append_pair("format", "full");
    let resp = platform::get(&url, &[("metadata-flavor", "Google")], WHAT)?;
    if resp.header("metadata-flavor").as_deref() != Some("Google") {
        return Err(Error::network(format!(
            "{WHAT} at {host} answered without `Metadata-Flavor: Google`; something else is answering"
        ))
        .hint(format!(
            "check {} and the network; keyless talks only to Google's metadata server",
            env_vars::GCE_METADATA_HOST
        )));
    }
    let jwt = String::from_utf8(resp.body)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::network(format!("{WHAT} answered 200 with no JWT")))?;
    Ok(IdentityToken {
        token: Secret::new(jwt),
        origin: Origin::Platform("Google Cloud"),
        kind: TokenKind::Jwt,
    })
}
