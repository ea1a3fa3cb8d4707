//! One file (or folder, for a group) per subcommand: its arguments and its
//! handler, taking resolved settings. Nothing outside `lib.rs` and `cli.rs`
//! imports this module; everything below it is shared by the commands.

pub mod agent;
pub mod auth;
pub mod completions;
pub mod credential;
pub mod demo;
pub mod env;
pub mod exec;
pub mod login;
pub mod logout;
pub mod profile;
pub mod sandbox;
pub mod setup;
pub mod version;
