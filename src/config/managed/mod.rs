//! The managed configuration: a machine-wide file an administrator (IT)
//! places, `/etc/keyless/config.json` on Linux, `/Library/Application
//! Support/keyless/config.json` on macOS, `%ProgramData%\keyless\config.json`
//! on Windows (the known folder, not the variable). No variable or flag
//! moves, replaces or disables it: a test places one with a mount namespace.
//!
//! It is honoured only when the system owns it: on Unix owned by root and
//! not writable by group or others, in a directory likewise; on Windows
//! owned by Administrators or SYSTEM with no one else allowed to change it
//! ([`crate::private_fs::acl::judge_machine`]). Otherwise it is ignored with
//! a warning that names the file and why, since anyone could have written it.
//!
//! A file that is the system's but wrong (bad JSON, an unknown key, a value
//! `setup` would refuse, a newer version) or that this user cannot read
//! fails every command that reads the configuration (exit 6): an administrator's typo must not silently drop a
//! policy. Its schema is in docs/managed.md: `profiles` (usable by everyone,
//! merged field by field over the user's profile of the same name, and
//! fixed: `setup` refuses to change a field it sets) and `policy`
//! ([`policy`]).

mod merge;
pub mod policy;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use merge::{apply, conflicts, unmerge};
pub use policy::Policy;

use crate::error::{Error, Result};

/// The schema version this keyless reads.
pub const MANAGED_VERSION: u32 = 1;
/// A managed file is a few profiles and a policy; anything larger is not one.
const MAX_BYTES: u64 = 1 << 20;

/// The managed file, checked.
#[derive(Debug)]
pub struct Managed {
    pub path: PathBuf,
    /// Per profile: section (`anthropic`, `openai`, `issuer`) → field → value.
    pub profiles: BTreeMap<String, Map<String, Value>>,
    pub policy: Policy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManagedFile {
    version: u32,
    #[serde(default)]
    profiles: BTreeMap<String, Map<String, Value>>,
    #[serde(default)]
    policy: Policy,
}

/// What was found at the managed path.
#[derive(Debug)]
pub enum State {
    Absent,
    Honoured(Managed),
    /// Not the system's (owner, mode, link): why, with the path.
    Ignored(String),
    /// The system's, but invalid: every configuration read fails with this.
    Invalid {
        message: String,
        hint: String,
    },
}

/// The platform's managed path (fixed; see the module doc).
pub fn path() -> Option<PathBuf> {
    platform::path()
}

/// The managed configuration of this machine, read once per process (the
/// warning for an ignored file is printed then).
pub fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let s = match path() {
            None => State::Absent,
            Some(p) => read(&p),
        };
        if let State::Ignored(why) = &s {
            crate::output::warn(&format!("ignoring the managed configuration: {why}"));
        }
        s
    })
}

/// The honoured managed configuration; an invalid one is an error.
pub fn current() -> Result<Option<&'static Managed>> {
    match state() {
        State::Honoured(m) => Ok(Some(m)),
        State::Invalid { message, hint } => Err(Error::config(message.clone()).hint(hint.clone())),
        State::Absent | State::Ignored(_) => Ok(None),
    }
}

/// What a platform's `read_trusted` found at the managed path.
enum Read {
    Missing,
    Untrusted(String),
    Data(Vec<u8>),
    /// The system's, by the rule, but this user may not read it: the
    /// policy stands all the same, so the caller fails closed. (Unix only:
    /// on Windows a user may create files in ProgramData's folders.)
    #[cfg_attr(windows, allow(dead_code))]
    Unreadable {
        message: String,
        hint: String,
    },
}

/// The content of the judged, open managed file, at most `max` bytes.
fn read_bounded(mut file: std::fs::File, path: &Path, max: u64) -> Read {
    use std::io::Read as _;
    let mut buf = Vec::new();
    match (&mut file).take(max + 1).read_to_end(&mut buf) {
        Ok(n) if n as u64 > max => {
            Read::Untrusted(format!("{} is larger than {max} bytes", path.display()))
        }
        Ok(_) => Read::Data(buf),
        Err(e) => Read::Untrusted(format!(
            "cannot read {}: {}",
            path.display(),
            crate::error::io_reason(&e)
        )),
    }
}

