//! From the command line's sinks and the profile's configuration to what
//! the agent serves: each provider's configuration, resolved once, and the
//! file sinks grouped by provider. Built at start and again on SIGHUP;
//! every check that can fail runs here, before anything is written, so a
//! bad reload leaves the running agent as it was.

use std::collections::BTreeMap;
use std::path::Path;

use super::outputs::{Outputs, Profile, prepare_profile_dir};
use super::sink::{ProxyAddr, Sink};
use super::template::{MAX_TEMPLATE, Template};
use super::write::{self, Access};
use crate::config::IssuerConfig;
use crate::error::{Error, Result};
use crate::handoff;
use crate::private_fs::{self, Read0600};
use crate::provider::{Configured, Provider, choice};
use crate::settings::Settings;

pub struct Plan {
    /// The providers served, each configured once.
    pub targets: Vec<Configured>,
    pub issuer: Option<IssuerConfig>,
    pub outputs: Outputs,
    pub proxies: Vec<(Provider, ProxyAddr)>,
}

impl Plan {
    pub fn build(settings: &Settings, sinks: &[Sink], access: Access) -> Result<Plan> {
        let loaded = settings.load_config()?;
        let mut files = Vec::new();
        let mut profiles = Vec::new();
        let mut templates = Vec::new();
        let mut proxies = Vec::new();
        let mut wanted: Vec<Provider> = Vec::new();
        for s in sinks {
            match s {
                Sink::AnthropicProfile { dir, name } => {
                    if access.is_shared() {
                        return Err(Error::usage(format!(
                            "--sink-mode {:o} cannot apply to {}: the Anthropic SDKs refuse a credentials file other users can read",
                            access.mode,
                            s.describe()
                        ))
                        .hint("run the programs that read the profile as the agent's user, and share files with others through file: or template: sinks"));
                    }
                    wanted.push(Provider::Anthropic);
                    profiles.push(Profile {
                        dir: dir.clone(),
                        name: name.clone(),
                    });
                }
                Sink::File { provider, path } => {
                    let p = match provider {
                        Some(p) => *p,
                        None => only_provider(settings, &loaded, s)?,
                    };
                    wanted.push(p);
                    files.push((p, path.clone()));
                }
                Sink::Template { input, output } => {
                    let t = read_template(input)?;
                    wanted.extend(t.providers());
                    templates.push((t, output.clone()));
                }
                Sink::Proxy { provider, addr } => {
                    if let ProxyAddr::Unix(path) = addr {
                        write::check_socket(path)?;
                    }
                    wanted.push(*provider);
                    proxies.push((*provider, addr.clone()));
                }
            }
        }
        wanted.sort_by_key(|p| p.name());
        wanted.dedup();
        let targets = choice::to_serve(settings, &loaded, &wanted)?;
        let base_urls: BTreeMap<&'static str, String> = targets
            .iter()
            .map(|t| (t.provider().name(), t.api_base(None)))
            .collect();
        let outputs = Outputs::new(access, files, profiles, templates, base_urls);
        for place in outputs.all_places() {
            write::check_place(&place, access)?;
        }
        Ok(Plan {
            targets,
            issuer: settings.issuer(&loaded),
            outputs,
            proxies,
        })
    }

    /// Create the profile sinks' directories and write their (non-secret)
    /// profile files.
    pub fn write_profiles(&self) -> Result<()> {
        let Some(cfg) = self.targets.iter().find_map(|t| t.anthropic()) else {
            return Ok(());
        };
        for p in &self.outputs.profiles {
            prepare_profile_dir(&p.dir)?;
            handoff::sdk_profile::write_config(&p.dir, &p.name, cfg)?;
        }
        Ok(())
    }
}

/// `file:PATH` without a provider: the profile's only one.
fn only_provider(
    settings: &Settings,
    loaded: &crate::config::LoadedConfig,
    sink: &Sink,
) -> Result<Provider> {
    match choice::to_serve(settings, loaded, &[])?.as_slice() {
        [one] => Ok(one.provider()),
        _ => Err(Error::usage(format!(
            "the sink {} does not say which provider's token it holds, and the profile has both",
            sink.describe()
        ))
        .hint("write file:anthropic=PATH or file:openai=PATH")),
    }
}

/// Read and check a template (bounded, and not a file others can change).
fn read_template(input: &Path) -> Result<Template> {
    let origin = crate::redact::path(input);
    let bytes = match private_fs::read_private(input, 0o022, MAX_TEMPLATE + 1) {
        Ok(Read0600::Data(b)) => b,
        Ok(Read0600::Missing) => {
            return Err(Error::config(format!(
                "the template {origin} does not exist"
            )));
        }
        Ok(Read0600::Unsafe(u)) => {
            return Err(
                Error::config(format!("refusing the template: {}", u.describe(input))).hint(
                    "a template decides where tokens go: keep it yours and not writable by others",
                ),
            );
        }
        Err(e) => return Err(Error::io("cannot read the template", input, &e)),
    };
    if bytes.len() as u64 > MAX_TEMPLATE {
        return Err(Error::config(format!(
            "the template {origin} is larger than {MAX_TEMPLATE} bytes"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::config(format!("the template {origin} is not UTF-8 text")))?;
    Template::parse(&text, &origin)
}
