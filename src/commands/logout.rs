//! `keyless logout`: revoke and forget the sign-in session, and delete the
//! cached tokens minted from it; `--all` for every profile.

use clap::Args;

use crate::error::Result;
use crate::provider::Provider;
use crate::session;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Sign out of every profile
    #[arg(long)]
    pub all: bool,
}

pub fn run(settings: &Settings, args: &LogoutArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let profiles: Vec<String> = if args.all {
        let mut v: Vec<String> = loaded.file.profiles.keys().cloned().collect();
        if !v.contains(&settings.profile) {
            v.push(settings.profile.clone());
        }
        v
    } else {
        vec![settings.profile.clone()]
    };
    for name in profiles {
        let s = Settings::fixed(
            settings.config_dir.clone(),
            settings.cache_dir.clone(),
            &name,
        );
        let profile = loaded.file.profiles.get(&name);
        // Every provider's cached token: each was minted from the session.
        let keys: Vec<_> = Provider::ALL
            .into_iter()
            .filter_map(|p| profile.and_then(|prof| p.saved(prof)))
            .map(|t| t.cache_key(&name))
            .collect();
        session::logout(&s, profile.and_then(|p| p.issuer.as_ref()), &keys)?;
    }
    Ok(())
}
