//! The command line, as clap derive definitions: [`Cli`] and the
//! [`Command`] enum. Each variant's arguments live with its command in
//! [`crate::commands`]; the global and freshness flags with what they
//! resolve to, in [`crate::settings`]. Help text, the man pages and the
//! shell completions are all generated from these definitions.

/// The cache hit's command line, without clap's whole tree.
pub mod fast;

use clap::{Parser, Subcommand};

use crate::commands::{
    auth::AuthCommand, completions::CompletionsArgs, credential::CredentialArgs, env::EnvArgs,
    exec::ExecArgs, login::LoginArgs, logout::LogoutArgs, sandbox::SandboxArgs,
    setup::SetupCommand, version::VersionArgs,
};
use crate::settings::GlobalArgs;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure not covered below
  2  usage error
  3  sign-in required: no identity token can be had right now
  4  network failure, timeout, or an endpoint that does not answer as the API should
  5  denied by the provider or the identity provider
  6  configuration missing or invalid
  A closed stdout (`| head -c0`) exits 141 with nothing printed, as SIGPIPE would.
  exec returns its child's exit code.";

#[derive(Debug, Parser)]
#[command(
    name = "keyless",
    version,
    about = "Short-lived Claude and OpenAI API tokens from workload identity federation: no static API keys",
    long_about = "keyless trades a short-lived OIDC JWT from an identity provider you already trust \
for a short-lived Claude or OpenAI API access token (workload identity federation), caches it, \
and hands it to other programs.",
    after_help = EXIT_CODES,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record federation identifiers and the identity source in the config
    #[command(subcommand)]
    Setup(SetupCommand),
    /// Sign in to the profile's OpenID Connect provider (browser or device code)
    Login(LoginArgs),
    /// Revoke and forget the sign-in session and the cached tokens
    Logout(LogoutArgs),
    /// Print a valid short-lived token (cached; exchanged only when needed)
    Credential(CredentialArgs),
    /// Print shell assignments that hand the token to programs: eval "$(keyless env)"
    Env(EnvArgs),
    /// Run a program with the token in its environment (never in its argv)
    Exec(ExecArgs),
    /// Keep SDK profiles, token files, templates and a shared proxy fresh for programs keyless does not start
    Agent(crate::commands::agent::AgentArgs),
    /// Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints
    ///
    /// It is open to every local user: anyone on this machine can mint its
    /// JWTs, read its history and revoke its tokens. It holds nothing real.
    Sandbox(SandboxArgs),
    /// Try keyless end to end against an in-process sandbox, with no account
    Demo(crate::commands::demo::DemoArgs),
    /// Which credential wins here, where static keys live, and whether keyless can serve
    #[command(subcommand)]
    Auth(AuthCommand),
    /// List, show, activate, remove or rename profiles
    #[command(subcommand)]
    Profile(crate::commands::profile::ProfileCommand),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print the version, commit, target, build date and whether this is a release build
    Version(VersionArgs),
}

/// Parse the command line as clap does, with a better word for the common
/// slips clap cannot know about: `keyless status` (it is `auth status`) and
/// `exec CMD` without `--`.
pub fn parse(args: Vec<std::ffi::OsString>) -> Cli {
    match <Cli as Parser>::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(better) = slip(&args, &e) {
                crate::output::error(&better);
                std::process::exit(better.kind.exit_code());
            }
            e.exit()
        }
    }
}

fn slip(args: &[std::ffi::OsString], e: &clap::Error) -> Option<crate::error::Error> {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return None;
    }
    let words: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let first = words.iter().position(|w| !w.starts_with('-'))?;
    let rest = words[first + 1..].join(" ");
    match words[first] {
        "status" if e.kind() == ErrorKind::InvalidSubcommand => Some(
            crate::error::Error::usage("there is no `keyless status`")
                .hint(format!("keyless auth status {rest}").trim_end().to_string()),
        ),
        "exec" if !words.contains(&"--") && !rest.is_empty() => {
            let bad = match e.get(clap::error::ContextKind::InvalidArg)? {
                clap::error::ContextValue::String(s) => s.clone(),
                _ => return None,
            };
            let at = words.iter().skip(first + 1).position(|w| *w == bad)?;
            let cmd = shell_words::join(&words[first + 1 + at..]);
            Some(
                crate::error::Error::usage(format!(
                    "exec runs the command given after `--`: {cmd:?} came before it"
                ))
                .hint(format!("keyless exec -- {cmd}")),
            )
        }
        _ => None,
    }
}

/// The clap command, for help, man pages and completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
