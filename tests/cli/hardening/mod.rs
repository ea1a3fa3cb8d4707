//! Issue 18, hardening (third round): one test file per defect, each test
//! seen failing on the code before its fix.

mod audience;
mod base_url;
#[cfg(target_os = "linux")]
mod leftover_daemons;
mod outside_files;
mod port_lifetime;
mod program_name;
mod project_scope;
mod proxy_env;
mod refresh_openai;
mod refresh_token;
#[cfg(target_os = "linux")]
mod renewal_at_exit;
mod sandbox_notice;
mod served_mark;
mod served_record;
mod server_echo;
#[cfg(target_os = "linux")]
mod terminal_signals;
