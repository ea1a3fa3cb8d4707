//! Issue 10 #10 and "crash safety, as a test": the single-use ledger tells
//! a JWT that was sent from one that was only claimed. A record left by a
//! process that died before its request left, or a torn record, never
//! marks a JWT spent; kill -9 at any instant tears no file and spends no
//! unsent JWT.

use std::os::unix::io::AsRawFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::common::*;
use crate::fake::{Fake, Reply};

fn ledger_record(env: &TestEnv, jwt: &str) -> std::path::PathBuf {
    let hex: String = Sha256::digest(jwt.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    env.cache_dir()
        .join("exchanged")
        .join(format!("anthropic-{hex}"))
}

fn token(n: usize) -> String {
    format!("sk-ant-oat01-crash{n:04}_abcdefghijkl")
}

#[test]
fn a_torn_ledger_record_is_unknown_not_spent() {
    for torn in ["", "{\"exp\":17"] {
        let fake = Fake::start(|n, _| Reply::token(&token(n), 600));
        let (env, file) = env_with_file_source(&fake.url);
        let jwt = std::fs::read_to_string(&file).unwrap();
        let record = ledger_record(&env, &jwt);
        std::fs::create_dir_all(record.parent().unwrap()).unwrap();
        std::fs::write(&record, torn).unwrap();
        let r = env.run(&["credential", "anthropic"]);
        r.success();
        assert_eq!(fake.count(), 1, "{torn:?}: the JWT was not sent");
        // now it is spent, and recorded whole
        env.run(&["credential", "anthropic", "--force-refresh"])
            .fails(3, "already exchanged");
        assert_eq!(fake.count(), 1);
    }
}

/// A listener whose accept queue is full: a connect to it hangs in SYN
/// retries, so a client stays "claimed, not yet sent" for seconds.
fn black_hole() -> (std::net::TcpListener, Vec<std::net::TcpStream>, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: listen(2) on a socket we own, only to shrink its backlog.
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    let addr = l.local_addr().unwrap();
    let fillers: Vec<_> = (0..2)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
        })
        .collect();
    (l, fillers, format!("http://{addr}"))
}

#[test]
fn a_claim_whose_process_died_before_sending_is_released() {
    let (_hole, _fillers, hole_url) = black_hole();
    let fake = Fake::start(|n, _| Reply::token(&token(n), 600));
    let (env, file) = env_with_file_source(&hole_url);
    let mut c = env.cmd();
    c.args(["credential", "anthropic"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let jwt = std::fs::read_to_string(&file).unwrap();
    let record = ledger_record(&env, &jwt);
    let started = Instant::now();
    while !record.exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(record.exists(), "keyless never claimed the JWT");
    // It is connecting, so nothing was sent: kill it there.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    // The same JWT, at an endpoint that answers: it was never sent, so
    // it must go out now.
    env.run(&["setup", "anthropic", "--base-url", &fake.url])
        .success();
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert_eq!(fake.count(), 1);
    assert_eq!(fake.last().json()["assertion"], jwt.trim());
}

/// A small seeded generator, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn all_json(dir: &std::path::Path) -> Vec<(std::path::PathBuf, bool)> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy().into_owned();
                    p.is_file() && !n.starts_with('.') && !n.ends_with(".lock")
                })
                .map(|p| {
                    let ok =
                        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&p).unwrap())
                            .is_ok();
                    (p, ok)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kill_9_at_random_instants_tears_nothing_and_spends_no_unsent_jwt() {
    let seed = std::env::var("KEYLESS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x006b_6579_6c65_7373);
    let mut rng = Lcg(seed);
    let delays: Vec<u64> = (0..64).map(|_| rng.below(15)).collect();
    let fake = Fake::start(move |n, _| {
        std::thread::sleep(Duration::from_millis(delays[n % delays.len()]));
        Reply::token(&token(n), 600)
    });
    let (env, file) = env_with_file_source(&fake.url);
    // Every fourth run connects to a black hole, so that kills land in the
    // window between claiming the JWT and a connection, which is otherwise
    // a fraction of a millisecond wide.
    let (_hole, _fillers, hole_url) = black_hole();
    let mut sent_unconnected = 0;
    for i in 0..40 {
        let jwt = shaped_jwt(300);
        std::fs::write(&file, &jwt).unwrap();
        let into_hole = i % 4 == 3;
        if into_hole {
            env.run(&["setup", "anthropic", "--base-url", &hole_url])
                .success();
        }
        let before = fake.connections.load(std::sync::atomic::Ordering::SeqCst);
        let mut c = env.cmd();
        c.args(["credential", "anthropic", "--force-refresh"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        // Into the hole, the connect hangs for seconds: kill anywhere in it.
        let delay = if into_hole {
            50 + rng.below(250)
        } else {
            rng.below(30)
        };
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        // Give an in-flight request time to land, then look.
        std::thread::sleep(Duration::from_millis(20));
        if into_hole {
            env.run(&["setup", "anthropic", "--base-url", &fake.url])
                .success();
        }
        let connected = fake.connections.load(std::sync::atomic::Ordering::SeqCst) > before;
        for (p, ok) in all_json(&env.cache_dir())
            .into_iter()
            .chain(all_json(&env.cache_dir().join("exchanged")))
        {
            assert!(ok, "seed {seed}, run {i}: torn file {}", p.display());
        }
        let record = ledger_record(&env, &jwt);
        let state = std::fs::read(&record)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["state"].as_str().map(str::to_string));
        if !connected && state.as_deref() == Some("sent") {
            sent_unconnected += 1;
        }
        // Unsent means sendable: the same JWT goes out on the next call.
        if !connected {
            let r = env.run(&["credential", "anthropic", "--force-refresh"]);
            assert_eq!(
                r.code, 0,
                "seed {seed}, run {i}: an unsent JWT was refused: {}",
                r.stderr
            );
        }
        // And with a fresh JWT, the next call always recovers.
        std::fs::write(&file, shaped_jwt(300)).unwrap();
        env.run(&["credential", "anthropic"]).success();
    }
    assert_eq!(
        sent_unconnected, 0,
        "seed {seed}: JWTs marked sent without a connection"
    );
}
