//! keyless: a workload identity federation credential helper.
//!
//! The pipeline, stage by stage:
//! identity source → provider exchange → token cache → output.

// --- the pipeline ---
/// The pipeline itself, shared by credential, env and exec.
pub mod acquire;
/// Stage 3: the on-disk token cache, its locks and the single-use ledger.
pub mod cache;
/// Stage 4: what env and exec hand to other programs.
pub mod handoff;
/// Unverified JWT inspection and the local checks before an exchange.
pub mod jwt;
/// OpenID Connect: discovery, PKCE and device flows, ID token validation.
pub mod oidc;
/// Stage 2: token exchanges at the API providers.
pub mod provider;
/// Shell syntax for `env`.
pub mod shell;
/// Stage 1: where identity JWTs come from (file, env, command).
pub mod source;
/// `auth status`: precedence, static keys, keyless state.
pub mod status;

// --- configuration ---
pub mod cli;
pub mod config;
pub mod env_vars;
pub mod settings;

// --- commands and the local sandbox ---
pub mod commands;
pub mod sandbox;

// --- plumbing ---
pub mod error;
/// Man pages and completions from the clap definitions.
pub mod generated;
pub mod http;
pub mod output;
pub mod private_fs;
pub mod redact;
pub mod secret;
/// Refresh tokens and client secrets: keyring or 0600 file.
pub mod secret_store;
/// The sign-in session: login, refresh per exchange, client credentials, logout.
pub mod session;

use cli::{Cli, Command};
use error::Result;

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    output::set_verbosity(cli.global.quiet, cli.global.verbose);
    match &cli.command {
        Command::Sandbox(a) => return commands::sandbox::run(a),
        Command::Completions(a) => return commands::completions::run(a),
        Command::Demo => return commands::demo::run(),
        _ => {}
    }
    let settings = settings::Settings::resolve(&cli.global)?;
    match &cli.command {
        Command::Setup(c) => commands::setup::run(&settings, c),
        Command::Login(a) => commands::login::login(&settings, a),
        Command::Logout(a) => commands::login::logout(&settings, a),
        Command::Credential(a) => commands::credential::run(&settings, a),
        Command::Env(a) => commands::env::run(&settings, a),
        Command::Exec(a) => commands::exec::run(&settings, a),
        Command::Auth(cli::AuthCommand::Status(a)) => commands::auth::status(&settings, a),
        Command::Sandbox(_) | Command::Completions(_) | Command::Demo => unreachable!(),
    }
}
