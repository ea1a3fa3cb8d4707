//! When `exec --proxy`'s program has exited, keyless reaps what was
//! re-parented to it and nothing else: it waited on any child
//! (`waitpid(-1)`), so an identity `command:` a renewal was running at that
//! moment was waited for (up to its 30 s limit) and reaped under the
//! renewal, whose own wait then failed with ECHILD.

use super::port_lifetime::{alive, spawn_quiet, wait_for};
use crate::common::*;
use crate::exec_proxy::upstream::Upstream;

/// The identity command: the first run prints the JWT; a later one (the
/// renewal) says so in `$OUT/renewing` and holds until `$OUT/release`.
fn identity_command(env: &TestEnv, jwt: &std::path::Path) -> String {
    let script = env.path("identity.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ -e \"$OUT/first\" ]; then\n  echo $$ > \"$OUT/renewing\"\n  \
             while [ ! -e \"$OUT/release\" ]; do sleep 0.05; done\nfi\n\
             echo > \"$OUT/first\"\ncat '{}'\n",
            jwt.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    format!("command:{}", script.display())
}

/// The program makes a call the API refuses (its token revoked), so keyless
/// renews, running the identity command, and exits 5 while that runs:
/// keyless exits 5 at once, the identity command still running.
#[test]
fn keyless_exits_while_a_renewals_identity_command_still_runs() {
    if !require_program("curl") {
        return;
    }
    let up = Upstream::start(600);
    let env = TestEnv::new();
    let out = env.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let jwt = env.jwt_file();
    env.setup(&up.url, &identity_command(&env, &jwt));
    let script = r#"echo > "$OUT/ready"; while [ ! -e "$OUT/go" ]; do sleep 0.05; done
curl -s -o /dev/null -H "x-api-key: $ANTHROPIC_AUTH_TOKEN" "$ANTHROPIC_BASE_URL/v1/models" &
while [ ! -e "$OUT/renewing" ]; do sleep 0.05; done; exit 5"#;
    // Grace 0: the call the program left waiting ends with it.
    let mut keyless = spawn_quiet(&env, script, &out, "0");
    wait_for(&out.join("ready"));
    up.revoke_all();
    std::fs::write(out.join("go"), "").unwrap();
    let status = wait_bounded(&mut keyless, HANG);
    let command: i32 = wait_for(&out.join("renewing")).trim().parse().unwrap();
    let still_running = alive(command);
    // Let the identity command end.
    std::fs::write(out.join("release"), "").unwrap();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(5),
        "the program's status"
    );
    assert!(
        still_running,
        "keyless waited for its own identity command (until its 30 s limit) before exiting"
    );
}
