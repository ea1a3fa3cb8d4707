//! A command line as one string (`--identity command:PROGRAM ARGS…`), split
//! into words and joined back by the platform's own rules, never run by a
//! shell: POSIX shell words on Unix; on Windows the rules of
//! `CommandLineToArgvW` and the C runtime, where a backslash is a path
//! separator (`C:\tools\token.exe`) and only `"` quotes.
//!
//! Both rule sets are compiled everywhere, so that each is tested on every
//! platform; [`split`], [`join`] and [`quote`] pick the native one.

/// What the platform's quoting looks like, for hints.
#[cfg(not(windows))]
pub const QUOTING_HINT: &str = "quote arguments with spaces as a POSIX shell would: 'a b'";
#[cfg(windows)]
pub const QUOTING_HINT: &str =
    "quote arguments with spaces in double quotes, as Windows does: \"C:\\Program Files\\a.exe\"";

/// The words of `line`, split by the platform's rules.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    #[cfg(not(windows))]
    return posix::split(line);
    #[cfg(windows)]
    return Ok(windows::split(line));
}

/// `words` as one line that [`split`] turns back into them.
pub fn join<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> String {
    words
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            #[cfg(not(windows))]
            let _ = i;
            #[cfg(windows)]
            if i == 0 {
                return windows::quote_program(w.as_ref());
            }
            quote(w.as_ref())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One word (an argument, not the program on Windows), quoted when needed.
pub fn quote(word: &str) -> String {
    #[cfg(not(windows))]
    return posix::quote(word);
    #[cfg(windows)]
    return windows::quote(word);
}

/// POSIX shell words (`shell_words`): `'…'`, `"…"` and `\` quote.
pub mod posix {
    pub fn split(line: &str) -> Result<Vec<String>, String> {
        shell_words::split(line).map_err(|e| e.to_string())
    }
    pub fn quote(word: &str) -> String {
        shell_words::quote(word).into_owned()
    }
}

/// Windows' rules, as the Rust standard library parses a process's command
/// line (the C runtime's since 2008, which `CommandLineToArgvW` shares for
/// the arguments).
pub mod windows {
    /// The program is special: quoted up to the next `"`, else up to the
    /// first blank, with no escapes at all (backslashes are literal).
    /// The arguments: blanks separate unless quoted; `"` toggles quoting;
    /// backslashes are literal unless they precede a `"`, when each pair
    /// makes one backslash and an odd one out makes the `"` literal; inside
    /// quotes `""` is a literal `"`.
    pub fn split(line: &str) -> Vec<String> {
        let blank = |c: char| c == ' ' || c == '\t';
        let line = line.trim_start_matches(blank);
        let mut words = Vec::new();
        if line.is_empty() {
            return words;
        }
        let rest = if let Some(quoted) = line.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            words.push(quoted[..end].to_string());
            quoted.get(end + 1..).unwrap_or("")
        } else {
            let end = line.find(blank).unwrap_or(line.len());
            words.push(line[..end].to_string());
            &line[end..]
        };
        let mut chars = rest.chars().peekable();
        let mut cur = String::new();
        let mut in_word = false;
        let mut in_quotes = false;
        let mut backslashes = 0usize;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    backslashes += 1;
                    in_word = true;
                    continue;
                }
                '"' => {
                    cur.extend(std::iter::repeat_n('\\', backslashes / 2));
                    in_word = true;
                    if backslashes % 2 == 1 {
                        cur.push('"');
                    } else if in_quotes && chars.peek() == Some(&'"') {
                        chars.next();
                        cur.push('"');
                    } else {
                        in_quotes = !in_quotes;
                    }
                }
                c if blank(c) && !in_quotes => {
                    cur.extend(std::iter::repeat_n('\\', backslashes));
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                    }
                    in_word = false;
                }
                c => {
                    cur.extend(std::iter::repeat_n('\\', backslashes));
                    cur.push(c);
                    in_word = true;
                }
            }
            backslashes = 0;
        }
        cur.extend(std::iter::repeat_n('\\', backslashes));
        if in_word {
            words.push(cur);
        }
        words
    }

    /// The program: in quotes when it holds a blank or is empty. (A Windows
    /// file name cannot hold `"`.)
    pub fn quote_program(program: &str) -> String {
        if program.is_empty() || program.contains([' ', '\t']) {
            format!("\"{program}\"")
        } else {
            program.to_string()
        }
    }

    /// An argument, quoted and escaped as the standard library does when it
    /// builds a child's command line.
    pub fn quote(word: &str) -> String {
        if !word.is_empty() && !word.contains([' ', '\t', '"']) {
            return word.to_string();
        }
        let mut out = String::from("\"");
        let mut backslashes = 0usize;
        for c in word.chars() {
            match c {
                '\\' => backslashes += 1,
                '"' => {
                    out.extend(std::iter::repeat_n('\\', 2 * backslashes + 1));
                    backslashes = 0;
                }
                _ => {
                    out.extend(std::iter::repeat_n('\\', backslashes));
                    backslashes = 0;
                }
            }
            if c != '\\' {
                out.push(c);
            }
        }
        out.extend(std::iter::repeat_n('\\', 2 * backslashes));
        out.push('"');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::windows;

    fn w(line: &str) -> Vec<String> {
        windows::split(line)
    }

    #[test]
    fn windows_paths_keep_their_backslashes() {
        assert_eq!(w(r"C:\x"), [r"C:\x"]);
        assert_eq!(
            w(r"C:\tools\token.exe --dir C:\a\b\ last"),
            [r"C:\tools\token.exe", "--dir", r"C:\a\b\", "last"]
        );
        assert_eq!(
            w(r#""C:\Program Files\t.exe" "a b" c"#),
            [r"C:\Program Files\t.exe", "a b", "c"]
        );
        // The program's backslashes are literal even before a quote.
        assert_eq!(w(r#""C:\dir\"x"#), [r"C:\dir\", "x"]);
    }

    #[test]
    fn windows_argument_rules() {
        assert_eq!(w("p"), ["p"]);
        assert_eq!(w("  p  "), ["p"]);
        assert_eq!(w(""), Vec::<String>::new());
        assert_eq!(w(r#"p a"b c"d e"#), ["p", "ab cd", "e"]);
        assert_eq!(w(r#"p \"a\""#), ["p", r#""a""#]);
        assert_eq!(w(r#"p \\"a b" c"#), ["p", r"\a b", "c"]);
        assert_eq!(w(r#"p \\\"a"#), ["p", r#"\"a"#]);
        assert_eq!(w(r#"p a\\b"#), ["p", r"a\\b"]);
        assert_eq!(w(r#"p "" x"#), ["p", "", "x"]);
        assert_eq!(w(r#"p "a""b""#), ["p", r#"a"b"#]);
        assert_eq!(w("p\t'a b'"), ["p", "'a", "b'"]);
        assert_eq!(w(r#"p "unterminated x"#), ["p", "unterminated x"]);
    }

    #[test]
    fn windows_quoting_round_trips() {
        let cases: &[&[&str]] = &[
            &[
                r"C:\Program Files\t.exe",
                "",
                "a b",
                r"C:\dir\",
                r#"say "hi""#,
            ],
            &[r"C:\x", r"\\server\share\", r#"\""#, "\t", r"a\\"],
            &["p", "--audiences=a b", "=", "&|<>^%"],
        ];
        for argv in cases {
            let line = argv
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if i == 0 {
                        windows::quote_program(a)
                    } else {
                        windows::quote(a)
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(w(&line), *argv, "{line}");
        }
        assert_eq!(windows::quote(r"C:\x"), r"C:\x", "quoted only when needed");
    }

    #[test]
    fn native_join_inverts_native_split() {
        let argv = ["prog", "a b", "", "c"];
        assert_eq!(super::split(&super::join(argv)).unwrap(), argv);
    }

    #[test]
    fn posix_rules_quote_with_single_quotes() {
        assert_eq!(
            super::posix::split("a 'b c' \"d\\\"e\"").unwrap(),
            ["a", "b c", "d\"e"]
        );
        assert!(super::posix::split("a 'b").is_err());
    }
}
