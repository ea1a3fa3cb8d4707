//! One integration-test target (one link): the real binary, hermetic.
//!
//! A Unix harness (sh, signals, file modes, Unix sockets): it runs on Linux
//! and macOS. The Windows build is tested from here too, under Wine
//! ([`windows`]), and its unit tests compile and run on Windows; on Windows
//! itself this target is empty.
#![cfg(unix)]

mod agent_support;
mod anthropic;
mod common;
mod completion_values;
mod fake;
mod fake_idp;
mod hardening;

mod agent;
mod agent_long;
mod agent_proxy;
mod agent_recipes;
mod agent_recovery;
mod ambient;
mod ambient_aws;
mod ambient_aws_sandbox;
mod ambient_azure;
mod ambient_ci;
mod assets;
mod auto;
mod cache;
mod callback;
mod claude_code;
mod codex;
mod config;
mod crash;
mod crash_session;
mod env;
mod exec;
mod exec_proxy;
mod exec_refresh;
mod github_mask;
mod help;
mod hostile_idp;
mod hostile_lifetimes;
mod hostile_text;
mod hot_path;
mod http_proxy;
mod identity_files;
mod keyring;
mod layout;
mod login_fake;
mod login_real;
mod man;
mod managed;
mod openai;
mod pooled;
mod process;
mod profiles;
mod properties;
mod readme;
mod real_clients;
mod revocation;
mod sandbox;
mod sandbox_platforms;
mod sdk;
mod secrets;
mod single_use;
mod status;
mod status_scan;
mod tls;
mod version;
mod windows;
mod zero_setup;
