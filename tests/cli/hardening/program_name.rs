//! Defect 11: "cannot run `…`" shows the program name scrubbed: an ESC or
//! OSC sequence in it never reaches the terminal.

use crate::common::*;
use crate::fake::{Fake, Reply};

#[test]
fn cannot_run_scrubs_the_program_name() {
    let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-progname_abcdefghijklmnop", 600));
    let (env, _file) = env_with_file_source(&fake.url);
    let name = "\u{1b}]0;pwned\u{7}\u{1b}[2Jno-such-program";
    let r = env.run(&["exec", "--", name]);
    assert_eq!(r.code, 127, "{}", r.stderr);
    assert!(r.stderr.contains("cannot run"), "{}", r.stderr);
    assert!(r.stderr.contains("no-such-program"), "{}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}'),
        "ESC reached the terminal: {:?}",
        r.stderr
    );
    assert!(
        !r.stderr.contains('\u{7}'),
        "BEL reached the terminal: {:?}",
        r.stderr
    );
}
