//! Man pages and shell completions, generated from the clap definitions.
//! `completions/`, `man/` and `docs/environment.md` in the repository hold the output; a test fails
//! when they are stale (`KEYLESS_BLESS=1 cargo test assets` refreshes them).

use clap_complete::Shell;

/// (path relative to the repository root, contents) for every generated file.
pub fn files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "keyless.bash"),
        (Shell::Zsh, "_keyless"),
        (Shell::Fish, "keyless.fish"),
        (Shell::PowerShell, "_keyless.ps1"),
        (Shell::Elvish, "keyless.elv"),
    ] {
        let script = crate::completion_script::completion(shell, &mut crate::cli::command());
        out.push((format!("completions/{name}"), script.into_bytes()));
    }
    // The help subcommand is for the terminal: no page documents it, so
    // none may refer to one (keyless-help(1)).
    let mut cmd = without_help_subcommand(crate::cli::command());
    cmd.build();
    man_pages(&cmd, "keyless", &mut out);
    out.push((
        "docs/environment.md".into(),
        crate::env_doc::markdown().into_bytes(),
    ));
    out
}

fn without_help_subcommand(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.disable_help_subcommand(true);
    for n in names {
        cmd = cmd.mut_subcommand(n, without_help_subcommand);
    }
    cmd
}

fn man_pages(cmd: &clap::Command, name: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let page = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .date("")
        .render(&mut buf)
        .expect("rendering to memory cannot fail");
    if name == "keyless" {
        buf.extend_from_slice(crate::man_extra::sections().as_bytes());
    }
    out.push((format!("man/{name}.1"), buf));
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        man_pages(sub, &format!("{name}-{}", sub.get_name()), out);
    }
}
