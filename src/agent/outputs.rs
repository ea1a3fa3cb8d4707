//! The agent's file sinks, grouped by the provider whose token they hold:
//! what a renewal writes ([`Outputs::deliver`]) and what is removed when
//! no valid token is left ([`Outputs::clear`]).
//!
//! A template naming two providers is rendered only while both have a
//! valid token, and removed as soon as either has none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::template::{Field, Template};
use super::write::{self, Access};
use crate::acquire::Token;
use crate::clock;
use crate::error::{Error, Result};
use crate::handoff::sdk_profile;
use crate::provider::Provider;
use crate::secret::Secret;

/// A profile sink: `dir` (what `ANTHROPIC_CONFIG_DIR` names) and the profile.
pub struct Profile {
    pub dir: PathBuf,
    pub name: String,
}

#[derive(Clone)]
struct Latest {
    token: Secret<String>,
    expires_at: i64,
}

pub struct Outputs {
    pub access: Access,
    pub files: Vec<(Provider, PathBuf)>,
    pub profiles: Vec<Profile>,
    pub templates: Vec<(Template, PathBuf)>,
    /// Each provider's API base, for `{{ PROVIDER.base_url }}`.
    pub base_urls: BTreeMap<&'static str, String>,
    latest: Mutex<BTreeMap<&'static str, Latest>>,
}

impl Outputs {
    pub fn new(
        access: Access,
        files: Vec<(Provider, PathBuf)>,
        profiles: Vec<Profile>,
        templates: Vec<(Template, PathBuf)>,
        base_urls: BTreeMap<&'static str, String>,
    ) -> Self {
        Outputs {
            access,
            files,
            profiles,
            templates,
            base_urls,
            latest: Mutex::new(BTreeMap::new()),
        }
    }

    fn latest(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Latest>> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every file that holds `p`'s token (profiles' credentials included).
    fn places_of(&self, p: Provider) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, f)| f.clone())
            .collect();
        if p == Provider::Anthropic {
            v.extend(
                self.profiles
                    .iter()
                    .map(|s| sdk_profile::credentials_path(&s.dir, &s.name)),
            );
        }
        v.extend(
            self.templates
                .iter()
                .filter(|(t, _)| t.providers().contains(&p))
                .map(|(_, out)| out.clone()),
        );
        v
    }

    /// Put `t` (`p`'s new token) in every sink that holds it. An expired
    /// token is never written.
    pub fn deliver(&self, p: Provider, t: &Token) -> Result<()> {
        if t.expires_at <= clock::now() {
            return Err(Error::failure(format!(
                "the new {} token has already expired; not writing it",
                p.title()
            )));
        }
        self.latest().insert(
            p.name(),
            Latest {
                token: t.access_token.clone(),
                expires_at: t.expires_at,
            },
        );
        for (q, path) in &self.files {
            if *q == p {
                write::replace(path, t.access_token.expose().as_bytes(), self.access)?;
            }
        }
        if p == Provider::Anthropic {
            for s in &self.profiles {
                sdk_profile::write_credentials(&s.dir, &s.name, t)?;
            }
        }
        for (tmpl, out) in &self.templates {
            if tmpl.providers().contains(&p)
                && let Some(text) = tmpl.render(|q, f| self.value(q, f))
            {
                write::replace(out, text.as_bytes(), self.access)?;
            }
        }
        Ok(())
    }

    fn value(&self, p: Provider, f: Field) -> Option<String> {
        let l = self.latest().get(p.name()).cloned()?;
        if l.expires_at <= clock::now() {
            return None;
        }
        Some(match f {
            Field::Token => l.token.expose().clone(),
            Field::ExpiresAt => l.expires_at.to_string(),
            Field::ExpiresRfc3339 => clock::rfc3339(l.expires_at),
            Field::BaseUrl => self.base_urls.get(p.name())?.clone(),
        })
    }

    /// `p` has no valid token left: remove every file that held it.
    pub fn clear(&self, p: Provider) -> Result<()> {
        self.latest().remove(p.name());
        for path in self.places_of(p) {
            write::remove(&path)?;
        }
        Ok(())
    }

    /// When `p`'s written token expires (Unix seconds), if one is written.
    pub fn expires_at(&self, p: Provider) -> Option<i64> {
        self.latest().get(p.name()).map(|l| l.expires_at)
    }

    /// Every file sink, for the start-up checks.
    pub fn all_places(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = Provider::ALL
            .into_iter()
            .flat_map(|p| self.places_of(p))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Remove every file sink (the agent stops).
    pub fn clear_all(&self) {
        for p in Provider::ALL {
            let _ = self.clear(p);
        }
    }
}

/// Make `dir` and its two subdirectories ready for a profile sink (0700,
/// ours, no symlinks).
pub fn prepare_profile_dir(dir: &Path) -> Result<()> {
    for d in [
        dir.to_path_buf(),
        dir.join("configs"),
        dir.join("credentials"),
    ] {
        crate::private_fs::ensure_dir(&d).map_err(|m| {
            Error::config(format!("refusing the profile sink: {m}"))
                .hint("give the profile a directory of its own; keyless creates a missing one 0700")
        })?;
    }
    Ok(())
}
