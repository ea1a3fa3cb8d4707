//! `keyless version`: what was shipped — the version, the commit, the
//! target, the build date and whether the binary is a release artifact
//! (built by `scripts/package`), as text or `--json` (issue 19).
//! `keyless --version` stays clap's one line.

use clap::Args;
use serde::Serialize;

use crate::env_vars::{BUILD_COMMIT, BUILD_EPOCH, BUILD_PROFILE, BUILD_RELEASE, BUILD_TARGET};
use crate::error::Result;

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print the build information as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// The build information, as `--json` prints it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: &'static str,
    pub commit: &'static str,
    pub target: &'static str,
    /// RFC 3339, UTC.
    pub build_date: String,
    pub profile: &'static str,
    /// Built by scripts/package (a release workflow or a rebuild of one).
    pub release: bool,
}

impl BuildInfo {
    pub fn of_this_binary() -> BuildInfo {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            commit: BUILD_COMMIT,
            target: BUILD_TARGET,
            build_date: rfc3339(BUILD_EPOCH),
            profile: BUILD_PROFILE,
            release: BUILD_RELEASE == "true",
        }
    }

    pub fn text(&self) -> String {
        let kind = if self.release {
            "release".to_string()
        } else {
            format!("not a release ({} build)", self.profile)
        };
        format!(
            "keyless {}\ncommit:     {}\ntarget:     {}\nbuild date: {}\nbuild:      {kind}",
            self.version, self.commit, self.target, self.build_date
        )
    }
}

/// The build's epoch seconds as RFC 3339; "unknown" when not a number.
fn rfc3339(epoch: &str) -> String {
    epoch
        .parse::<i64>()
        .map_or_else(|_| "unknown".into(), crate::clock::rfc3339)
}

pub fn run(args: &VersionArgs) -> Result<()> {
    let info = BuildInfo::of_this_binary();
    let text = if args.json {
        serde_json::to_string(&info).expect("plain strings and a bool serialize")
    } else {
        info.text()
    };
    crate::output::payload(&text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_date_is_rfc3339_utc_and_garbage_is_unknown() {
        assert_eq!(rfc3339("1765000000"), "2025-12-06T05:46:40Z");
        assert_eq!(rfc3339("0"), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339("soon"), "unknown");
    }
}
