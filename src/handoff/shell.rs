//! Shell syntax for `keyless env`: every value is quoted so that nothing in it
//! (quotes, `$()`, backticks, newlines) can end the quoting.

use super::Assignment;
use crate::error::{Error, Result};

/// The syntaxes `keyless env --shell` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
    Powershell,
    /// Windows' cmd.exe: `set "NAME=value"`
    Cmd,
    Dotenv,
    Json,
    /// Appended to `$GITHUB_ENV`, for a GitHub Actions job's later steps.
    Github,
}

/// The syntax for the user's shell: from `$SHELL`'s basename when set (Git
/// Bash, MSYS and Cygwin set it on Windows too), else PowerShell on Windows
/// and bash elsewhere.
pub fn from_env() -> ShellKind {
    by_name(
        std::env::var(crate::env_vars::SHELL).ok().as_deref(),
        cfg!(windows),
    )
}

fn by_name(shell: Option<&str>, windows: bool) -> ShellKind {
    let name = shell.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    match name.strip_suffix(".exe").unwrap_or(name) {
        "zsh" => ShellKind::Zsh,
        "fish" => ShellKind::Fish,
        "pwsh" | "powershell" => ShellKind::Powershell,
        "cmd" => ShellKind::Cmd,
        "" if windows => ShellKind::Powershell,
        _ => ShellKind::Bash,
    }
}

/// cmd.exe's `set "NAME=value"`: inside the quotes `&|<>^` are plain, but
/// `%` (and `!` under delayed expansion) expand and nothing can escape them
/// on a command line, `"` ends the quoting early, and a line break ends the
/// command: a value with any of them is refused, never written half-safe.
pub fn cmd_set(name: &str, v: &str) -> Result<String> {
    if v.chars()
        .any(|c| matches!(c, '%' | '!' | '"') || c.is_control())
    {
        return Err(Error::failure(format!(
            "the value of {name} cannot be written safely in cmd syntax"
        ))
        .hint("use --shell powershell or --shell json"));
    }
    Ok(format!("set \"{name}={v}\""))
}

/// POSIX single quotes: nothing is special inside; `'` becomes `'\''`.
pub fn posix_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r#"'\''"#))
}

/// fish single quotes: only `\` and `'` are special, both escaped with `\`.
pub fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell verbatim strings: every kind of single quote PowerShell accepts
/// (', ‘, ’, ‚, ‛) is doubled.
pub fn powershell_quote(v: &str) -> String {
    let mut s = String::from("'");
    for c in v.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            s.push(c);
        }
        s.push(c);
    }
    s.push('\'');
    s
}

