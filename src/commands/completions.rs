//! `keyless completions SHELL`: the completion script, on stdout.

use crate::cli::CompletionsArgs;
use crate::error::{Error, Result};

pub fn run(args: &CompletionsArgs) -> Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut crate::cli::command(), "keyless", &mut buf);
    crate::output::payload(&String::from_utf8_lossy(&buf), false)
        .map_err(|e| Error::failure(format!("cannot write to stdout: {e}")))
}
