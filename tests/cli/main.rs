//! One integration-test target (one link): the real binary, hermetic.

mod common;
mod fake;
mod fake_idp;
mod hostile_idp;
mod hostile_text;

mod assets;
mod cache;
mod callback;
mod claude_code;
mod codex;
mod config;
mod env;
mod exec;
mod exec_refresh;
mod layout;
mod login_fake;
mod login_real;
mod openai;
mod process;
mod sandbox;
mod sdk;
mod single_use;
mod status;
mod status_scan;
mod wire;
