//! `keyless login` and `keyless logout`.

use std::time::Duration;

use crate::cli::{LoginArgs, LogoutArgs};
use crate::config::LoginFlow;
use crate::error::{Error, Result};
use crate::session::{self, LoginOptions};
use crate::settings::Settings;

pub fn login(settings: &Settings, args: &LoginArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded).ok_or_else(|| {
        Error::config(format!(
            "profile {:?} has no issuer to sign in to",
            settings.profile
        ))
        .hint(format!(
            "run `{}`",
            settings.command("setup issuer --issuer URL --client-id ID")
        ))
    })?;
    let flow = if args.device {
        Some(LoginFlow::Device)
    } else if args.browser {
        Some(LoginFlow::Browser)
    } else {
        None
    };
    session::login(
        settings,
        &issuer,
        &LoginOptions {
            flow,
            no_browser: args.no_browser,
            timeout: Duration::from_secs(args.timeout),
        },
    )
}

pub fn logout(settings: &Settings, args: &LogoutArgs) -> Result<()> {
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
        let s = Settings {
            profile: name.clone(),
            config_dir: settings.config_dir.clone(),
            cache_dir: settings.cache_dir.clone(),
        };
        let profile = loaded.file.profiles.get(&name);
        // Every provider's cached token: each was minted from the session.
        let keys: Vec<_> = profile
            .into_iter()
            .flat_map(|p| {
                let anthropic = p.anthropic.as_ref().map(crate::acquire::Target::Anthropic);
                let openai = p.openai.as_ref().map(crate::acquire::Target::OpenAi);
                anthropic.into_iter().chain(openai)
            })
            .map(|t| t.cache_key(&name))
            .collect();
        session::logout(&s, profile.and_then(|p| p.issuer.as_ref()), &keys)?;
    }
    Ok(())
}
