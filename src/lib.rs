//! keyless: a workload identity federation credential helper.
//!
//! Every command is one pipeline with a different last step:
//! identity source ([`source`]) → provider exchange ([`provider`]) → token
//! cache ([`cache`]) → output ([`handoff`], [`output`]). [`acquire`] runs
//! it; [`commands`] has one file per subcommand.

// --- the pipeline, stage by stage ---
/// The use case shared by credential, env and exec.
pub mod acquire;
/// Stage 4 for programs keyless does not start: `keyless agent`'s sinks.
pub mod agent;
/// Stage 3: the on-disk token cache, its locks and the single-use ledger.
pub mod cache;
/// Stage 4: what env and exec hand to other programs.
pub mod handoff;
/// Stage 2: the providers and their token exchanges.
pub mod provider;
/// Stage 4 for programs that read a key once: `exec --proxy`.
pub mod proxy;
/// Stage 1: where identity JWTs come from.
pub mod source;

// --- what feeds the pipeline ---
/// OpenID Connect: discovery, PKCE and device flows, ID token validation.
pub mod oidc;
/// The sign-in session: login, the refresh grant, logout.
pub mod session;
/// `auth status`: precedence, static keys, keyless state.
pub mod status;

// --- configuration ---
pub mod cli;
pub mod clients;
pub mod clock;
/// A command line in one string, split by the platform's rules.
pub mod command_line;
pub mod config;
pub mod digest;
pub mod env_vars;
pub mod settings;

// --- commands and the local sandbox ---
pub mod commands;
pub mod sandbox;

// --- plumbing ---
/// Man pages and completions from the clap definitions.
pub mod completion_script;
pub mod env_doc;
pub mod error;
pub mod generated;
/// Core dumps off, before anything else runs.
pub mod hardening;
pub mod http;
/// Unverified JWT inspection and the local checks before an exchange.
pub mod jwt;
pub mod man_extra;
pub mod output;
pub mod private_fs;
pub mod redact;
pub mod secret;
/// Refresh tokens and client secrets: keyring or 0600 file.
pub mod secret_store;
#[cfg(test)]
mod test_runtime;

use cli::{Cli, Command};
use error::Result;
use settings::Settings;

/// Run a parsed command line. Settings are resolved only by the commands
/// that use them: the sandbox, the demo and completions need no home.
pub fn run(cli: Cli) -> Result<()> {
    hardening::disable_core_dumps();
    output::set_verbosity(cli.global.quiet, cli.global.verbose);
    let settings = || Settings::resolve(&cli.global);
    match &cli.command {
        Command::Setup(c) => commands::setup::run(&settings()?, c),
        Command::Login(a) => commands::login::run(&settings()?, a),
        Command::Logout(a) => commands::logout::run(&settings()?, a),
        Command::Credential(a) => commands::credential::run(&settings()?, a),
        Command::Env(a) => commands::env::run(&settings()?, a),
        Command::Exec(a) => commands::exec::run(&settings()?, a),
        Command::Agent(a) => commands::agent::run(&settings()?, a),
        Command::Auth(c) => commands::auth::run(&settings()?, c),
        Command::Profile(c) => commands::profile::run(&settings()?, c),
        Command::Sandbox(a) => commands::sandbox::run(a),
        Command::Demo(a) => commands::demo::run(a),
        Command::Completions(a) => commands::completions::run(a, cli::command()),
        Command::Version(a) => commands::version::run(a),
    }
}
