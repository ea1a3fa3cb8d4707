//! The README a newcomer reads (issue 23): every relative link in it and in
//! `docs/` resolves, to a file and to a heading that exists, and every
//! `keyless …` command of its first screen works as written, against the
//! sandbox in place of the real APIs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::*;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// GitHub's anchor for a heading: lower case, punctuation but `-` and `_`
/// dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown file's headings (code blocks skipped).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// `(target)` of every `[text](target)` outside code.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    for e in std::fs::read_dir(repo().join("docs")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "md") {
            files.push(e.path());
        }
    }
    files
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let mut broken = Vec::new();
    let files = markdown_files();
    assert!(files.len() > 4, "README.md and docs/*.md: {files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", file.display()));
                continue;
            }
            if !anchor.is_empty() {
                let t = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&t).contains(anchor) {
                    broken.push(format!("{}: {link}: no such heading", file.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README's first screen: everything before its table of contents.
fn first_screen() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let end = readme.find("\n## ").expect("a second-level heading");
    let screen = readme[..end].to_string();
    assert!(
        screen.lines().count() <= 45,
        "the first screen is {} lines",
        screen.lines().count()
    );
    screen
}

/// The shell command lines of a markdown text (continuations joined, the
/// `# comment` cut).
fn command_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            continue;
        }
        let code = line.split(" #").next().unwrap().trim_end();
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(code);
        out.push(std::mem::take(&mut pending).trim().to_string());
    }
    out
}

#[test]
fn the_first_screen_says_what_how_to_install_and_the_first_commands() {
    let screen = first_screen();
    let cmds = command_lines(&screen);
    assert!(
        cmds.iter().any(|c| c.starts_with("./install.sh")),
        "{cmds:?}"
    );
    assert!(repo().join("install.sh").is_file());
    let keyless: Vec<_> = cmds.iter().filter(|c| c.starts_with("keyless ")).collect();
    assert!(keyless.len() >= 4, "{keyless:?}");
    for c in &keyless {
        assert!(
            [
                "keyless demo",
                "keyless setup anthropic ",
                "keyless auth status --check",
                "keyless exec -- python app.py",
            ]
            .iter()
            .any(|known| c.starts_with(known)),
            "a first-screen command this test does not run yet: {c}"
        );
    }
}

#[test]
fn every_keyless_command_of_the_first_screen_works() {
    let screen = first_screen();
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let jwt = env.path("identity.jwt");
    std::fs::write(&jwt, sb.mint_jwt(&[])).unwrap();
    let app = env.path("app.py");
    std::fs::write(&app, "").unwrap();
    for line in command_lines(&screen) {
        let Some(rest) = line.strip_prefix("keyless ") else {
            continue;
        };
        // The README's placeholders, filled with the sandbox's values; the
        // sandbox stands in for the real API host.
        let filled = rest
            .replace("fdrl_…", RULE)
            .replace("ORG-UUID", ORG)
            .replace("svac_…", SA)
            .replace("/path/to/identity.jwt", &jwt.display().to_string());
        let mut args = shell_words::split(&filled).unwrap();
        if args[0] == "setup" {
            args.extend(["--base-url".into(), sb.url.clone()]);
        }
        if args.first().map(String::as_str) == Some("exec") {
            // `python app.py`, with a stand-in for Python that shows what the
            // program got: a minted token, no static key.
            let n = args.len();
            args.splice(
                n - 2..,
                [
                    "sh".to_string(),
                    "-c".into(),
                    "case $ANTHROPIC_AUTH_TOKEN in sk-ant-oat01-*) echo ok;; *) exit 9;; esac"
                        .into(),
                ],
            );
        }
        let r = env.run_with(&args.iter().map(String::as_str).collect::<Vec<_>>(), |c| {
            c.current_dir(env.root.path());
        });
        assert!(
            r.code == 0,
            "`keyless {rest}` failed ({}): {}",
            r.code,
            r.stderr
        );
    }
}
