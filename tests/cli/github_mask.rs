//! GitHub Actions (issue 23): every token keyless hands to a step is
//! masked in the job's log with `::add-mask::` (as the toolkit's setSecret
//! does) without touching stdout's contract, and `env --shell github`
//! appends to `$GITHUB_ENV` in the runner's multiline syntax.

use crate::common::*;

fn masked(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .map(String::from)
        .collect()
}

#[test]
fn tokens_are_masked_in_a_github_job_and_stdout_keeps_its_contract() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    // credential: stdout is exactly the token; the mask is on stderr
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    r.success();
    assert!(
        r.stdout.starts_with("sk-ant-oat01-") && !r.stdout.contains('\n'),
        "{}",
        r.stdout
    );
    assert_eq!(
        masked(&r.stderr),
        std::slice::from_ref(&r.stdout),
        "{}",
        r.stderr
    );
    // a cache hit masks too (each step is a new log)
    let hit = env.run_with(&["credential", "anthropic"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    assert_eq!(masked(&hit.stderr), std::slice::from_ref(&r.stdout));
    // exec: the child's stdout is its own
    let e = env.run_with(EXEC_PRINTING_THE_TOKEN, |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    e.success();
    assert_eq!(masked(&e.stderr), std::slice::from_ref(&e.stdout));
    // outside GitHub Actions: nothing
    let plain = env.run(&["credential", "anthropic"]);
    assert!(masked(&plain.stderr).is_empty() && !plain.stderr.contains("add-mask"));
}

#[test]
fn env_shell_github_appends_to_github_env_in_multiline_syntax() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    let file = env.path("github_env");
    std::fs::write(&file, "EARLIER=1\n").unwrap();
    let r = env.run_with(&["env", "--shell", "github"], |c| {
        c.env("GITHUB_ACTIONS", "true").env("GITHUB_ENV", &file);
    });
    r.success();
    assert_eq!(r.stdout, "", "stdout stays empty");
    let text = std::fs::read_to_string(&file).unwrap();
    let token = masked(&r.stderr).pop().expect("masked");
    // NAME<<DELIM, the value, DELIM: parsed here as the runner parses it
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("EARLIER=1"));
    let head = lines.next().unwrap();
    let (name, delim) = head.split_once("<<").unwrap();
    assert_eq!(name, "ANTHROPIC_AUTH_TOKEN");
    assert!(
        delim.starts_with("ghadelimiter_") && delim.len() > 40,
        "{delim}"
    );
    assert_eq!(lines.next(), Some(token.as_str()));
    assert_eq!(lines.next(), Some(delim));
    // a second run picks another delimiter
    env.run_with(&["env", "--shell", "github"], |c| {
        c.env("GITHUB_ENV", &file);
    })
    .success();
    let again = std::fs::read_to_string(&file).unwrap();
    assert_eq!(again.matches(delim).count(), 2, "{again}");
    // no $GITHUB_ENV: a usage error that says where it runs
    env.run(&["env", "--shell", "github"])
        .fails(2, "GITHUB_ENV");
}
