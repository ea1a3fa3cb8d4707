//! The agent's file sinks, grouped by the provider whose token they hold:
//! what a renewal writes ([`Outputs::deliver`]) and what is removed when
//! no valid token is left ([`Outputs::clear_expiring`]), and the ready
//! file, which exists while every provider's sinks hold a valid token.
//!
//! Delivering, clearing and the ready file are one state behind one lock:
//! a renewal from a proxy sink's thread or a signal brings the ready file
//! back as surely as the agent's own, and a token about to expire is
//! removed only if no renewal replaced it meanwhile.
//!
//! A template naming two providers is rendered only while both have a
//! valid token, and removed as soon as either has none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::template::{Field, Template};
use super::write::{self, Access};
use crate::acquire::Token;
use crate::clock;
use crate::error::{Error, Result};
use crate::handoff::sdk_profile;
use crate::output;
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
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Each provider's token, while its sinks hold it.
    latest: BTreeMap<&'static str, Latest>,
    /// Providers whose sinks were emptied for want of a valid token.
    cleared: BTreeSet<&'static str>,
    /// Once the agent serves: the ready file and the providers it waits for.
    ready: Option<(PathBuf, Vec<Provider>)>,
    /// Replaced or stopped: nothing is written any more.
    closed: bool,
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
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Put `t` (`p`'s new token) in every sink that holds it, and the ready
    /// file when every provider's sinks are then valid. An expired token is
    /// never written.
    pub fn deliver(&self, p: Provider, t: &Token) -> Result<()> {
        if t.expires_at <= clock::now() {
            return Err(Error::failure(format!(
                "the new {} token has already expired; not writing it",
                p.title()
            )));
        }
        let mut st = self.state();
        if st.closed {
            return Err(Error::failure("the agent no longer serves these sinks"));
        }
        // The templates render from `latest`, so the new token goes in
        // first; it stays only if every write succeeded. A failed write
        // puts the previous record back: the sinks are not counted as
        // holding a token they may not hold (the ready file, the clearing
        // of an expiring token go by it), and the renewal that failed is
        // retried on its backoff.
        let previous = st.latest.insert(
            p.name(),
            Latest {
                token: t.access_token.clone(),
                expires_at: t.expires_at,
            },
        );
        let written = self.write(&st, p, t);
        if written.is_err() {
            match previous {
                Some(l) => st.latest.insert(p.name(), l),
                None => st.latest.remove(p.name()),
            };
        }
        if written.is_ok() && st.cleared.remove(p.name()) {
            output::info(&format!(
                "agent: {} token renewed; the sinks hold it again",
                p.title()
            ));
        }
        if let Err(e) = self.mark_ready(&st) {
            output::warn(&format!("agent: {e}"));
        }
        written
    }

    fn write(&self, st: &State, p: Provider, t: &Token) -> Result<()> {
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
                && let Some(text) = tmpl.render(|q, f| self.value(st, q, f))
            {
                write::replace(out, text.as_bytes(), self.access)?;
            }
        }
        Ok(())
    }

    fn value(&self, st: &State, p: Provider, f: Field) -> Option<String> {
        let l = st.latest.get(p.name())?;
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

    /// Remove every file that holds `p`'s token, if that token expires
    /// within `guard_ms` (checked under the lock: a renewal that just
    /// delivered keeps its files).
    pub fn clear_expiring(&self, p: Provider, guard_ms: i64) {
        let mut st = self.state();
        let expiring = st
            .latest
            .get(p.name())
            .is_none_or(|l| l.expires_at * 1000 - guard_ms <= clock::now_ms());
        if !expiring || st.cleared.contains(p.name()) {
            return;
        }
        output::warn(&format!(
            "agent: no valid {} token left; removing its file sinks until a renewal succeeds",
            p.title()
        ));
        self.remove(&mut st, p);
        if let Err(e) = self.mark_ready(&st) {
            output::warn(&format!("agent: {e}"));
        }
    }

    fn remove(&self, st: &mut State, p: Provider) {
        st.latest.remove(p.name());
        st.cleared.insert(p.name());
        for path in self.places_of(p) {
            if let Err(e) = write::remove(&path) {
                output::warn(&format!("agent: {e}"));
            }
        }
    }

    /// From now on keep `path` in place while every provider of
    /// `providers` has a valid token in its sinks (the agent serves).
    pub fn arm_ready(&self, path: Option<PathBuf>, providers: Vec<Provider>) {
        let mut st = self.state();
        st.ready = path.map(|p| (p, providers));
        if let Err(e) = self.mark_ready(&st) {
            output::warn(&format!("agent: {e}"));
        }
    }

    /// Create or remove the ready file to match the sinks.
    fn mark_ready(&self, st: &State) -> Result<()> {
        let Some((path, providers)) = &st.ready else {
            return Ok(());
        };
        let ready = providers.iter().all(|p| st.latest.contains_key(p.name()));
        if !ready {
            return write::remove(path);
        }
        if path.exists() {
            return Ok(());
        }
        write::replace(path, b"ready\n", self.access)
    }

    /// When `p`'s written token expires (Unix seconds), if one is written.
    pub fn expires_at(&self, p: Provider) -> Option<i64> {
        self.state().latest.get(p.name()).map(|l| l.expires_at)
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

    /// Remove every file sink and the ready file (the agent stops, or
    /// could not start); nothing is written again.
    pub fn clear_all(&self) {
        let mut st = self.state();
        for p in Provider::ALL {
            self.remove(&mut st, p);
        }
        if let Some((path, _)) = st.ready.take() {
            let _ = write::remove(&path);
        }
        st.closed = true;
    }

    /// Write nothing any more, leaving the files as they are (a reload
    /// replaced this set of sinks).
    pub fn close(&self) {
        self.state().closed = true;
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
