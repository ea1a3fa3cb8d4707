//! Defect 6: `exec --refresh` never lets a static OpenAI key win silently.
//! With OpenAI configured too and a static `OPENAI_API_KEY` in the
//! environment it refuses and points to `--proxy`; without one it says that
//! OpenAI is not served; `--type openai` points to `--proxy`.

use crate::common::*;

fn both() -> (Sandbox, TestEnv) {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(
        &sb.url,
        &sb.identity_command_for(&["https://api.anthropic.com", OPENAI_AUDIENCE]),
    );
    env.setup_openai_on(&sb);
    (sb, env)
}

#[test]
fn a_static_openai_key_does_not_silently_stay_in_charge() {
    let (_sb, env) = both();
    let r = env.run_with(&["exec", "--refresh", "--", "true"], |c| {
        c.env("OPENAI_API_KEY", "sk-proj-FAKE");
    });
    r.fails(2, "OPENAI_API_KEY");
    assert!(r.stderr.contains("keyless exec --proxy"), "{}", r.stderr);
    // without a static key it runs, and says OpenAI is not served
    let r = env.run(&["exec", "--refresh", "--", "true"]);
    r.success();
    assert!(r.stderr.contains("--proxy"), "{}", r.stderr);
    // chosen knowingly: Anthropic only, the static key stays the child's
    env.run_with(
        &["exec", "--refresh", "--type", "anthropic", "--", "true"],
        |c| {
            c.env("OPENAI_API_KEY", "sk-proj-FAKE");
        },
    )
    .success();
}

#[test]
fn refresh_type_openai_points_to_the_proxy() {
    let (_sb, env) = both();
    let r = env.run(&["exec", "--refresh", "--type", "openai", "--", "true"]);
    r.fails(2, "OpenAI's SDKs read only OPENAI_API_KEY");
    assert!(
        r.stderr.contains("keyless exec --proxy --type openai"),
        "{}",
        r.stderr
    );
}
