//! kill -9 during `credential --force-refresh` with a provider that rotates
//! refresh tokens and refuses every older one: a rotated token that reached
//! keyless's disk is never lost, and no file is torn.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::*;
use crate::fake::{Fake, Reply};
use crate::fake_idp::{FakeIdp, oauth_error};
use crate::secrets::{device_login, file_store, setup_issuer};

/// The provider's state: the one refresh token it accepts, and every one issued.
#[derive(Default)]
pub struct Rotation {
    pub valid: Option<String>,
    pub issued: Vec<String>,
}

/// A provider that rotates on every grant and accepts only the newest token.
pub fn rotating_idp() -> (FakeIdp, Arc<Mutex<Rotation>>) {
    let state = Arc::new(Mutex::new(Rotation::default()));
    let s = state.clone();
    let idp = FakeIdp::start(move |ctx, req| {
        let form = FakeIdp::form(req);
        let mut st = s.lock().unwrap();
        if form["grant_type"] == "refresh_token"
            && st.valid.as_deref() != Some(form["refresh_token"].as_str())
        {
            return oauth_error("invalid_grant");
        }
        let new = format!("rt-{}-{}", st.issued.len(), crate::fake_idp::rand_hex());
        st.valid = Some(new.clone());
        st.issued.push(new.clone());
        ctx.tokens(Some(ctx.id_token(json!({}))), Some(&new))
    });
    (idp, state)
}

/// Does any file in `dir` (temporary ones included) hold `needle`?
fn on_disk(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        std::fs::read(e.path()).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
    })
}

fn temp_file_written(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        n.starts_with(".secrets.json.")
            && n.ends_with(".tmp")
            && e.metadata().is_ok_and(|m| m.len() > 0)
    })
}

#[test]
fn kill_9_during_rotating_refreshes_never_loses_a_token_that_reached_disk() {
    let (idp, state) = rotating_idp();
    let api =
        Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-crash{n}_0123456789abc"), 600));
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    env.setup_anthropic(&api.url, &[]);
    device_login(&env).success();
    let config = env.config_dir();
    let secrets = config.join("secrets.json");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6b65_796c_6573_7304);
    let (mut lost, mut saved_by_recovery) = (0, 0);
    for i in 0..40 {
        let issued_before = state.lock().unwrap().issued.len();
        let mut c = env.cmd();
        c.args(["credential", "anthropic", "--force-refresh"])
            .env("KEYLESS_SECRET_STORE", "file")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mode = rng.gen_range(0..3);
        match mode {
            // anywhere in the first milliseconds
            0 => std::thread::sleep(Duration::from_micros(rng.gen_range(0..40_000))),
            // right after the provider rotated
            1 => {
                let delay = Duration::from_micros(rng.gen_range(0..3_000));
                while state.lock().unwrap().issued.len() == issued_before
                    && child.try_wait().unwrap().is_none()
                    && Instant::now() < deadline
                {
                    std::hint::spin_loop();
                }
                std::thread::sleep(delay);
            }
            // as soon as the new secret file is written but maybe not renamed
            _ => {
                while !temp_file_written(&config)
                    && child.try_wait().unwrap().is_none()
                    && Instant::now() < deadline
                {
                    std::hint::spin_loop();
                }
            }
        }
        let _ = child.kill();
        child.wait().unwrap();
        // The request the killed process sent may still be waiting in the
        // provider's socket, to be handled (and rotate) after this look: on a
        // busy machine it was, and the test took the rotation it had not yet
        // seen for the token on disk. Count the grants so the next step can
        // tell.
        let (newest, issued_at_look) = {
            let st = state.lock().unwrap();
            (st.valid.clone().unwrap(), st.issued.len())
        };
        let reached_disk = on_disk(&config, &newest);
        let renamed = std::fs::read_to_string(&secrets).unwrap().contains(&newest);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap())
            .unwrap_or_else(|e| panic!("iteration {i}: torn secrets.json: {e}"));
        assert!(doc["secrets"].is_object(), "iteration {i}: {doc}");
        let r = env.run_with(&["credential", "anthropic", "--force-refresh"], file_store);
        // A failed call issues nothing, so a grant after the look is the
        // killed process's late one: the token it rotated to never reached
        // the disk, the window no client can close.
        let rotated_late = r.code != 0 && state.lock().unwrap().issued.len() > issued_at_look;
        if reached_disk && !rotated_late {
            assert_eq!(
                r.code, 0,
                "iteration {i} (mode {mode}): the newest refresh token was on disk, yet the next call failed: {}",
                r.stderr
            );
            if !renamed {
                saved_by_recovery += 1;
            }
        } else if r.code != 0 {
            // The provider rotated but the response never reached the disk:
            // the window no client can close. Sign in again and go on.
            r.fails(3, "sign-in required");
            lost += 1;
            device_login(&env).success();
        }
        assert!(
            std::fs::read_dir(&config)
                .unwrap()
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().ends_with(".tmp")),
            "iteration {i}: orphaned temporary files remain after a successful call"
        );
    }
    // The kills hit the window between writing the new file and renaming it
    // (seed and machine permitting, about 9 of 40; about 8 of 40 land where
    // the provider rotated and the response had not reached the disk).
    assert!(
        saved_by_recovery > 0,
        "no kill landed before the rename ({lost} lost)"
    );
}
