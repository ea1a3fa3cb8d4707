//! `keyless completions SHELL`: the completion script, on stdout.

use clap::Args;

use crate::error::Result;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `cli` is the whole command line the script completes; the caller passes
/// it in, since the command tree is built from every command's arguments.
pub fn run(args: &CompletionsArgs, mut cli: clap::Command) -> Result<()> {
    let script = crate::completion_script::completion(args.shell, &mut cli);
    crate::output::payload(&script, false)
}
