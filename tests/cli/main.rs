//! One integration-test target (one link): the real binary, hermetic.

mod common;
mod fake;
mod fake_idp;

mod ambient;
mod assets;
mod cache;
mod claude_code;
mod codex;
mod config;
mod crash;
mod crash_session;
mod env;
mod exec;
mod exec_refresh;
mod hostile_lifetimes;
mod identity_files;
mod keyring;
mod layout;
mod login_fake;
mod login_real;
mod openai;
mod pooled;
mod properties;
mod proxy;
mod sandbox;
mod sdk;
mod secrets;
mod single_use;
mod status;
mod status_scan;
mod tls;
mod wire;
mod zero_setup;
