//! The Anthropic TypeScript SDK and the OpenAI Node SDK under `keyless exec`
//! (and the TS SDK under `exec --refresh`, reading the rotated profile):
//! Messages plain and streamed, count_tokens and models; chat completions
//! plain and streamed, responses plain and streamed, models. Then a token
//! revoked at the sandbox: both SDKs see the real APIs' 401.

use std::path::Path;
use std::process::Command;

use super::*;

fn node(env: &TestEnv, nm: &Path, trap: &Trap, exec: &[&str], script_name: &str) -> Command {
    let mut c = hermetic(env, Path::new(BIN), trap);
    c.env("NODE_PATH", nm)
        .args(exec)
        .arg("--")
        .arg("node")
        .arg(script(script_name));
    c
}

/// `script_name` (an SDK's script) under `keyless <exec…>` against a fresh
/// sandbox (tokens living 60 s; `OPENAI_BASE_URL` at it for the OpenAI
/// SDK): its JSON report, and the sandbox to count calls at. Nothing but the
/// sandbox was reached (the trap is empty). None: no clients installed.
fn sdk_run(exec: &[&str], script_name: &str, what: &str) -> Option<(Sandbox, serde_json::Value)> {
    let nm = clients()?;
    let (sb, env) = sandbox_env(60);
    let trap = Trap::start();
    let mut c = node(&env, &nm, &trap, exec, script_name);
    if script_name.starts_with("openai") {
        c.env("OPENAI_BASE_URL", format!("{}/v1", sb.url));
    }
    let (out, _) = finish(&mut c, 60, what);
    trap.assert_nothing_left();
    Some((sb, json(&out)))
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn assert_messages_all_spoken(v: &serde_json::Value) {
    let text = v["message"].as_str().unwrap();
    assert!(text.starts_with(REPLY), "{v}");
    assert_eq!(v["streamed"], text, "the deltas join to the same text");
    let events: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["models"][0], "claude-sandbox-1");
    assert!(v["input_tokens"].as_u64().unwrap() > 0);
}

#[test]
fn ts_sdk_under_exec() {
    let Some((sb, v)) = sdk_run(
        &["exec", "--type", "anthropic"],
        "anthropic_sdk.cjs",
        "the TS SDK under exec",
    ) else {
        return;
    };
    assert_messages_all_spoken(&v);
    assert_eq!(
        api_counts(&sb),
        (4, 0),
        "create, stream, models, count_tokens"
    );
}

#[test]
fn ts_sdk_under_exec_refresh() {
    let Some((sb, v)) = sdk_run(
        &["exec", "--refresh"],
        "anthropic_sdk.cjs",
        "the TS SDK under exec --refresh",
    ) else {
        return;
    };
    assert_messages_all_spoken(&v);
    assert_eq!(api_counts(&sb).1, 0);
}

