//! The shape of the code, as a test (issue 9): the module graph has no
//! cycle, nothing below `commands/` imports it, only `env_vars.rs` spells a
//! variable's name, only `output.rs` prints, no file passes 450 lines and no
//! function 120, and each shared decision has one home. These read `src/` as
//! text; they run nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, with its path relative to `src/`.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&src_dir(), &src_dir(), &mut out);
    out.sort();
    out
}

/// The code of a file without its test modules (see [`without_test_items`]),
/// comment lines blanked (so line numbers still match the file).
fn code(text: &str) -> String {
    without_test_items(text)
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `cache/lock.rs` → `cache`; `lib.rs` and `main.rs` → None (the root).
fn top_module(rel: &str) -> Option<String> {
    let first = rel.split('/').next().unwrap();
    let m = first.trim_end_matches(".rs");
    (m != "lib" && m != "main").then(|| m.to_string())
}

/// Top-level module → the top-level modules it names as `crate::x`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in sources() {
        let Some(from) = top_module(&rel) else {
            continue;
        };
        let deps = g.entry(from.clone()).or_default();
        let code = code(&text);
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != from {
                deps.insert(name);
            }
        }
        // `use crate::{a, b::c}` groups name several at once.
        for (i, _) in code.match_indices("use crate::{") {
            let rest = &code[i + "use crate::{".len()..];
            let group = &rest[..rest.find(';').unwrap_or(rest.len())];
            for part in group.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != from {
                    deps.insert(name);
                }
            }
        }
    }
    g
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    // Depth-first search; a node met again while on the stack closes a cycle.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(c) = visit(n, &g, &mut Vec::new(), &mut done) {
            panic!("import cycle between top-level modules: {}", c.join(" → "));
        }
    }
    // The check sees the edges it must: the pipeline's stages in order.
    assert!(g["acquire"].contains("provider") && g["acquire"].contains("source"));
    assert!(g["source"].contains("session") && !g["session"].contains("source"));
}

#[test]
fn nothing_below_commands_imports_commands() {
    let offenders: Vec<String> = graph()
        .into_iter()
        .filter(|(m, deps)| m != "cli" && m != "commands" && deps.contains("commands"))
        .map(|(m, _)| m)
        .collect();
    assert!(
        offenders.is_empty(),
        "these modules import crate::commands: {offenders:?}"
    );
}