/// Read and judge the file at `path`.
pub fn read(path: &Path) -> State {
    let bytes = match platform::read_trusted(path, MAX_BYTES) {
        Read::Missing => return State::Absent,
        Read::Untrusted(why) => return State::Ignored(why),
        Read::Unreadable { message, hint } => return State::Invalid { message, hint },
        Read::Data(b) => b,
    };
    match parse(path, &bytes) {
        Ok(m) => State::Honoured(m),
        Err(e) => State::Invalid {
            message: e.message,
            hint: e.hint.unwrap_or_default(),
        },
    }
}

/// Parse and check a managed file's bytes.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Managed> {
    let invalid = |what: String| {
        Error::config(format!("invalid managed configuration {}: {what}", path.display())).hint(
            "the administrator who placed it must fix it (see docs/managed.md); keyless refuses to run without its policy",
        )
    };
    let file: ManagedFile = serde_json::from_slice(bytes).map_err(|e| {
        invalid(format!(
            "{} (line {}, column {})",
            strip_position(&e.to_string()),
            e.line(),
            e.column()
        ))
    })?;
    if file.version != MANAGED_VERSION {
        return Err(invalid(format!(
            "version {} is not one this keyless reads ({MANAGED_VERSION})",
            file.version
        )));
    }
    for (name, sections) in &file.profiles {
        super::checks::validate_profile_name(name)
            .map_err(|e| invalid(format!("profile {name:?}: {}", e.message)))?;
        merge::validate(sections).map_err(|m| invalid(format!("profile {name:?}: {m}")))?;
    }
    file.policy
        .validate()
        .map_err(|m| invalid(format!("policy: {m}")))?;
    Ok(Managed {
        path: path.to_path_buf(),
        profiles: file.profiles,
        policy: file.policy,
    })
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl Managed {
    /// Does the managed file define this profile?
    pub fn has_profile(&self, name: &str) -> bool {
        self.profiles.contains_key(name)
    }
    /// The fields it sets for `name`, as `section.field`, sorted.
    pub fn fields(&self, name: &str) -> Vec<String> {
        self.profiles
            .get(name)
            .map(|s| {
                s.iter()
                    .flat_map(|(sec, f)| {
                        f.as_object()
                            .into_iter()
                            .flat_map(move |o| o.keys().map(move |k| format!("{sec}.{k}")))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Does it set `section.field` for profile `name`?
    pub fn sets(&self, name: &str, section: &str, field: &str) -> bool {
        self.profiles
            .get(name)
            .and_then(|s| s.get(section))
            .and_then(Value::as_object)
            .is_some_and(|o| o.contains_key(field))
    }
}

/// What `auth status --json` and `profile show` say about the managed file.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub path: Option<String>,
    /// absent, honoured, ignored or invalid
    pub state: &'static str,
    pub detail: Option<String>,
    pub profiles: Vec<String>,
    pub policy: Option<&'static Policy>,
}

pub fn summary() -> Summary {
    let path = path().map(|p| p.display().to_string());
    match state() {
        State::Absent => Summary {
            path,
            state: "absent",
            detail: None,
            profiles: Vec::new(),
            policy: None,
        },
        State::Honoured(m) => Summary {
            path,
            state: "honoured",
            detail: None,
            profiles: m.profiles.keys().cloned().collect(),
            policy: Some(&m.policy),
        },
        State::Ignored(why) => Summary {
            path,
            state: "ignored",
            detail: Some(why.clone()),
            profiles: Vec::new(),
            policy: None,
        },
        State::Invalid { message, .. } => Summary {
            path,
            state: "invalid",
            detail: Some(message.clone()),
            profiles: Vec::new(),
            policy: None,
        },
    }
}

#[cfg(test)]
mod tests;
