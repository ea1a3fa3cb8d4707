//! How a managed profile meets the user's config: field by field. Loading
//! lays each field the managed file sets over the user's profile of the
//! same name (creating it); saving takes those fields out again, so the
//! user's file keeps only what the user set, and refuses a save that
//! changed one of them. The three sections and their fields are those of
//! [`crate::config::Profile`].

use serde_json::{Map, Value};

use super::Managed;
use crate::config::{AnthropicConfig, ConfigFile, IssuerConfig, OpenAiConfig, checks};
use crate::error::{Error, Result};

/// The fields a managed section must name (the identity source may be
/// left to the user: it defaults as `setup` defaults it).
fn required(section: &str) -> &'static [&'static str] {
    match section {
        "anthropic" => &["federation_rule_id", "organization_id"],
        "openai" => &["identity_provider_id", "service_account_id"],
        _ => &["issuer", "client_id"],
    }
}

/// A managed profile's sections: known names, known fields, values `setup`
/// would accept.
pub(super) fn validate(sections: &Map<String, Value>) -> std::result::Result<(), String> {
    for (section, fields) in sections {
        if !matches!(section.as_str(), "anthropic" | "openai" | "issuer") {
            return Err(format!(
                "unknown key {section:?} (a profile holds anthropic, openai and issuer)"
            ));
        }
        let Some(obj) = fields.as_object() else {
            return Err(format!("{section} must be an object"));
        };
        // A null would be laid over the user's profile and then differ from
        // the saved file (which leaves an unset field out): every save of
        // the profile would be refused. Not set is said by leaving it out.
        if let Some(k) = obj.iter().find(|(_, v)| v.is_null()).map(|(k, _)| k) {
            return Err(format!(
                "{section}.{k} is null (to leave it to the user, leave the key out)"
            ));
        }
        if let Some(missing) = required(section).iter().find(|f| !obj.contains_key(**f)) {
            return Err(format!("{section} must set {missing}"));
        }
        let mut typed = obj.clone();
        if section != "issuer" {
            typed
                .entry("identity")
                .or_insert(serde_json::json!({"type": "env"}));
        }
        let unknown = match section.as_str() {
            "anthropic" => {
                let c = from::<AnthropicConfig>(section, typed)?;
                checked_anthropic(&c)?;
                c.unknown
            }
            "openai" => {
                let c = from::<OpenAiConfig>(section, typed)?;
                let m = |e: Error| e.message;
                checks::check_identity_provider_id(&c.identity_provider_id).map_err(m)?;
                checks::check_plain("service_account_id", &c.service_account_id).map_err(m)?;
                if let Some(u) = &c.token_endpoint {
                    checks::check_url("token_endpoint", u).map_err(m)?;
                }
                c.unknown
            }
            _ => {
                let c = from::<IssuerConfig>(section, typed)?;
                checks::check_url("issuer", &c.issuer).map_err(|e| e.message)?;
                c.unknown
            }
        };
        if let Some(k) = unknown.keys().next() {
            return Err(format!("unknown key {section}.{k}"));
        }
    }
    Ok(())
}

fn from<T: serde::de::DeserializeOwned>(
    section: &str,
    v: Map<String, Value>,
) -> std::result::Result<T, String> {
    serde_json::from_value(Value::Object(v)).map_err(|e| format!("{section}: {e}"))
}

fn checked_anthropic(c: &AnthropicConfig) -> std::result::Result<(), String> {
    let m = |e: Error| e.message;
    checks::check_rule_id(&c.federation_rule_id).map_err(m)?;
    checks::check_organization_id(&c.organization_id).map_err(m)?;
    if let Some(v) = &c.service_account_id {
        checks::check_service_account_id(v).map_err(m)?;
    }
    if let Some(v) = &c.workspace_id {
        checks::check_workspace_id(v).map_err(m)?;
    }
    if let Some(v) = &c.base_url {
        crate::config::BaseUrl::parse("base_url", v).map_err(m)?;
    }
    Ok(())
}

/// Lay the managed profiles over `config` (the user's file as JSON).
pub fn apply(config: &mut Value, m: &Managed) {
    let Some(root) = config.as_object_mut() else {
        return;
    };
    let Some(profiles) = root
        .entry("profiles")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
    else {
        return; // the typed parse reports it
    };
    for (name, sections) in &m.profiles {
        let profile = profiles
            .entry(name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(profile) = profile else {
            continue;
        };
        for (section, fields) in sections {
            let target = profile
                .entry(section.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let (Some(t), Some(f)) = (target.as_object_mut(), fields.as_object()) {
                for (k, v) in f {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
        // An identity the managed file leaves open defaults as `setup`'s:
        // the sign-in session with an issuer, else the variables.
        let default = if profile.contains_key("issuer") {
            serde_json::json!({"type": "login"})
        } else {
            serde_json::json!({"type": "env"})
        };
        for section in ["anthropic", "openai"] {
            if let Some(Value::Object(s)) = profile.get_mut(section) {
                s.entry("identity").or_insert_with(|| default.clone());
            }
        }
    }
}

/// Take the managed fields out of `config` (the file about to be saved).
pub fn unmerge(config: &mut Value, m: &Managed) {
    let Some(profiles) = config.get_mut("profiles").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, sections) in &m.profiles {
        let Some(Value::Object(profile)) = profiles.get_mut(name) else {
            continue;
        };
        for (section, fields) in sections {
            if let (Some(Value::Object(s)), Some(f)) =
                (profile.get_mut(section), fields.as_object())
            {
                for k in f.keys() {
                    s.remove(k);
                }
                if s.is_empty() {
                    profile.remove(section);
                }
            }
        }
        if profile.is_empty() {
            profiles.remove(name);
        }
    }
}

/// Refuse a save that changed or removed what the managed file sets.
pub fn conflicts(file: &ConfigFile, m: &Managed) -> Result<()> {
    for (name, sections) in &m.profiles {
        let Some(p) = file.profiles.get(name) else {
            return Err(Error::config(format!(
                "profile {name:?} is managed by {} and cannot be removed or renamed",
                m.path.display()
            ))
            .hint(format!(
                "sign out with `keyless --profile {name} logout`; your own profiles can be removed"
            )));
        };
        let now = serde_json::to_value(p).unwrap_or(Value::Null);
        for (section, fields) in sections {
            for (k, want) in fields.as_object().into_iter().flatten() {
                let have = now.get(section).and_then(|s| s.get(k));
                if have != Some(want) {
                    return Err(Error::config(format!(
                        "profile {name:?}: {section}.{k} is set by the managed configuration {} (to {}); keyless setup cannot change it",
                        m.path.display(),
                        shown(want)
                    ))
                    .hint(format!(
                        "leave --{} out (the managed value is used), ask your administrator, or set up a profile of your own with --profile",
                        k.replace('_', "-")
                    )));
                }
            }
        }
    }
    Ok(())
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Object(o) if o.contains_key("type") => {
            serde_json::from_value::<crate::config::IdentitySource>(v.clone())
                .map(|i| format!("{:?}", i.spec()))
                .unwrap_or_else(|_| v.to_string())
        }
        other => other.to_string(),
    }
}
