//! What the managed configuration (IT) adds to `auth status`: where it is
//! and whether it is honoured, and, when its policy forbids static API
//! keys, a reason for every one found (so `auth status` and `--check`
//! fail while any is left).

use super::precedence::{Slot, SlotKind};
use crate::clients::scan::Finding;
use crate::config::managed;

/// One reason per static key found, when the managed policy forbids them.
pub fn static_key_reasons(findings: &[Finding], slots: &[&Slot]) -> Vec<String> {
    let Some(m) = managed::policy::static_keys_forbidden() else {
        return Vec::new();
    };
    let mut found: Vec<String> = findings
        .iter()
        .map(|f| format!("{}:{} {}", f.path, f.line, f.what))
        .collect();
    for s in slots {
        let static_key = match s.slot {
            SlotKind::ApiKey => true,
            SlotKind::AuthToken | SlotKind::OpenaiApiKey => s.keyless_expires_at.is_none(),
            _ => false,
        };
        if static_key && s.state == super::precedence::SlotState::Set {
            found.push(format!("{} is set in this environment", s.label));
        }
    }
    found
        .into_iter()
        .map(|f| {
            format!(
                "the managed configuration {} forbids static API keys: {f}",
                m.path.display()
            )
        })
        .collect()
}

/// A managed file that is there but ignored, as a warning.
pub fn ignored_warning() -> Option<String> {
    match managed::state() {
        managed::State::Ignored(why) => Some(format!("managed configuration ignored: {why}")),
        _ => None,
    }
}
