//! Issue 18, hardening (third round): one test file per defect, each test
//! seen failing on the code before its fix.

mod base_url;
mod served_mark;