pub fn render(kind: ShellKind, assignments: &[Assignment]) -> Result<String> {
    let mut out = String::new();
    if kind == ShellKind::Json {
        let mut set = serde_json::Map::new();
        let mut unset = Vec::new();
        for a in assignments {
            match a {
                Assignment::Set(n, v) => {
                    set.insert(n.to_string(), serde_json::Value::String(v.expose().clone()));
                }
                Assignment::Unset(n) => unset.push(serde_json::Value::String(n.to_string())),
            }
        }
        let v = serde_json::json!({"set": set, "unset": unset});
        return Ok(format!("{v}\n"));
    }
    for a in assignments {
        let line = match (kind, a) {
            (ShellKind::Bash | ShellKind::Zsh, Assignment::Set(n, v)) => {
                format!("export {n}={}", posix_quote(v.expose()))
            }
            (ShellKind::Bash | ShellKind::Zsh, Assignment::Unset(n)) => format!("unset {n}"),
            (ShellKind::Fish, Assignment::Set(n, v)) => {
                format!("set -gx {n} {}", fish_quote(v.expose()))
            }
            // `set -e` fails when the variable is absent; the output must not.
            (ShellKind::Fish, Assignment::Unset(n)) => format!("set -e {n} 2>/dev/null; or true"),
            (ShellKind::Powershell, Assignment::Set(n, v)) => {
                format!("$env:{n} = {}", powershell_quote(v.expose()))
            }
            (ShellKind::Powershell, Assignment::Unset(n)) => {
                format!("Remove-Item -Path Env:{n} -ErrorAction SilentlyContinue")
            }
            (ShellKind::Cmd, Assignment::Set(n, v)) => cmd_set(n, v.expose())?,
            // `set "NAME="` removes the variable, and succeeds when it is absent.
            (ShellKind::Cmd, Assignment::Unset(n)) => format!("set \"{n}=\""),
            (ShellKind::Dotenv, Assignment::Set(n, v)) => {
                let v = v.expose();
                if v.contains(['\'', '\n', '\r']) {
                    return Err(Error::failure(format!(
                        "the value of {n} cannot be written safely in .env syntax"
                    ))
                    .hint("use --shell json"));
                }
                format!("{n}='{v}'")
            }
            // .env files cannot unset; the caller has said so on stderr.
            (ShellKind::Dotenv | ShellKind::Github, Assignment::Unset(_)) => continue,
            (ShellKind::Github, Assignment::Set(n, v)) => github_block(n, v.expose()),
            (ShellKind::Json, _) => unreachable!(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// One `$GITHUB_ENV` entry in the runner's multiline syntax, with a
/// random delimiter that the value cannot contain (as the toolkit's
/// `exportVariable` writes it): no value can end the block early and set
/// another variable.
fn github_block(name: &str, value: &str) -> String {
    loop {
        let mut b = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
        let tag = u128::from_be_bytes(b);
        let delim = format!("ghadelimiter_{tag:032x}");
        if !value.contains(&delim) && !name.contains(&delim) {
            return format!("{name}<<{delim}\n{value}\n{delim}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_cannot_be_escaped() {
        let nasty = "a'b\"c$(id)`id`\\\nd ‘e’";
        assert_eq!(posix_quote("x'y"), r#"'x'\''y'"#);
        assert_eq!(fish_quote(r"x'\y"), r"'x\'\\y'");
        assert_eq!(powershell_quote("x'y’z"), "'x''y’’z'");
        // every quote produced ends exactly where it began
        assert!(posix_quote(nasty).starts_with('\''));
    }

    #[test]
    fn the_default_shell_is_powershell_on_windows_and_bash_elsewhere() {
        assert_eq!(by_name(None, true), ShellKind::Powershell);
        assert_eq!(by_name(None, false), ShellKind::Bash);
        assert_eq!(by_name(Some("/usr/bin/bash"), true), ShellKind::Bash);
        assert_eq!(
            by_name(Some(r"C:\Program Files\PowerShell\7\pwsh.exe"), false),
            ShellKind::Powershell
        );
        assert_eq!(
            by_name(Some(r"C:\Windows\System32\cmd.exe"), true),
            ShellKind::Cmd
        );
        assert_eq!(by_name(Some("/bin/zsh"), true), ShellKind::Zsh);
    }

    #[test]
    fn cmd_syntax_refuses_what_cmd_would_expand_or_split() {
        use crate::secret::Secret;
        let a = [
            Assignment::Set("X", Secret::new("sk-ant-oat01-a_b.c&d|e<f>g^h".to_string())),
            Assignment::Unset("Y"),
        ];
        assert_eq!(
            render(ShellKind::Cmd, &a).unwrap(),
            "set \"X=sk-ant-oat01-a_b.c&d|e<f>g^h\"\nset \"Y=\"\n"
        );
        for v in ["a%PATH%b", "a!b", "a\"b", "a\nb", "a\rb", "a\u{1b}b"] {
            let a = [Assignment::Set("X", Secret::new(v.to_string()))];
            let e = render(ShellKind::Cmd, &a).unwrap_err();
            assert!(
                e.message.contains("cannot be written safely in cmd"),
                "{v:?}"
            );
        }
    }

    #[test]
    fn dotenv_refuses_what_it_cannot_quote() {
        use crate::secret::Secret;
        for v in ["a'b", "a\nb", "a\rb"] {
            let a = [Assignment::Set("X", Secret::new(v.to_string()))];
            let e = render(ShellKind::Dotenv, &a).unwrap_err();
            assert!(e.message.contains("cannot be written safely"), "{v:?}");
        }
        let a = [Assignment::Set("X", Secret::new("a$b`c".to_string()))];
        assert_eq!(render(ShellKind::Dotenv, &a).unwrap(), "X='a$b`c'\n");
    }
}
