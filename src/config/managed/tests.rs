use super::*;
use crate::config::ConfigFile;

const ORG: &str = "5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550";

fn parsed(text: &str) -> Result<Managed> {
    parse(Path::new("/etc/keyless/config.json"), text.as_bytes())
}

fn corp() -> Managed {
    parsed(&format!(
        r#"{{"version":1,"profiles":{{"corp":{{"anthropic":{{
            "federation_rule_id":"fdrl_01corp","organization_id":"{ORG}",
            "base_url":"https://gw.corp.example"}}}}}},
           "policy":{{"forbid_static_api_keys":true,
                      "allowed_base_urls":["https://gw.corp.example"]}}}}"#
    ))
    .unwrap()
}

/// An administrator's typo must not silently drop a policy: every unknown
/// key, at every level, makes the file invalid, naming the key.
#[test]
fn unknown_keys_anywhere_are_refused_by_name() {
    for (text, key) in [
        (r#"{"version":1,"polcy":{}}"#, "polcy"),
        (
            r#"{"version":1,"policy":{"forbid_static_api_key":true}}"#,
            "forbid_static_api_key",
        ),
        (
            r#"{"version":1,"profiles":{"p":{"antropic":{}}}}"#,
            "antropic",
        ),
        (
            &format!(
                r#"{{"version":1,"profiles":{{"p":{{"anthropic":{{"federation_rule_id":"fdrl_1",
                "organization_id":"{ORG}","base_ulr":"https://x"}}}}}}}}"#
            ),
            "base_ulr",
        ),
    ] {
        let e = parsed(text)
            .err()
            .unwrap_or_else(|| panic!("{text} parsed"));
        assert!(e.message.contains(key), "{key}: {}", e.message);
        assert!(
            e.message.contains("/etc/keyless/config.json"),
            "{}",
            e.message
        );
        assert!(e.hint.is_some());
    }
}

#[test]
fn bad_values_versions_and_incomplete_sections_are_refused() {
    for (text, needle) in [
        (r#"{"version":2}"#, "version 2"),
        (r#"{"profiles":{}}"#, "version"),
        (r#"{"version":1,"#, "line 1"),
        (
            r#"{"version":1,"profiles":{"p":{"anthropic":{"federation_rule_id":"fdrl_1"}}}}"#,
            "must set organization_id",
        ),
        (
            &format!(
                r#"{{"version":1,"profiles":{{"p":{{"anthropic":{{"federation_rule_id":"rule",
                "organization_id":"{ORG}"}}}}}}}}"#
            ),
            "fdrl_",
        ),
        (
            r#"{"version":1,"policy":{"allowed_base_urls":["http://evil.example"]}}"#,
            "plain http",
        ),
        (r#"{"version":1,"profiles":{".x":{}}}"#, ".x"),
    ] {
        let e = parsed(text)
            .err()
            .unwrap_or_else(|| panic!("{text} parsed"));
        assert!(e.message.contains(needle), "{needle}: {}", e.message);
    }
}

/// Loading lays the managed fields over the user's profile of the same
/// name; saving takes them out again, keeping what the user set.
#[test]
fn managed_fields_are_laid_over_and_taken_out_again() {
    let m = corp();
    let mut v = serde_json::json!({"version": 1, "profiles": {
        "corp": {"anthropic": {"identity": {"type": "login"}, "base_url": "https://mine.example"}},
        "own": {"anthropic": {"federation_rule_id": "fdrl_own", "organization_id": ORG,
                              "identity": {"type": "env"}}}}});
    apply(&mut v, &m);
    let file: ConfigFile = serde_json::from_value(v).unwrap();
    let corp = file.profiles["corp"].anthropic.as_ref().unwrap();
    assert_eq!(corp.federation_rule_id, "fdrl_01corp");
    assert_eq!(
        corp.base_url(),
        crate::config::BaseUrl::checked("https://gw.corp.example"),
        "the managed value wins"
    );
    assert_eq!(
        corp.federation.identity,
        crate::config::IdentitySource::Login,
        "the user's"
    );
    conflicts(&file, &m).unwrap();
    let mut back = serde_json::to_value(&file).unwrap();
    unmerge(&mut back, &m);
    assert_eq!(
        back["profiles"]["corp"],
        serde_json::json!({"anthropic": {"identity": {"type": "login"}}})
    );
    assert_eq!(
        back["profiles"]["own"]["anthropic"]["federation_rule_id"],
        "fdrl_own"
    );
}

