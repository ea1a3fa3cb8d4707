//! The command line of a cache hit, read without clap (issue 12).
//!
//! `keyless credential anthropic` runs on every request of an IDE plugin or
//! `apiKeyHelper`, and building clap's whole command tree costs more than
//! the hit itself. [`credential`] recognises exactly `credential <provider>`
//! with the flags it takes today and the global flags, and builds the same
//! [`Cli`] clap would; anything else, including a flag it does not know
//! (one added later, `--help`, a repeated or conflicting flag, a value that
//! needs checking), gives `None`, and the caller asks clap, which has the
//! last word and the error messages. A unit test holds the two to the same
//! result.
//!
//! [`one_subcommand`] does the same for `exec` and `env`, which run as
//! often, with clap but only their own subcommand's tree: their flags stay
//! clap's (a flag added later works at once), and anything clap refuses
//! there, `--help` included, goes to the full parse.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cli::{Cli, Command};
use crate::commands::credential::{CredentialArgs, TokenFormat};
use crate::commands::env::EnvArgs;
use crate::commands::exec::ExecArgs;
use crate::env_vars;
use crate::provider::Provider;
use crate::settings::{DEFAULT_MIN_TTL_SECS, FreshnessArgs, GlobalArgs, MAX_LIFETIME_SECS};

/// What the flags of a command line set, each at most once.
#[derive(Default)]
struct Seen {
    config_dir: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    profile: Option<String>,
    verbose: u8,
    /// `-v` before `credential`, and after: clap keeps only the latter's
    /// count, so a line with both is left to clap.
    verbose_levels: [bool; 2],
    quiet: bool,
    credential: bool,
    provider: Option<Provider>,
    format: Option<TokenFormat>,
    min_ttl: Option<u32>,
    helper_ttl: Option<u32>,
    force_refresh: bool,
    no_login: bool,
}

impl Seen {
    fn count_verbose(&mut self, n: usize) -> Option<()> {
        self.verbose_levels[usize::from(self.credential)] = true;
        self.verbose = self.verbose.checked_add(u8::try_from(n).ok()?)?;
        Some(())
    }
}

/// `args` (the binary's name first) as clap would parse them, when they are
/// a plain `credential <provider>` line; `env` reads the variables clap
/// would read for flags not given.
pub fn credential(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Option<Cli> {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.into_string().ok())
        .collect::<Option<_>>()?;
    let mut s = Seen::default();
    let mut it = args.iter().map(String::as_str);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (arg, None),
        };
        let mut value = || match inline {
            Some(v) => plain(v),
            None => it.next().and_then(plain),
        };
        match flag {
            "--config-dir" if s.config_dir.is_none() => s.config_dir = Some(value()?.into()),
            "--cache-dir" if s.cache_dir.is_none() => s.cache_dir = Some(value()?.into()),
            "--profile" if s.profile.is_none() => s.profile = Some(value()?.to_string()),
            "--format" if s.credential && s.format.is_none() => {
                s.format = Some(match value()? {
                    "token" => TokenFormat::Token,
                    "json" => TokenFormat::Json,
                    _ => return None,
                })
            }
            "--min-ttl" if s.credential && s.min_ttl.is_none() => s.min_ttl = Some(ttl(value()?)?),
            // The line `setup claude-code` and `setup codex` write; its range is clap's.
            "--helper-ttl" if s.credential && s.helper_ttl.is_none() => {
                s.helper_ttl = Some(ttl(value()?).filter(|t| *t >= 1)?)
            }
            _ if inline.is_some() => return None,
            "--verbose" => s.count_verbose(1)?,
            "-q" | "--quiet" if !s.quiet => s.quiet = true,
            "--force-refresh" if s.credential && !s.force_refresh => s.force_refresh = true,
            "--no-login" if s.credential && !s.no_login => s.no_login = true,
            "credential" if !s.credential => s.credential = true,
            "anthropic" if s.credential && s.provider.is_none() => {
                s.provider = Some(Provider::Anthropic)
            }
            "openai" if s.credential && s.provider.is_none() => s.provider = Some(Provider::Openai),
            v if v.len() > 1 && v.starts_with('-') && v[1..].bytes().all(|b| b == b'v') => {
                s.count_verbose(v.len() - 1)?
            }
            _ => return None,
        }
    }
    if s.quiet && s.verbose > 0 || s.verbose_levels == [true, true] {
        return None;
    }
    let dir = |given: Option<PathBuf>, var: &str| match given {
        Some(d) => Some(Some(d)),
        None => env(var)
            .map(|d| (!d.is_empty()).then(|| PathBuf::from(d)))
            .map_or(Some(None), |d| d.map(Some)),
    };
    let config_dir = dir(s.config_dir, env_vars::KEYLESS_CONFIG_DIR)?;
    let cache_dir = dir(s.cache_dir, env_vars::KEYLESS_CACHE_DIR)?;
    // KEYLESS_PROFILE, the per-directory file and the active profile are
    // `Settings::resolve`'s to weigh, as after clap's parse.
    let profile = s.profile;
    let min_ttl = match s.min_ttl {
        Some(t) => t,
        None => match env(env_vars::KEYLESS_MIN_TTL) {
            Some(t) => ttl(t.to_str()?)?,
            None => DEFAULT_MIN_TTL_SECS,
        },
    };
    Some(Cli {
        global: GlobalArgs {
            config_dir,
            cache_dir,
            profile,
            verbose: s.verbose,
            quiet: s.quiet,
        },
        command: Command::Credential(CredentialArgs {
            provider: s.provider?,
            format: s.format.unwrap_or(TokenFormat::Token),
            helper_ttl: s.helper_ttl,
            rejected: false,
            freshness: FreshnessArgs {
                min_ttl,
                force_refresh: s.force_refresh,
                no_login: s.no_login,
            },
        }),
    })
}