#[test]
fn only_env_vars_names_environment_variables() {
    let mut found = Vec::new();
    for (rel, text) in sources() {
        if rel == "env_vars.rs" {
            continue;
        }
        for (n, line) in code(&text).lines().enumerate() {
            let spelled = ["ANTHROPIC_", "OPENAI_", "KEYLESS_", "CLAUDE_", "CODEX_"]
                .iter()
                .any(|p| line.contains(&format!("\"{p}")));
            let literal_lookup = [
                "var(\"",
                "var_os(\"",
                "env(\"",
                "env_remove(\"",
                "get(\"HOME",
            ]
            .iter()
            .any(|p| line.contains(p));
            if spelled || literal_lookup {
                found.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "name these variables in src/env_vars.rs and use the constant:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_source_file_holds_several_things() {
    let long: Vec<String> = sources()
        .into_iter()
        .map(|(rel, text)| (rel, text.lines().count()))
        .filter(|(_, n)| *n > 450)
        .map(|(rel, n)| format!("src/{rel}: {n} lines"))
        .collect();
    assert!(long.is_empty(), "split by responsibility: {long:?}");
}

/// Issue 17: the three decisions that had drifted apart each have one home,
/// and no second definition grows elsewhere. Checked by the mechanics each
/// decision cannot be written without, spelled in code (comments and test
/// modules aside) outside its home:
///
/// - the renewal schedule and step ([`handoff/renewal.rs`]): a schedule is
///   a `Schedule {` value, a due point a `fn due_at…`, and the "ask the
///   cache with `min_ttl = MAX`, then force" step needs `min_ttl: i64::MAX`;
/// - the provider choice ([`provider/choice.rs`]): choosing means asking
///   `.is_configured(` of a provider;
/// - the child-environment policy ([`handoff/child_env.rs`]): removing a
///   variable from a child is `env_remove(` / `env_clear(`; the only other
///   places are `env_vars.rs`'s scrubbing of identity-source commands and
///   the browser (no token is handed to them) and `commands/demo/`, whose
///   child is a hermetic demo run.
#[test]
fn each_shared_decision_has_one_home() {
    let homes: [(&str, &[&str], &[&str]); 3] = [
        (
            "handoff/renewal.rs",
            &["min_ttl: i64::MAX", "Schedule {", "fn due_at"],
            &[],
        ),
        ("provider/choice.rs", &[".is_configured("], &[]),
        (
            "handoff/child_env.rs",
            &["env_remove(", "env_clear("],
            &["env_vars.rs", "commands/demo/"],
        ),
    ];
    let mut found = Vec::new();
    for (rel, text) in sources() {
        for (home, marks, allowed) in &homes {
            if rel == *home || allowed.iter().any(|a| rel.starts_with(a)) {
                continue;
            }
            for (n, line) in code(&text).lines().enumerate() {
                if marks.iter().any(|m| line.contains(m)) {
                    found.push(format!(
                        "src/{rel}:{}: {} (home: src/{home})",
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a second definition of a decision with one home:\n{}",
        found.join("\n")
    );
}

/// Issue 17: no function in `src/` is longer than 120 lines, so that each
/// does one thing a reader can hold (tests aside: `#[cfg(test)]` items, see
/// [`without_test_items`], and `*tests.rs` files).
///
/// How it counts: the source with comments, strings and char literals
/// blanked (newlines kept), every `fn name` item with a body, from the line
/// of `fn` to the line of the brace that closes its body. The body is the
/// first `{` after the name outside parentheses and brackets (a `;` there
/// first means a declaration without a body); nested functions count in
/// their own right and inside their parent.
#[test]
fn no_function_is_longer_than_120_lines() {
    let mut long = Vec::new();
    for (rel, text) in sources() {
        if rel.ends_with("tests.rs") {
            continue;
        }
        for (name, first, last) in
            functions(&blank_comments_and_strings(&without_test_items(&text)))
        {
            let n = last - first + 1;
            if n > 120 {
                long.push(format!("src/{rel}:{first}: fn {name} is {n} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these into one function per step or section:\n{}",
        long.join("\n")
    );
}

/// The text with each test-only item blanked (newlines kept): the item after
/// a `#[cfg(test)]` or `#[cfg(all(test, …))]` attribute, through the `;`
/// that ends it or the brace that closes its body. Only the item: code after
/// a test module still counts. Attributes are found in the code alone (not
/// in comments or strings).
fn without_test_items(text: &str) -> String {
    let code: Vec<char> = blank_comments_and_strings(text).chars().collect();
    let mut out: Vec<char> = text.chars().collect();
    let starts = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| code.get(i + k) == Some(&c))
    };
    let mut i = 0;
    while i < code.len() {
        if !(starts(i, "#[cfg(test)]") || starts(i, "#[cfg(all(test,")) {
            i += 1;
            continue;
        }
        // Past the attribute itself, then to the end of the item.
        let mut j = i + 1;
        let mut depth = 0i32;
        let mut braces = 0i32;
        let mut end = code.len();
        while j < code.len() {
            match code[j] {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '{' => braces += 1,
                '}' => {
                    braces -= 1;
                    if braces == 0 {
                        end = j + 1;
                        break;
                    }
                }
                ';' if depth == 0 && braces == 0 => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        for c in &mut out[i..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = end;
    }
    out.into_iter().collect()
}

/// The text with comments, string literals and char literals replaced by
/// spaces (newlines kept, so line numbers still match), so that braces and
/// `fn` inside them do not count.
fn blank_comments_and_strings(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, part: &[char]| {
        out.extend(part.iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < b.len() {
        let at = |k: usize| b.get(i + k).copied();
        let start = i;
        if at(0) == Some('/') && at(1) == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if at(0) == Some('/') && at(1) == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (at(0) == Some('r') || (at(0) == Some('b') && at(1) == Some('r')))
            && (start == 0 || !ident(b[start - 1]))
            && {
                let mut k = if at(0) == Some('b') { 2 } else { 1 };
                while at(k) == Some('#') {
                    k += 1;
                }
                at(k) == Some('"')
            }
        {
            // A raw string: r"…", r#"…"#, br"…".
            i += if at(0) == Some('b') { 2 } else { 1 };
            let mut hashes = 0;
            while b[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            loop {
                if i >= b.len() {
                    break;
                }
                if b[i] == '"' && (1..=hashes).all(|h| b.get(i + h) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if at(0) == Some('"') {
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if at(0) == Some('\'') && at(1) == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{..}'.
            i += 3;
            while i < b.len() && b[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if at(0) == Some('\'') && at(2) == Some('\'') {
            i += 3;
        } else {
            // Code, or a lifetime's quote.
            out.push(b[i]);
            i += 1;
            continue;
        }
        blank(&mut out, &b[start..i.min(b.len())]);
    }
    out
}

/// `(name, first line, last line)` of every `fn` with a body, 1-based.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let b: Vec<char> = code.chars().collect();
    let line_at = |i: usize| b[..i].iter().filter(|&&c| c == '\n').count() + 1;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for i in 0..b.len() {
        let keyword = b[i] == 'f'
            && b.get(i + 1) == Some(&'n')
            && b.get(i + 2).is_some_and(|c| c.is_whitespace())
            && (i == 0 || !ident(b[i - 1]));
        if !keyword {
            continue;
        }
        let mut j = i + 2;
        while j < b.len() && b[j].is_whitespace() {
            j += 1;
        }
        let name: String = b[j..].iter().take_while(|&&c| ident(c)).collect();
        if name.is_empty() {
            continue;
        }
        // The body's opening brace, outside the parameters and types.
        let mut depth = 0i32;
        let mut open = None;
        while j < b.len() {
            match b[j] {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '{' if depth == 0 => {
                    open = Some(j);
                    break;
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        let Some(open) = open else {
            continue;
        };
        let mut braces = 0;
        let mut close = b.len() - 1;
        for (k, &c) in b.iter().enumerate().skip(open) {
            match c {
                '{' => braces += 1,
                '}' => {
                    braces -= 1;
                    if braces == 0 {
                        close = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((name, line_at(i), line_at(close)));
    }
    out
}

/// The counting itself, on a text whose answer is known.
#[test]
fn function_lengths_are_counted_from_fn_to_its_closing_brace() {
    let text = "fn a(x: [u8; 2]) -> u8 {\n    let s = \"}\"; // }\n    '}';\n    x[0]\n}\n\
                trait T { fn decl(&self); }\n\
                fn b<'a>(s: &'a str) -> &'a str {\n    /* { */ r#\"{\"# ;\n    fn inner() {}\n    s\n}\n";
    let found = functions(&blank_comments_and_strings(text));
    let got: Vec<(&str, usize, usize)> =
        found.iter().map(|(n, a, b)| (n.as_str(), *a, *b)).collect();
    assert_eq!(got, [("a", 1, 5), ("b", 7, 11), ("inner", 9, 9)]);
}

/// Only the test items are left out: a function after a test module still
/// counts, one inside it (or under `cfg(all(test, …))`) does not, and an
/// attribute spelled in a comment or string changes nothing.
#[test]
fn code_after_a_test_module_still_counts() {
    let text = "fn before() {}\n\
                #[cfg(test)]\n\
                mod tests {\n    fn in_tests() { let s = \"}\"; }\n}\n\
                // #[cfg(test)]\n\
                fn after() {\n    let _ = \"#[cfg(test)]\";\n}\n\
                #[cfg(all(test, unix))]\n\
                #[path = \"x.rs\"]\n\
                mod unix_tests;\n\
                #[cfg(test)]\n\
                fn test_only() {}\n\
                fn last() {}\n";
    let found = functions(&blank_comments_and_strings(&without_test_items(text)));
    let got: Vec<(&str, usize, usize)> =
        found.iter().map(|(n, a, b)| (n.as_str(), *a, *b)).collect();
    assert_eq!(got, [("before", 1, 1), ("after", 7, 9), ("last", 15, 15)]);
    assert_eq!(
        without_test_items(text).lines().count(),
        text.lines().count()
    );
}
