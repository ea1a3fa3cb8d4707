//! Man pages that are real ones (issue 23): ENVIRONMENT (every variable in
//! env_vars.rs), FILES, EXIT STATUS and EXAMPLES in keyless(1); no page
//! refers to one that is not installed; the schema auth status names is
//! installed with them (tests/cli/assets.rs).

use std::path::Path;

fn man_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

#[test]
fn keyless_1_has_environment_files_exit_status_and_examples() {
    let page = std::fs::read_to_string(man_dir().join("keyless.1")).unwrap();
    for section in [
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"EXIT STATUS\"",
        ".SH EXAMPLES",
    ] {
        assert!(page.contains(section), "{section} missing");
    }
    // every variable env_vars.rs names, by the generator's reading of it
    let env_vars = include_str!("../../src/env_vars.rs");
    let mut n = 0;
    for line in env_vars.lines() {
        if let Some((_, v)) = line
            .trim()
            .strip_prefix("pub const ")
            .and_then(|r| r.split_once(": &str = \""))
        {
            let name = v.trim_end_matches("\";");
            assert!(
                page.contains(&format!("\\fB{}\\fR", name)),
                "{name} missing from ENVIRONMENT"
            );
            n += 1;
        }
    }
    assert!(n > 80, "{n} variables");
}

#[test]
fn no_page_refers_to_a_page_that_is_not_installed() {
    let pages: Vec<String> = std::fs::read_dir(man_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for p in &pages {
        let text = std::fs::read_to_string(man_dir().join(p)).unwrap();
        for (i, _) in text.match_indices("(1)") {
            let start = text[..i]
                .rfind(|c: char| c.is_whitespace())
                .map_or(0, |s| s + 1);
            let name = text[start..i].replace("\\-", "-");
            assert!(
                pages.contains(&format!("{name}.1")),
                "{p} refers to {name}(1)"
            );
        }
    }
}
