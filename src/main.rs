//! keyless: parse, dispatch, and map the error to an exit code.

fn main() {
    // A cache hit's line is read without building clap's command tree,
    // exec's and env's with only their own; anything else, and anything
    // odd, goes to the full parse.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = keyless::cli::fast::credential(args.iter().cloned(), |n| std::env::var_os(n))
        .or_else(|| keyless::cli::fast::one_subcommand(&args))
        .unwrap_or_else(|| keyless::cli::parse(args));
    if let Err(e) = keyless::run(cli) {
        keyless::output::error(&e);
        std::process::exit(e.kind.exit_code());
    }
}

/// The only function keyless takes from libm.so.6 (tokio's scheduler
/// statistics call `f64::powf`), in Rust, so the binary does not load the
/// library on every start (issue 12; see build.rs). The linker prefers this
/// definition and, with `--as-needed`, drops libm.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