/// `args` (the binary's name first) as clap would parse them, when they
/// name `exec` or `env`, parsed by a command that has only that subcommand.
pub fn one_subcommand(args: &[OsString]) -> Option<Cli> {
    use clap::{Args, FromArgMatches};
    let sub = match subcommand_name(args)? {
        "exec" => ExecArgs::augment_args(clap::Command::new("exec")),
        "env" => EnvArgs::augment_args(clap::Command::new("env")),
        _ => return None,
    };
    let cmd = GlobalArgs::augment_args(clap::Command::new("keyless"))
        .subcommand(sub)
        .subcommand_required(true);
    let matches = cmd.try_get_matches_from(args).ok()?;
    Cli::from_arg_matches(&matches).ok()
}

/// The first argument that is neither a flag nor a global flag's value. A
/// guess: if it is wrong, clap refuses the line and the full parse runs.
fn subcommand_name(args: &[OsString]) -> Option<&str> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_str()?;
        match a {
            "--profile" | "--config-dir" | "--cache-dir" => {
                it.next();
            }
            _ if a.starts_with('-') => {}
            _ => return Some(a),
        }
    }
    None
}

/// A value clap takes as it is: not empty and not flag-like.
fn plain(v: &str) -> Option<&str> {
    (!v.is_empty() && !v.starts_with('-')).then_some(v)
}

