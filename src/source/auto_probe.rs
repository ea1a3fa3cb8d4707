//! `auto`'s last step: when no variable decided, ask the cloud metadata
//! servers whether they are there, both at once, each for at most a
//! second, and carrying no token:
//!
//! - Google's: `GET http://$GCE_METADATA_IP/` (default `169.254.169.254`)
//!   with `Metadata-Flavor: Google`; it is Google's only when it answers 200
//!   with `Metadata-Flavor: Google`, as Google's libraries check
//!   (`NO_GCE_CHECK=true` skips it);
//! - Azure IMDS: `GET {base}/metadata/identity/oauth2/token` without the
//!   `Metadata` header, which IMDS answers at once with 400 and a JSON
//!   `error` (its documented guard); only when an audience is named, since
//!   the `azure` source needs one.
//!
//! `KEYLESS_NO_METADATA_PROBE=true` skips both.

use std::time::Duration;

use super::auto::Pick;
use super::azure;
use crate::env_vars as ev;
use crate::http;

const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_GCE_IP: &str = "169.254.169.254";

/// The probes to run; None: skipped.
#[derive(Default)]
pub struct Probes {
    pub gcp: Option<url::Url>,
    pub azure: Option<url::Url>,
}

impl Probes {
    /// Which probes may run, given the variables; each one left out is
    /// added to `skipped`, with why.
    pub fn plan(
        explicit_audience: bool,
        get: &dyn Fn(&str) -> Option<String>,
        skipped: &mut Vec<String>,
    ) -> Probes {
        let on = |n: &str| get(n).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if on(ev::KEYLESS_NO_METADATA_PROBE) {
            skipped.push(format!(
                "Google Cloud and Azure metadata servers: not probed ({}=true)",
                ev::KEYLESS_NO_METADATA_PROBE
            ));
            return Probes::default();
        }
        let gcp = if on(ev::NO_GCE_CHECK) {
            skipped.push(format!(
                "Google Cloud metadata server: not probed ({}=true)",
                ev::NO_GCE_CHECK
            ));
            None
        } else {
            let ip = ev::lookup(get, ev::GCE_METADATA_IP).unwrap_or_else(|| DEFAULT_GCE_IP.into());
            match url::Url::parse(&format!("http://{}/", ip.trim())) {
                Ok(u) => Some(u),
                Err(_) => {
                    skipped.push(format!(
                        "Google Cloud metadata server: {} is not ip:port",
                        ev::GCE_METADATA_IP
                    ));
                    None
                }
            }
        };
        let azure = if !explicit_audience {
            skipped.push(
                "Azure IMDS: not probed, since the azure source needs the audience named (`--audience api://<app-id>`)".into(),
            );
            None
        } else {
            match azure::imds_base(get) {
                Ok(b) => Some(b.join(azure::TOKEN_PATH).expect("a valid path")),
                Err(e) => {
                    skipped.push(format!("Azure IMDS: {}", e.message));
                    None
                }
            }
        };
        Probes { gcp, azure }
    }

    pub fn any(&self) -> bool {
        self.gcp.is_some() || self.azure.is_some()
    }

    pub fn describe(&self) -> String {
        let mut v = Vec::new();
        if let Some(u) = &self.gcp {
            v.push(format!(
                "Google's metadata server at {}",
                super::platform::shown(u)
            ));
        }
        if let Some(u) = &self.azure {
            v.push(format!("Azure IMDS at {}", super::platform::shown(u)));
        }
        v.join(" and ")
    }

    /// Run the probes at once; the first that answers as its platform.
    /// Each silent one is added to `skipped`.
    pub fn run(&self, skipped: &mut Vec<String>) -> Option<Pick> {
        crate::output::info(&format!(
            "auto: no variable decided; probing {}",
            self.describe()
        ));
        let Ok(rt) = http::runtime() else { return None };
        let Ok(client) = http::client_direct() else {
            return None;
        };
        let probe = |url: Option<url::Url>, headers: &'static [(&'static str, &'static str)]| {
            let client = client.clone();
            async move {
                let url = url?;
                let mut req = client.get(url.as_str()).timeout(PROBE_TIMEOUT);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                Some(http::send(req, &super::platform::shown(&url)).await)
            }
        };
        let (g, a) = rt.block_on(async {
            tokio::join!(
                probe(self.gcp.clone(), &[("metadata-flavor", "Google")]),
                probe(self.azure.clone(), &[])
            )
        });
        let why = |r: &std::result::Result<http::Response, http::Failure>, ok: &str| match r {
            Err(f) => f.message().to_string(),
            Ok(r) => format!("answered {}, not as {ok}", r.status),
        };
        let mut pick = None;
        if let Some(r) = g {
            let google = matches!(&r, Ok(resp) if resp.status == 200
                && resp.header("metadata-flavor").as_deref() == Some("Google"));
            if google {
                // Ask the server that answered, as the ping's address is
                // the metadata server's too.
                pick = Some(Pick::Gcp(self.gcp.as_ref().and_then(host_port)));
            } else {
                skipped.push(format!(
                    "Google Cloud metadata server: {}",
                    why(&r, "Google's metadata server")
                ));
            }
        }
        if let Some(r) = a {
            let imds = matches!(&r, Ok(resp) if resp.status == 400
                && super::platform::json_field(&resp.body, "error").is_some());
            if imds && pick.is_none() {
                pick = Some(Pick::Azure(azure::Kind::Imds));
            } else if !imds {
                skipped.push(format!("Azure IMDS: {}", why(&r, "Azure IMDS")));
            }
        }
        pick
    }
}

fn host_port(u: &url::Url) -> Option<String> {
    Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?))
}
