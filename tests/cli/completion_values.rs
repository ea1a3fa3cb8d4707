//! Completions complete profile names and `--identity` values, not file
//! names (issue 23): the generated bash script, run by a real bash.

use std::path::Path;

use crate::common::*;

/// COMPREPLY for the command line `words` (the last one being completed).
fn complete(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/keyless.bash");
    let bin_dir = Path::new(BIN).parent().unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let prog = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; _keyless keyless '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .external("bash")
        .args(["-c", &prog])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn profile_names_and_identity_sources_complete() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, "env");
    env.run(&setup_anthropic_args(&[
        "--profile",
        "work",
        "--base-url",
        &sb.url,
        "--identity",
        "env",
    ]))
    .success();
    std::fs::write(env.home().join("wrong-file-name"), "").unwrap();
    assert_eq!(
        complete(&env, &["keyless", "--profile", ""]),
        ["default", "work"]
    );
    assert_eq!(
        complete(&env, &["keyless", "credential", "--profile", "w"]),
        ["work"]
    );
    // The NAME of profile use/show/rm and rename's OLD, not options or files.
    for sub in ["use", "show", "rm", "rename"] {
        assert_eq!(
            complete(&env, &["keyless", "profile", sub, "w"]),
            ["work"],
            "{sub}"
        );
    }
    assert_eq!(
        complete(&env, &["keyless", "profile", "rename", "work", "w"]),
        Vec::<String>::new(),
        "the new name is the user's to choose"
    );
    let ids = complete(&env, &["keyless", "setup", "anthropic", "--identity", "g"]);
    assert_eq!(ids, ["github-actions", "gcp"]);
    let all = complete(&env, &["keyless", "setup", "openai", "--identity", ""]);
    assert!(
        all.contains(&"file:".to_string()) && all.contains(&"command:".to_string()),
        "{all:?}"
    );
}

/// fish, for real: `complete -C` with the generated script loaded.
#[test]
fn fish_completes_profile_names() {
    if !require_program("fish") {
        return;
    }
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, "env");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/keyless.fish");
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in [
        "keyless --profile ",
        "keyless profile use ",
        "keyless profile show d",
    ] {
        let out = env
            .external("fish")
            .args([
                "--no-config",
                "-c",
                &format!("source '{}'; complete -C '{line}'", script.display()),
            ])
            .env("PATH", &path)
            .output()
            .unwrap();
        let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect();
        assert!(got.contains(&"default".to_string()), "{line:?}: {got:?}");
        assert!(
            got.iter().all(|g| !g.starts_with('/')),
            "{line:?}: file names: {got:?}"
        );
    }
    // rename's NEW is the user's to choose: neither a profile nor a file.
    std::fs::create_dir_all(env.home()).unwrap();
    std::fs::write(env.home().join("wrong-file-name"), "").unwrap();
    let out = env
        .external("fish")
        .args([
            "--no-config",
            "-c",
            &format!(
                "source '{}'; complete -C 'keyless profile rename default '",
                script.display()
            ),
        ])
        .env("PATH", &path)
        .current_dir(env.home())
        .output()
        .unwrap();
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(got.trim().is_empty(), "rename's NEW: {got:?}");
}

/// What a real zsh offers at the end of `line` (TAB pressed there): an
/// interactive `zsh -f` driven through the `zsh/zpty` module, with
/// `compinit` and the generated `_keyless` loaded, and `compadd` wrapped to
/// print each match it is given that fits the word (the technique of
/// zsh-capture-completion). Empty lines mark the completion's start and end.
fn zsh_complete(env: &TestEnv, line: &str) -> Vec<String> {
    let dir = env.path("zsh-capture");
    std::fs::create_dir_all(&dir).unwrap();
    let rc = dir.join("rc.zsh");
    std::fs::write(
        &rc,
        r#"PROMPT=
autoload -Uz compinit
compinit -u -D
source "$KEYLESS_COMPLETION"
compdef _keyless keyless
compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a hits
  builtin compadd -A hits "$@"
  local h
  for h in $hits; do print -r -- "<<$h>>"; done
}
null-line () { print -r -- $'\0'; }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
bindkey '^I' complete-word
bindkey '^M' undefined-key
bindkey '^J' undefined-key
print ready
"#,
    )
    .unwrap();
    let capture = r#"zmodload zsh/zpty || exit 3
