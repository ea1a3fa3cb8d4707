//! Shell completion scripts: clap's, with `--profile` completing profile
//! names. Takes the command tree as a parameter, so that `commands/` can use
//! it without an import cycle through `cli`.

use clap_complete::Shell;

/// The profile names, for completion: what `--profile` completes to.
const PROFILE_NAMES: &str = "keyless profile list --names 2>/dev/null";

/// The completion script for `shell`, with `--profile` completing the
/// user's profile names (asked of keyless when completing) instead of file
/// names, where the shell's script syntax allows it.
pub fn completion(shell: Shell, cli: &mut clap::Command) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, cli, "keyless", &mut buf);
    let script = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        Shell::Bash => bash_positional_names(&script.replace(
            "--profile)\n                    COMPREPLY=($(compgen -f \"${cur}\"))",
            &format!("--profile)\n                    COMPREPLY=($(compgen -W \"$({PROFILE_NAMES})\" -- \"${{cur}}\"))"),
        )),
        Shell::Fish => script
            .lines()
            .map(|l| {
                if l.contains(" -l profile ") && l.ends_with(" -r") {
                    format!("{l} -f -a \"({PROFILE_NAMES})\"")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + &format!(
                "\ncomplete -c keyless -n \"__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use show rm remove\" -f -a \"({PROFILE_NAMES})\"\n\
                 # rename's OLD is a profile; its NEW is the user's to choose (no files)\n\
                 complete -c keyless -n \"__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename; and string match -q rename -- (commandline -opc)[-1]\" -f -a \"({PROFILE_NAMES})\"\n\
                 complete -c keyless -n \"__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename\" -f\n\
                 # --profile before the subcommand, which the condition above it misses\n\
                 complete -c keyless -n 'string match -q -- --profile (commandline -opc)[-1]' -f -a \"({PROFILE_NAMES})\"\n"
            ),
        Shell::Zsh => {
            let names = format!("{{compadd -- $({PROFILE_NAMES})}}");
            script
                .replace(
                    "default\\]]:NAME:_default'",
                    &format!("default\\]]:NAME:{names}'"),
                )
                .replace(
                    "name -- The profile'\\''s name:_default'",
                    &format!("name -- The profile'\\''s name:{names}'"),
                )
                .replace(
                    "chooses\\]:_default'",
                    &format!("chooses\\]:{names}'"),
                )
                .replace("':old:_default'", &format!("':old:{names}'"))
                // rename's NEW is the user's to choose: no files, nothing.
                .replace("':new:_default'", "':new: '")
        }
        Shell::PowerShell => powershell_values(&script),
        _ => script,
    }
}

/// PowerShell: clap's completer offers no values at all. Before its option
/// lists, answer `--profile` and the NAME of `profile use|show|rm` (and
/// rename's OLD) with the profile names, asked of keyless as the other
/// shells do, and `--identity` with the sources' names and prefixes. The
/// previous word is the last one before the word being completed.
fn powershell_values(script: &str) -> String {
    let ids = crate::config::identity::COMPLETIONS
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let names = PROFILE_NAMES.replace("2>/dev/null", "2>$null");
    let block = format!(
        r#"    # keyless: profile names for --profile and profile use/show/rm (and
    # rename's OLD), asked of keyless; the identity sources for --identity.
    $words = @($commandElements | ForEach-Object {{ $_.Extent.Text }})
    if ($wordToComplete -ne '' -and $words.Count -gt 1) {{ $words = $words[0..($words.Count - 2)] }}
    $prev = [string]$words[-1]
    # The subcommands typed so far, past options (and the global ones' values).
    $path = @()
    for ($i = 1; $i -lt $words.Count; $i++) {{
        $w = [string]$words[$i]
        if ($w -in '--profile', '--config-dir', '--cache-dir') {{ $i++; continue }}
        if ($w -notlike '-*') {{ $path += $w }}
    }}
    $sub = @($path | Select-Object -First 2) -join ';'
    $values = $null
    if ($prev -eq '--profile' -or
        ($sub -match '^profile;(use|show|rm|remove)$' -and $prev -notlike '-*' -and "$wordToComplete" -notlike '-*') -or
        ($sub -eq 'profile;rename' -and $prev -eq 'rename')) {{
        $values = @({names})
    }} elseif ($prev -eq '--identity') {{
        $values = @({ids})
    }}
    if ($null -ne $values) {{
        $values.Where{{ $_ -like "$wordToComplete*" }} | ForEach-Object {{
            [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_)
        }}
        return
    }}
"#
    );
    let anchor = "    $completions = @(switch ($command) {";
    match script.find(anchor) {
        Some(at) => format!("{}{block}\n{}", &script[..at], &script[at..]),
        None => script.to_string(),
    }
}

/// Bash: the NAME of `profile use|show|rm` (and `rename`'s OLD) completes
/// to profile names; clap's script offers only the options there.
fn bash_positional_names(script: &str) -> String {
    let mut out = String::new();
    let mut pending: Option<&str> = None;
    for line in script.lines() {
        out.push_str(line);
        out.push('\n');
        let t = line.trim();
        if let Some(cond) = pending.take() {
            out.push_str(&format!(
                "            if [[ {cond} ]] ; then\n                COMPREPLY=($(compgen -W \"$({PROFILE_NAMES})\" -- \"${{cur}}\"))\n                return 0\n            fi\n"
            ));
            continue;
        }
        pending = match t {
            "keyless__subcmd__profile__subcmd__use)"
            | "keyless__subcmd__profile__subcmd__show)"
            | "keyless__subcmd__profile__subcmd__rm)" => {
                Some("${cur} != -* && ${prev} != -* && ${prev} != --*")
            }
            "keyless__subcmd__profile__subcmd__rename)" => {
                Some("${cur} != -* && ${prev} == rename")
            }
            _ => None,
        };
    }
    out
}