#[test]
fn openai_node_sdk_under_exec() {
    let Some((sb, v)) = sdk_run(
        &["exec", "--type", "openai"],
        "openai_sdk.cjs",
        "the OpenAI Node SDK under exec",
    ) else {
        return;
    };
    let text = v["chat"].as_str().unwrap();
    assert!(
        text.starts_with(REPLY) && text.contains("proj_01sandbox"),
        "{v}"
    );
    assert_eq!(v["chat_streamed"], text);
    assert!(
        v["chat_stream_usage"].as_u64().unwrap() > 0,
        "include_usage"
    );
    assert_eq!(v["response"], text);
    assert_eq!(v["response_streamed"], text);
    assert_eq!(v["response_completed"], "completed");
    let events: Vec<&str> = v["response_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .filter(|e| *e != "response.output_text.delta")
        .collect();
    assert_eq!(
        events,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(v["models"][0], "gpt-sandbox-1");
    assert_eq!(api_counts(&sb), (5, 0));
}

#[test]
fn a_token_revoked_at_the_sandbox_gets_the_apis_401_in_both_sdks() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(600);
    let trap = Trap::start();
    let token = env
        .run(&["credential", "anthropic"])
        .success()
        .stdout
        .clone();
    assert_eq!(revoke(&sb, "{\"token\": \"not-a-minted-token\"}"), 0);
    assert_eq!(
        revoke(&sb, &format!("{{\"token\": \"{}\"}}", token.trim())),
        1
    );
    // exec serves the same cached token, which the API now refuses
    let (ok, _, err) = run_bounded(
        &mut node(
            &env,
            &nm,
            &trap,
            &["exec", "--type", "anthropic"],
            "anthropic_sdk.cjs",
        ),
        60,
        "the TS SDK with a revoked token",
    );
    assert!(
        !ok && err.contains("401") && err.contains("revoked"),
        "{err}"
    );
    // {} revokes every live token: here the OpenAI one minted for exec
    env.run(&["credential", "openai"]).success();
    assert_eq!(revoke(&sb, "{}"), 1);
    let (ok, _, err) = run_bounded(
        node(
            &env,
            &nm,
            &trap,
            &["exec", "--type", "openai"],
            "openai_sdk.cjs",
        )
        .env("OPENAI_BASE_URL", format!("{}/v1", sb.url)),
        60,
        "the OpenAI SDK with a revoked token",
    );
    assert!(
        !ok && err.contains("401") && err.contains("revoked"),
        "{err}"
    );
    assert_eq!(api_counts(&sb), (0, 2));
    trap.assert_nothing_left();
}

#[test]
fn unknown_paths_get_the_apis_404_and_revoke_checks_its_body() {
    // no client needed: what a client probing an endpoint would see
    let sb = Sandbox::start(&[]);
    let (status, v) = http(
        &sb,
        "POST",
        "/v1/nope?beta=true",
        &[("anthropic-version", "2023-06-01")],
        "{}",
    );
    assert_eq!(status, 404);
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "not_found_error");
    let (status, v) = http(&sb, "GET", "/v1/nope", &[], "");
    assert_eq!(status, 404);
    assert_eq!(v["error"]["message"], "Invalid URL (GET /v1/nope)");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    for bad in ["[]", "{\"token\": 7}", "nope"] {
        let (status, v) = http(&sb, "POST", "/_sandbox/revoke", &[], bad);
        assert_eq!(status, 400, "{bad}: {v}");
    }
    assert_eq!(revoke(&sb, "{}"), 0, "nothing minted yet");
}

/// `exec --refresh -- node anthropic_sdk.cjs CALLS GAP`: the SDK's count
/// of ok and failed calls, asserted zero failed.
fn ts_sdk_long_run(env: &TestEnv, nm: &Path, trap: &Trap, calls: u32, gap: u32) {
    let mut c = node(env, nm, trap, &["exec", "--refresh"], "anthropic_sdk.cjs");
    c.args([calls.to_string(), gap.to_string()]);
    let (out, err) = finish(&mut c, u64::from(calls * gap) + 60, "the TS SDK long run");
    let v = json(&out);
    assert_eq!(v["failed"], 0, "{v}\n{}", tail(&err, 2000));
    assert_eq!(v["ok"], calls);
}

#[test]
fn ts_sdk_under_exec_refresh_stays_signed_in_across_60_second_tokens() {
    let Some(nm) = clients() else { return };
    let (_sb, env) = sandbox_env(60);
    let trap = Trap::start();
    ts_sdk_long_run(&env, &nm, &trap, 36, 5);
}

#[test]
fn ts_sdk_under_exec_refresh_started_on_a_nearly_spent_cached_token() {
    let Some(nm) = clients() else { return };
    let (_sb, env) = sandbox_env(60);
    let trap = Trap::start();
    let r = env.run(&["credential", "anthropic", "--format", "json"]);
    let exp = json(&r.success().stdout)["expires_at"].as_i64().unwrap();
    // start when the cached token has 33 s left: just above the 30 s below
    // which keyless would exchange again, so exec --refresh serves it
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    while now() < exp - 33 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    ts_sdk_long_run(&env, &nm, &trap, 9, 5);
}
