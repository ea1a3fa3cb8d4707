//! Issue 18, hardening (third round): one test file per defect, each test
//! seen failing on the code before its fix.

mod audience;
mod base_url;
mod outside_files;
mod port_lifetime;
mod program_name;
mod project_scope;
mod proxy_env;
mod refresh_openai;
mod refresh_token;
mod sandbox_notice;
mod served_mark;
mod served_record;
mod server_echo;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Run;

/// Run `c` to completion, or kill it after `limit` and return `None`: the
/// hang a FIFO or a full pipe would cause shows as a failure, not a stuck
/// test run.
pub fn run_bounded(mut c: Command, limit: Duration) -> Option<Run> {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Run::from(child.wait_with_output().unwrap()))
}
