//! The keyless process itself: no core dump can hold a token, and no
//! number on the command line makes it panic.

use serde_json::json;

use crate::common::*;
use crate::fake::{Fake, Reply};
use crate::fake_idp::FakeIdp;

/// `exec` replaces keyless with the child, which inherits its limits: a
/// child started from a shell that allows core dumps still sees 0, hard and
/// soft, so keyless set them (and nothing it starts can raise them again).
#[test]
fn keyless_runs_with_core_dumps_disabled() {
    let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-coreTOKEN_0123456789", 600));
    let (env, _) = env_with_file_source(&fake.url);
    let out = env
        .external("sh")
        .args([
            "-c",
            &format!(
                "ulimit -S -c unlimited && exec '{BIN}' exec -- sh -c 'ulimit -S -c; ulimit -H -c'"
            ),
        ])
        .output()
        .unwrap();
    let r = Run::from(out);
    r.success();
    assert_eq!(r.stdout, "0\n0\n", "{}", r.stderr);
}

#[test]
fn out_of_range_durations_are_usage_errors_not_panics() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let env = TestEnv::new();
    idp.setup_issuer(&env, &[]);
    for t in ["18446744073709551615", "18446744073709551616", "3601", "0"] {
        for flow in ["--device", "--browser"] {
            let r = env.run_with(&["login", flow, "--no-browser", "--timeout", t], |c| {
                c.env("KEYLESS_SECRET_STORE", "file");
            });
            assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            r.fails(2, "--timeout");
        }
    }
    for v in ["4294967296", "86401"] {
        env.run(&["credential", "anthropic", "--min-ttl", v])
            .fails(2, "--min-ttl");
        env.run_with(&["credential", "anthropic"], |c| {
            c.env("KEYLESS_MIN_TTL", v);
        })
        .fails(2, "min-ttl");
        env.run(&["sandbox", "--token-lifetime", v])
            .fails(2, "--token-lifetime");
        env.run(&[
            "sandbox",
            "identity-token",
            "--issuer",
            "http://127.0.0.1:1",
            "--lifetime",
            v,
        ])
        .fails(2, "--lifetime");
    }
}
