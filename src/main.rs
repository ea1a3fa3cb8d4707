//! keyless: parse, dispatch, and map the error to an exit code.

use clap::Parser;

fn main() {
    // A cache hit's line is read without building clap's command tree;
    // anything else, and anything odd, goes to clap.
    let cli = keyless::cli_fast::credential(std::env::args_os(), |n| std::env::var_os(n))
        .unwrap_or_else(keyless::cli::Cli::parse);
    if let Err(e) = keyless::run(cli) {
        keyless::output::error(&e);
        std::process::exit(e.kind.exit_code());
    }
}
