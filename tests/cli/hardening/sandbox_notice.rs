//! Defect 13: where the sandbox is described (its `--help`, its banner,
//! docs/sandbox.md) one sentence says it is open to every local user and
//! holds nothing real.

use crate::common::*;

const SENTENCE: &str = "open to every local user";

#[test]
fn the_sandbox_says_it_is_open_to_every_local_user() {
    let env = TestEnv::new();
    let help = env.run(&["sandbox", "--help"]);
    help.success();
    assert!(help.stdout.contains(SENTENCE), "{}", help.stdout);
    assert!(
        help.stdout.contains("holds nothing real"),
        "{}",
        help.stdout
    );
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/sandbox.md")).unwrap();
    assert!(doc.contains(SENTENCE));
}
