//! The test harness: the real binary in a hermetic environment (env_clear, a
//! temporary HOME, config and cache dirs), plus helpers every module uses,
//! one file per kind:
//!
//! - [`env`]: the hermetic environment ([`TestEnv`]) and the `setup` helpers;
//! - [`run`]: a finished run ([`Run`]) and what every run must show (nothing
//!   token-shaped on stderr);
//! - [`fixtures`]: the sandbox's identifiers, shaped JWTs, cache files, modes;
//! - [`sandbox`]: the one way to start `keyless sandbox` ([`Sandbox`]);
//! - [`http`]: the one HTTP/1.1 client for tests that speak raw HTTP;
//! - [`pki`]: the one test PKI (a private CA and a server certificate);
//! - [`tools`]: external tools and the test Python, required or skipped.
//!
//! Everything is re-exported here: `use crate::common::*`.

mod env;
mod fixtures;
pub mod http;
mod pki;
mod run;
mod sandbox;
mod tools;

pub use env::*;
pub use fixtures::*;
pub use http::get_json as http_get_json;
pub use pki::*;
pub use run::*;
pub use sandbox::*;
pub use tools::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_keyless");
