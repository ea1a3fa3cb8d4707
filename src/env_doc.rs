//! The documentation of every environment variable, read from the doc
//! comments in `env_vars.rs` itself, so the list in `docs/environment.md`
//! and in the man page's ENVIRONMENT section cannot drift from the code.

/// One group of variables (a `// --- … ---` heading in `env_vars.rs`).
pub struct Group {
    pub title: String,
    /// (variable name, what it does; empty when the heading says it all)
    pub vars: Vec<(String, String)>,
}

/// Every variable keyless reads or writes, grouped as `env_vars.rs` is.
pub fn groups() -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut doc = String::new();
    let mut heading_open = false;
    for line in include_str!("env_vars.rs").lines() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix("// ---") {
            let h = h.trim().trim_end_matches("---").trim();
            if heading_open {
                let g = groups.last_mut().expect("a heading is open");
                g.title.push(' ');
                g.title.push_str(h);
            } else {
                groups.push(Group {
                    title: h.to_string(),
                    vars: Vec::new(),
                });
            }
            heading_open = !t.ends_with("---");
            doc.clear();
        } else if let Some(d) = t.strip_prefix("///") {
            heading_open = false;
            if !doc.is_empty() {
                doc.push(' ');
            }
            doc.push_str(d.trim());
        } else if let Some(rest) = t.strip_prefix("pub const ") {
            heading_open = false;
            let value = rest
                .split_once(": &str = \"")
                .and_then(|(_, v)| v.strip_suffix("\";"));
            if let (Some(v), Some(g)) = (value, groups.last_mut()) {
                g.vars.push((v.to_string(), std::mem::take(&mut doc)));
            }
            doc.clear();
        } else {
            heading_open = false;
            if !t.starts_with("//") {
                doc.clear();
            }
        }
    }
    groups.retain(|g| !g.vars.is_empty());
    groups
}

/// `docs/environment.md`.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Environment variables\n\n\
         Generated from `src/env_vars.rs` (`KEYLESS_BLESS=1 cargo test --test cli assets`); \
         see also the [reference](reference.md) and the [README](../README.md).\n\n\
         Every variable keyless reads or writes. Variables holding secrets are never \
         printed or logged.\n",
    );
    for g in groups() {
        s.push_str(&format!(
            "\n## {}\n\n| variable | what it does |\n|---|---|\n",
            cap(&g.title)
        ));
        for (name, what) in &g.vars {
            s.push_str(&format!("| `{name}` | {} |\n", what.replace('|', "\\|")));
        }
    }
    s
}

fn cap(s: &str) -> String {
    if s.starts_with("keyless") {
        return s.to_string();
    }
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