/// `--min-ttl`: digits only, within clap's range.
fn ttl(v: &str) -> Option<u32> {
    let t: u32 = v
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| v.parse().ok())??;
    (i64::from(t) <= MAX_LIFETIME_SECS).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn argv(line: &str) -> Vec<OsString> {
        std::iter::once("keyless")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect()
    }

    /// The fast parse, which must be clap's parse whenever it answers.
    fn fast(line: &str, env: &[(&str, &str)]) -> Option<String> {
        let got = credential(argv(line), |n| {
            env.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| OsString::from(v))
        })?;
        Some(format!("{got:?}"))
    }

    fn clap_env_is_clear() -> bool {
        [
            env_vars::KEYLESS_CONFIG_DIR,
            env_vars::KEYLESS_CACHE_DIR,
            env_vars::KEYLESS_PROFILE,
            env_vars::KEYLESS_MIN_TTL,
        ]
        .iter()
        .all(|v| std::env::var_os(v).is_none())
    }

    #[test]
    fn recognised_lines_parse_as_clap_parses_them() {
        if !clap_env_is_clear() {
            return; // clap would read this process's variables
        }
        for line in [
            "credential anthropic",
            "credential openai",
            "-q credential anthropic",
            "credential anthropic --quiet",
            "-v credential anthropic",
            "credential anthropic -vv",
            "--verbose --verbose credential openai",
            "--profile work credential anthropic",
            "credential --profile=work anthropic",
            "--config-dir /tmp/x credential anthropic --format json",
            "--config-dir=/tmp/x credential anthropic --format=token",
            "credential anthropic --min-ttl 0 --no-login --force-refresh",
            "credential anthropic --min-ttl=86400",
            "credential --format json openai --profile p",
            "--cache-dir /tmp/c credential anthropic",
            "--config-dir /c --cache-dir /k --profile p credential anthropic --helper-ttl 240",
            "credential openai --helper-ttl=1 --cache-dir=/k",
        ] {
            let want = format!("{:?}", Cli::try_parse_from(argv(line)).unwrap());
            assert_eq!(fast(line, &[]), Some(want), "{line}");
        }
    }

    #[test]
    fn anything_else_is_left_to_clap() {
        for line in [
            "",
            "credential",
            "anthropic credential",
            "credential anthropic openai",
            "credential anthropic extra",
            "credential Anthropic",
            "credential anthropic --help",
            "credential anthropic -h",
            "--version",
            "--format json credential anthropic",
            "--min-ttl 5 credential anthropic",
            "credential anthropic --min-ttl 86401",
            "credential anthropic --min-ttl +5",
            "credential anthropic --min-ttl",
            "credential anthropic --format yaml",
            "credential anthropic --format",
            "credential anthropic --profile",
            "credential anthropic --profile -q",
            "credential anthropic --profile=",
            "credential anthropic --profile a --profile b",
            "credential anthropic -q -q",
            "credential anthropic -q -v",
            "credential anthropic -qv",
            "-v credential anthropic -v",
            "credential anthropic --force-refresh --force-refresh",
            "credential anthropic --quiet=true",
            "credential anthropic --a-flag-added-later",
            "credential anthropic --a-flag-added-later=1",
            "credential anthropic -- x",
            "credential anthropic --rejected",
            "credential anthropic --helper-ttl 0",
            "credential anthropic --helper-ttl 86401",
            "credential anthropic --helper-ttl 5 --helper-ttl 5",
            "--cache-dir a --cache-dir b credential anthropic",
            "env",
            "exec -- true",
        ] {
            assert_eq!(fast(line, &[]), None, "{line}");
        }
    }

    #[test]
    fn exec_and_env_parse_as_clap_parses_them() {
        if !clap_env_is_clear() {
            return;
        }
        for line in [
            "exec -- true",
            "-q exec --type anthropic -- sh -c x",
            "--profile exec exec --keep-api-key --min-ttl 5 -- env",
            "--config-dir=/x exec --refresh --no-login -- prog --flag",
            "env",
            "env --type openai -v",
            "--profile env env",
        ] {
            let want = format!("{:?}", Cli::try_parse_from(argv(line)).unwrap());
            let got = one_subcommand(&argv(line)).map(|c| format!("{c:?}"));
            assert_eq!(got, Some(want), "{line}");
        }
        for line in [
            "exec",
            "exec --help",
            "env --help",
            "--version",
            "exec --bogus -- true",
            "--profile exec",
            "credential anthropic",
            "setup anthropic",
            "env exec",
        ] {
            assert!(one_subcommand(&argv(line)).is_none(), "{line}");
        }
    }

    #[test]
    fn variables_fill_what_the_line_leaves_out() {
        let env = [
            (env_vars::KEYLESS_CONFIG_DIR, "/etc/k"),
            (env_vars::KEYLESS_PROFILE, "ci"),
            (env_vars::KEYLESS_MIN_TTL, "60"),
        ];
        let got = fast("credential anthropic", &env).unwrap();
        // The profile is Settings::resolve's to choose (variable, directory
        // file, active profile), as after clap's parse.
        assert!(
            got.contains("\"/etc/k\"")
                && got.contains("profile: None")
                && got.contains("min_ttl: 60"),
            "{got}"
        );
        let got = fast("credential anthropic --profile p --min-ttl 5", &env).unwrap();
        assert!(got.contains("\"p\"") && got.contains("min_ttl: 5"), "{got}");
        for bad in [
            (env_vars::KEYLESS_CONFIG_DIR, ""),
            (env_vars::KEYLESS_MIN_TTL, "x"),
            (env_vars::KEYLESS_MIN_TTL, "90000"),
        ] {
            assert_eq!(fast("credential anthropic", &[bad]), None, "{bad:?}");
        }
    }
}
