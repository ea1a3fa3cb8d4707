//! One file per subcommand: its handler, taking resolved settings and its args.

pub mod auth;
pub mod completions;
pub mod credential;
pub mod demo;
pub mod env;
pub mod exec;
#[cfg(unix)]
pub mod exec_refresh;
pub mod login;
pub mod sandbox;
pub mod setup;
pub mod setup_claude;
pub mod setup_codex;
