//! keyless: parse, dispatch, and map the error to an exit code.

use clap::Parser;

fn main() {
    let cli = keyless::cli::Cli::parse();
    if let Err(e) = keyless::run(cli) {
        keyless::output::error(&e);
        std::process::exit(e.kind.exit_code());
    }
}
