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
        Shell::Bash => script.replace(
            "--profile)\n                    COMPREPLY=($(compgen -f \"${cur}\"))",
            &format!("--profile)\n                    COMPREPLY=($(compgen -W \"$({PROFILE_NAMES})\" -- \"${{cur}}\"))"),
        ),
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
            + "\n",
        Shell::Zsh => script.replace(
            "default\\]]:NAME:_default'",
            &format!("default\\]]:NAME:{{compadd -- $({PROFILE_NAMES})}}'"),
        ),
        _ => script,
    }
}