#[test]
fn an_identity_left_open_defaults_as_setup_does() {
    let m = corp();
    let mut v = serde_json::json!({"version": 1});
    apply(&mut v, &m);
    let file: ConfigFile = serde_json::from_value(v).unwrap();
    assert_eq!(
        file.profiles["corp"]
            .anthropic
            .as_ref()
            .unwrap()
            .federation
            .identity,
        crate::config::IdentitySource::Env
    );
}

#[test]
fn a_save_that_changes_or_removes_a_managed_field_is_refused() {
    let m = corp();
    let mut v = serde_json::json!({"version": 1});
    apply(&mut v, &m);
    let mut file: ConfigFile = serde_json::from_value(v).unwrap();
    file.profiles
        .get_mut("corp")
        .unwrap()
        .anthropic
        .as_mut()
        .unwrap()
        .base_url = Some("https://evil.example".into());
    let e = conflicts(&file, &m).unwrap_err();
    assert!(e.message.contains("anthropic.base_url"), "{}", e.message);
    assert!(e.hint.unwrap().contains("--base-url"));
    file.profiles.remove("corp");
    let e = conflicts(&file, &m).unwrap_err();
    assert!(e.message.contains("cannot be removed"), "{}", e.message);
}

#[test]
fn fields_lists_what_the_file_sets() {
    let m = corp();
    assert_eq!(
        m.fields("corp"),
        [
            "anthropic.base_url",
            "anthropic.federation_rule_id",
            "anthropic.organization_id"
        ]
    );
    assert!(m.sets("corp", "anthropic", "base_url"));
    assert!(!m.sets("corp", "anthropic", "identity"));
    assert!(m.fields("other").is_empty());
}

/// macOS's managed path, checked on Linux, and the one this platform
/// reads; both as docs/managed.md tells administrators.
#[cfg(unix)]
#[test]
fn the_managed_path_is_the_documented_one_on_macos_and_linux() {
    assert_eq!(
        unix::path_for(true),
        "/Library/Application Support/keyless/config.json"
    );
    assert_eq!(unix::path_for(false), "/etc/keyless/config.json");
    assert_eq!(
        path().unwrap(),
        Path::new(unix::path_for(cfg!(target_os = "macos")))
    );
    let doc = include_str!("../../../docs/managed.md");
    for p in [unix::path_for(true), unix::path_for(false)] {
        assert!(doc.contains(&format!("`{p}`")), "docs/managed.md: {p}");
    }
}

#[cfg(unix)]
#[test]
fn the_unix_rule_is_root_and_no_group_or_other_write() {
    assert_eq!(unix::judge(0, 0o100644), None);
    assert_eq!(unix::judge(0, 0o40755), None);
    assert!(unix::judge(1000, 0o100644).unwrap().contains("uid 1000"));
    assert!(unix::judge(0, 0o100664).unwrap().contains("664"));
    assert!(unix::judge(0, 0o100646).is_some());
}

/// A `null` field would be laid over the user's profile and then differ
/// from the saved one (which leaves an unset field out), so every save of
/// that profile was refused. It is refused at load instead, by name: to
/// leave a field to the user, the administrator leaves the key out.
#[test]
fn a_null_field_is_refused_at_load_by_name() {
    let text = format!(
        r#"{{"version":1,"profiles":{{"corp":{{"anthropic":{{
            "federation_rule_id":"fdrl_01corp","organization_id":"{ORG}",
            "workspace_id":null}}}}}}}}"#
    );
    let e = parsed(&text).expect_err("a null field parsed");
    assert!(
        e.message.contains("anthropic.workspace_id") && e.message.contains("null"),
        "{}",
        e.message
    );
    assert!(e.message.contains("leave the key out"), "{}", e.message);
}

/// The one bounded read both platforms' `read_trusted` end with: a file
/// over the bound is refused, not cut.
#[test]
fn a_managed_file_over_the_bound_is_refused_whole() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("config.json");
    std::fs::write(&p, b"12345").unwrap();
    let open = || std::fs::File::open(&p).unwrap();
    assert!(matches!(read_bounded(open(), &p, 5), Read::Data(b) if b == b"12345"));
    assert!(matches!(
        read_bounded(open(), &p, 4),
        Read::Untrusted(m) if m.contains("larger than 4 bytes")
    ));
}
