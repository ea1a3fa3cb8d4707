//! The official Python SDKs (the test venv's `anthropic` and `openai`)
//! under `keyless exec --proxy`, against the streaming upstream: every
//! call shape they make, and a long run across many 60-second tokens with
//! retries off, so that any failed call fails the test.

use super::upstream::Upstream;
use super::{Serve, proxy_env};
use crate::common::*;

const ANTHROPIC_CALLS: &str = r#"
import anthropic
c = anthropic.Anthropic(max_retries=0)
m = c.messages.create(model="claude-test", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
print("create:", m.content[0].text)
text = ""
with c.messages.stream(model="claude-test", max_tokens=16, messages=[{"role": "user", "content": "hi"}]) as s:
    for t in s.text_stream:
        text += t
print("stream:", text)
n = c.messages.count_tokens(model="claude-test", messages=[{"role": "user", "content": "hi"}])
print("count:", n.input_tokens)
print("models:", [x.id for x in c.models.list()])
"#;

#[test]
fn the_anthropic_sdk_works_through_the_proxy() {
    let Some(py) = python_with("anthropic") else {
        return;
    };
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let r = env.run_with(
        &["exec", "--proxy", "--", &py, "-c", ANTHROPIC_CALLS],
        |c| {
            c.env("ANTHROPIC_API_KEY", "sk-ant-api03-FAKE");
        },
    );
    r.success();
    assert_eq!(
        r.stdout,
        "create: Hello through the proxy\nstream: Hello streamed\ncount: 7\nmodels: ['claude-test']\n"
    );
    let seen = up.seen();
    let paths: Vec<_> = seen.api.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/messages",
            "/v1/messages",
            "/v1/messages/count_tokens",
            "/v1/models"
        ]
    );
    assert_eq!(seen.rejected, 0);
    for s in &seen.api {
        assert!(
            s.authorization
                .as_deref()
                .unwrap()
                .starts_with("Bearer sk-ant-oat01-upstream")
        );
        assert_eq!(s.x_api_key, None);
        let beta = s.anthropic_beta.as_deref().unwrap();
        assert!(beta.split(',').any(|b| b == "oauth-2025-04-20"), "{beta}");
        // the SDK names its own version; the proxy adds one only when absent
        assert!(s.anthropic_version.is_some());
    }
}

const OPENAI_CALLS: &str = r#"
import openai
c = openai.OpenAI(max_retries=0)
r = c.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}])
print("chat:", r.choices[0].message.content)
text = ""
for ch in c.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}], stream=True):
    if ch.choices and ch.choices[0].delta.content:
        text += ch.choices[0].delta.content
print("chat-stream:", text)
r = c.responses.create(model="gpt-test", input="hi")
print("responses:", r.output_text)
text = ""
for ev in c.responses.create(model="gpt-test", input="hi", stream=True):
    if ev.type == "response.output_text.delta":
        text += ev.delta
print("responses-stream:", text)
"#;

#[test]
fn the_openai_sdk_works_through_the_proxy() {
    let Some(py) = python_with("openai") else {
        return;
    };
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::OpenAi);
    let r = env.run_with(
        &[
            "exec",
            "--proxy",
            "--type",
            "openai",
            "--",
            &py,
            "-c",
            OPENAI_CALLS,
        ],
        |c| {
            c.env("OPENAI_API_KEY", "sk-proj-FAKE");
        },
    );
    r.success();
    assert_eq!(
        r.stdout,
        "chat: Hi from chat\nchat-stream: Hi streamed\nresponses: Hi from responses\nresponses-stream: Hi responses\n"
    );
    let seen = up.seen();
    let paths: Vec<_> = seen.api.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/chat/completions",
            "/v1/chat/completions",
            "/v1/responses",
            "/v1/responses"
        ]
    );
    for s in &seen.api {
        assert!(
            s.authorization
                .as_deref()
                .unwrap()
                .starts_with("Bearer oai-upstream")
        );
        assert_eq!(s.anthropic_beta, None, "no Anthropic header to OpenAI");
    }
}

/// Both SDKs, made once (as a program that reads its key at start does),
/// calling for ~150 s while 60-second tokens come and go: zero failures,
/// and no expired token ever reached the API (renewal, not the 401 retry).
const LONG_RUN: &str = r#"
import time, anthropic, openai
a = anthropic.Anthropic(max_retries=0)
o = openai.OpenAI(max_retries=0)
ok = failed = 0
end = time.time() + 150
while time.time() < end:
    for call in (
        lambda: a.messages.create(model="claude-test", max_tokens=8, messages=[{"role": "user", "content": "x"}]),
        lambda: o.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "x"}]),
    ):
        try:
            call(); ok += 1
        except Exception as e:
            failed += 1; print("failed:", type(e).__name__, flush=True)
    time.sleep(0.5)
print(f"ok={ok} failed={failed}")
"#;

#[test]
fn a_long_run_over_many_60s_tokens_has_no_failed_call() {
    let (Some(py), Some(_)) = (python_with("anthropic"), python_with("openai")) else {
        return;
    };
    let up = Upstream::start(60);
    let env = proxy_env(&up, Serve::Both);
    let r = env.run(&["exec", "--proxy", "--", &py, "-c", LONG_RUN]);
    r.success();
    let last = r.stdout.lines().last().unwrap_or_default().to_string();
    assert!(last.ends_with("failed=0"), "{}", r.stdout);
    let ok: usize = last
        .trim_start_matches("ok=")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ok > 200, "{last}");
    let seen = up.seen();
    assert_eq!(seen.rejected, 0, "an expired token reached the API");
    // 150 s of 60 s tokens renewed at half-life: at least 4 per provider.
    assert!(seen.exchanges >= 8, "exchanges: {}", seen.exchanges);
}

/// Against the sandbox, which verifies that each API call carries a live
/// token it minted from a verified JWT: the real exchange path end to end.
#[test]
fn the_sdks_reach_the_sandbox_through_the_proxy() {
    let (Some(py), Some(_)) = (python_with("anthropic"), python_with("openai")) else {
        return;
    };
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    env.setup_openai_on(&sb);
    let script = r#"
import anthropic, openai
a = anthropic.Anthropic(max_retries=0)
m = a.messages.create(model="claude-sandbox-1", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
print(m.content[0].text)
print([x.id for x in a.models.list()])
print(len(openai.OpenAI(max_retries=0).models.list().data) > 0)
"#;
    let r = env.run(&["exec", "--proxy", "--", &py, "-c", script]);
    r.success();
    assert!(
        r.stdout.contains("Hello from the keyless sandbox"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("claude-sandbox-1"), "{}", r.stdout);
    assert!(r.stdout.ends_with("True\n"), "{}", r.stdout);
    assert_eq!(sb.history()["exchanges"], 2, "one exchange per provider");
}