zpty z zsh -f -i
local line
zpty -w z "source ${(q)1}"
repeat 4; do zpty -r z line; [[ $line == ready* ]] && break; done
zpty -w -n z "$2"$'\t'
integer marks=0
while zpty -r z line; do
  if [[ $line == *$'\0'* ]]; then (( ++marks == 2 )) && break; continue; fi
  (( marks == 1 )) && [[ $line == *'<<'*'>>'* ]] && { line=${line#*<<}; print -r -- ${line%%>>*}; }
done
(( marks == 2 )) || exit 4
"#;
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/_keyless");
    // A guard against a hang (zpty -r blocks), not a timed assertion.
    let out = env
        .external("timeout")
        .args(["120", "zsh", "-f", "-c", capture, "capture"])
        .arg(&rc)
        .arg(line)
        .env("PATH", path)
        .env("KEYLESS_COMPLETION", script)
        .current_dir(env.home())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zsh capture of {line:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// zsh, for real: profile names after `--profile` (before and after the
/// subcommand) and as `profile use|show|rm|rename`'s NAME, the identity
/// sources after `--identity`, and no file names where a name is typed.
#[test]
fn zsh_completes_profile_names_and_identity_sources() {
    if !require_program("zsh") {
        return;
    }
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, "env");
    env.run(&[
        "--profile",
        "work",
        "setup",
        "anthropic",
        "--base-url",
        &sb.url,
        "--federation-rule-id",
        RULE,
        "--organization-id",
        ORG,
        "--identity",
        "env",
    ])
    .success();
    std::fs::create_dir_all(env.home()).unwrap();
    std::fs::write(env.home().join("wrong-file-name"), "").unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    for line in [
        "keyless --profile ",
        "keyless credential --profile ",
        "keyless profile use ",
        "keyless --profile work profile use ",
        "keyless profile show ",
        "keyless profile rm ",
        "keyless profile rename ",
    ] {
        assert_eq!(
            sorted(zsh_complete(&env, line)),
            ["default", "work"],
            "{line:?}"
        );
    }
    assert_eq!(zsh_complete(&env, "keyless profile use w"), ["work"]);
    assert_eq!(
        zsh_complete(&env, "keyless profile rename work "),
        Vec::<String>::new(),
        "the new name is the user's to choose, not a file's"
    );
    assert_eq!(
        sorted(zsh_complete(&env, "keyless setup anthropic --identity g")),
        ["gcp", "github-actions"]
    );
    let all = zsh_complete(&env, "keyless setup openai --identity ");
    for want in ["file:", "env", "env:", "command:", "login", "aws", "azure"] {
        assert!(all.contains(&want.to_string()), "{want}: {all:?}");
    }
    assert!(!all.contains(&"wrong-file-name".to_string()), "{all:?}");
}

/// PowerShell (not installable here: neither Debian nor PyPI has it, so
/// the script is not run): `completions powershell` prints the committed
/// script, whose completer answers `--profile` and the NAME of `profile
/// use|show|rm` (rename's OLD) with the names `keyless profile list
/// --names` prints, run here for real, and `--identity` with the same
/// sources zsh offers.
#[test]
fn powershell_completes_profile_names_and_identity_sources() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, "env");
    let r = env.run(&["completions", "powershell"]);
    r.success();
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/_keyless.ps1"),
    )
    .unwrap();
    assert!(r.stdout == committed, "completions/_keyless.ps1 is stale");
    let script = committed;
    // The completer's own command, taken from the script and run.
    let call = script
        .lines()
        .find_map(|l| {
            let l = l.trim();
            let at = l.find("@(keyless ")?;
            let rest = &l[at + 2..];
            Some(rest[..rest.find(" 2>$null)")?].to_string())
        })
        .expect("the completer asks keyless for the profile names");
    let argv: Vec<&str> = call.split_whitespace().collect();
    assert_eq!(argv[0], "keyless");
    let names = env.run(&argv[1..]);
    names.success();
    assert_eq!(names.stdout, "default\n");
    // Which words it answers with names, and that it answers before clap's
    // option lists (a completer returns what it emits first).
    let names_at = script.find("$prev -eq '--profile'").expect("--profile");
    assert!(names_at < script.find("$completions = @(switch").unwrap());
    for section in [
        "'^profile;(use|show|rm|remove)$'",
        "$sub -eq 'profile;rename' -and $prev -eq 'rename'",
        // past options: `keyless --profile work profile use <TAB>`
        "$w -in '--profile', '--config-dir', '--cache-dir'",
    ] {
        assert!(script.contains(section), "{section}");
    }
    // --identity: the sources zsh completes, in the same order.
    let zsh =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/_keyless"))
            .unwrap();
    let zsh_ids = zsh
        .lines()
        .find_map(|l| l.split_once("]:SOURCE:(")?.1.strip_suffix(")' \\"))
        .expect("zsh's --identity values")
        .replace("\\:", ":");
    let ps_ids = script
        .lines()
        .find_map(|l| l.trim().strip_prefix("$values = @('")?.strip_suffix("')"))
        .expect("the --identity values")
        .replace("', '", " ");
    assert_eq!(ps_ids, zsh_ids);
    assert!(script.contains("$prev -eq '--identity'"));
}
