//! Recovering from a token the provider rejects, without a person.
//!
//! A revoked token (an admin action, an archived rule, a demoted service
//! account) stays in keyless's cache until it expires. Claude Code re-runs
//! its `apiKeyHelper` on a 401 and Codex its auth command; answered from the
//! cache they get the same dead token, again and again. Two ways out:
//!
//! - `credential <provider> --helper-ttl SECS`, which `setup claude-code` and
//!   `setup codex` write with the re-run interval they configured. keyless
//!   notes which token it printed and when (a `<key>.served` file beside the
//!   cache entry: a digest of the token, never the token). The tool asks
//!   again on its own only after SECS; the SAME token asked for again well
//!   inside that ([`window_ms`]: half of it, at most a minute) means the tool
//!   was refused, so keyless exchanges a new JWT for a new token. At most
//!   once per burst of quick calls: a token whose re-exchange failed, or that
//!   was just minted, is not re-exchanged again on the next quick call (but
//!   may be after a quiet spell, when it may have been refused anew).
//!   A failed re-exchange serves the cached token as before (two tools
//!   sharing one cache look like a retry too; for them this costs one
//!   exchange, never a failure).
//! - `credential <provider> --rejected`, for scripts: "the token you printed
//!   was rejected": drop it and exchange a new one, or fail.
//!
//! Every exchange goes through the normal path (lock, fresh JWT, single-use
//! ledger): a JWT is never replayed. Without either flag nothing here runs;
//! with one, the cost is one open and lock of one small file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::CacheKey;
use crate::clock;
use crate::error::Result;
use crate::output;
use crate::private_fs;

/// What the caller told keyless about how it uses the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// No flag: serve, record nothing.
    Plain,
    /// The tool re-runs the command every `ttl_ms` on its own.
    Helper { ttl_ms: u64 },
    /// The token last printed was rejected.
    Rejected,
}

impl Policy {
    pub fn from_flags(helper_ttl_secs: Option<u32>, rejected: bool) -> Self {
        match (rejected, helper_ttl_secs) {
            (true, _) => Policy::Rejected,
            (false, Some(s)) => Policy::Helper {
                ttl_ms: u64::from(s) * 1000,
            },
            (false, None) => Policy::Plain,
        }
    }
}

/// A second call for the same token this soon after the last one is a retry
/// after a refusal: half the tool's interval, at most a minute (Claude Code
/// retries a failing helper within seconds).
pub fn window_ms(ttl_ms: u64) -> i64 {
    i64::try_from((ttl_ms / 2).min(60_000)).unwrap_or(60_000)
}

/// The last token printed: its digest, when (Unix ms), and when keyless
/// last replaced it or tried to (0: never). The mark holds for one window
/// after `replaced_at_ms` whatever calls follow: a tool that keeps retrying
/// inside the window must not keep a revoked token forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub digest: String,
    pub at_ms: i64,
    pub replaced_at_ms: i64,
}

impl Record {
    /// Is the "already replaced" mark still on at `now_ms`?
    fn marked(&self, now_ms: i64, ttl_ms: u64) -> bool {
        self.replaced_at_ms != 0 && now_ms.saturating_sub(self.replaced_at_ms) < window_ms(ttl_ms)
    }
}

impl Record {
    fn parse(text: &str) -> Option<Record> {
        let mut it = text.split_ascii_whitespace();
        let version = it.next()?;
        if version != "v1" && version != "v2" {
            return None;
        }
        let digest = it.next()?;
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let at_ms = it.next()?.parse().ok()?;
        // v1 (an older keyless) kept a flag renewed by every call: its mark
        // counts from the last call, once.
        let replaced_at_ms = match (version, it.next()?) {
            ("v1", "0") => 0,
            ("v1", "1") => at_ms,
            ("v2", t) => t.parse().ok()?,
            _ => return None,
        };
        Some(Record {
            digest: digest.to_string(),
            at_ms,
            replaced_at_ms,
        })
    }
    fn line(&self) -> String {
        format!(
            "v2 {} {} {}\n",
            self.digest, self.at_ms, self.replaced_at_ms
        )
    }
}

impl CacheKey {
    /// The served-token record's file name, beside the cache entry.
    pub fn served_name(&self) -> String {
        format!("{}.served", self.stem())
    }
}

/// Should the token with `digest`, about to be printed, be replaced first?
pub fn must_replace(policy: Policy, last: Option<&Record>, digest: &str, now_ms: i64) -> bool {
    let same = last.filter(|r| r.digest == digest);
    match policy {
        Policy::Plain => false,
        // No record: keyless cannot tell which token was refused, so the
        // current one is.
        Policy::Rejected => last.is_none() || same.is_some(),
        Policy::Helper { ttl_ms } => same.is_some_and(|r| {
            !r.marked(now_ms, ttl_ms) && now_ms.saturating_sub(r.at_ms) < window_ms(ttl_ms)
        }),
    }
}

/// Serve the token `get(false)` gives, or the one `get(true)` (a forced
/// exchange) gives when [`must_replace`] says so, and record what was
/// served. `secret` reads a token's text. `record` names the record file;
/// it is not even computed without a flag.
///
/// The record is read, judged and rewritten under an exclusive lock (on a
/// lock file beside it), and the token is read from the cache under that lock too: callers at the
/// same moment (several sessions on one cache) see each other's records, so
/// a burst of them costs one replacement, not one each.
pub fn settle<T>(
    policy: Policy,
    record: impl FnOnce() -> PathBuf,
    secret: impl Fn(&T) -> &str,
    mut get: impl FnMut(bool) -> Result<T>,
) -> Result<T> {
    if policy == Policy::Plain {
        return get(false);
    }
    let path = record();
    let mut held = lock(&path);
    let mut file = open(&path);
    let token = get(false)?;
    if file.is_none() {
        // The first call ever: the cache directory exists only now.
        held = held.or_else(|| lock(&path));
        file = open(&path);
    }
    let _held = held;
    let last = file.as_mut().and_then(read);
    let now = clock::now_ms();
    let digest = crate::digest::sha256_hex(secret(&token));
    if !must_replace(policy, last.as_ref(), &digest, now) {
        // "Already replaced" is kept as it was, never renewed: it expires one
        // window after the replacement however often the tool calls, and a
        // quick retry then replaces the token (revoked again, or its
        // re-exchange failed for want of a new JWT).
        let replaced_at_ms = last
            .as_ref()
            .filter(|r| r.digest == digest)
            .map_or(0, |r| r.replaced_at_ms);
        write(
            file.as_mut(),
            &Record {
                digest,
                at_ms: now,
                replaced_at_ms,
            },
        );
        return Ok(token);
    }
    output::info(match policy {
        Policy::Rejected => "the caller reports the token was rejected; exchanging a new one",
        _ => {
            "the same token was asked for again right away (the caller was likely refused it); exchanging a new one"
        }
    });
    match get(true) {
        Ok(fresh) => {
            // The new token counts as replaced already: the next quick call
            // (another tool sharing the cache, or this one refused again)
            // is served it, not another exchange.
            write(
                file.as_mut(),
                &Record {
                    digest: crate::digest::sha256_hex(secret(&fresh)),
                    at_ms: clock::now_ms(),
                    replaced_at_ms: clock::now_ms(),
                },
            );
            Ok(fresh)
        }
        Err(e) if matches!(policy, Policy::Helper { .. }) => {
            // Quiet by default: a helper's stderr is shown by the tool, and
            // this is the normal outcome for two tools sharing one cache.
            output::info(&format!(
                "could not replace a token the caller may have been refused ({}); serving it again",
                e.message
            ));
            write(
                file.as_mut(),
                &Record {
                    digest,
                    at_ms: clock::now_ms(),
                    replaced_at_ms: clock::now_ms(),
                },
            );
            Ok(token)
        }
        Err(e) => Err(e),
    }
}

/// The record file, read-write, private, never through a link. It is used
/// only in a directory that passes the cache's own checks (a directory of
/// ours, not a link, no access for others), opened without blocking (a
/// FIFO planted there must not hang the helper), and kept only if the open
/// descriptor is a regular file of ours, not writable by others, with one
/// link (a hard link would carry the writes elsewhere). When any of that
/// fails keyless serves as if there were no record.
/// Whether the record's directory passes the checks the cache makes: the
/// record and its lock are created nowhere else.
fn dir_ok(path: &Path) -> bool {
    let skip = |why: String| {
        output::debug(&format!("not using the served-token record: {why}"));
        false
    };
    let Some(dir) = path.parent() else {
        return false;
    };
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => match crate::private_fs::check_path(dir, &m, 0o077) {
            Ok(_) => true,
            Err(u) => skip(u.describe(dir)),
        },
        Ok(_) => skip(format!("{} is not a directory", dir.display())),
        Err(e) => skip(format!(
            "{}: {}",
            dir.display(),
            crate::error::io_reason(&e)
        )),
    }
}

fn open(path: &Path) -> Option<File> {
    let skip = |why: String| {
        output::debug(&format!("not using the served-token record: {why}"));
        None
    };
    if !dir_ok(path) {
        return None;
    }
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    let f = match o.open(path) {
        Ok(f) => f,
        Err(e) => {
            return skip(format!(
                "cannot open {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            ));
        }
    };
    let meta = f.metadata().ok()?;
    if !meta.is_file() {
        return skip(format!("{} is not a regular file", path.display()));
    }
    if let Err(u) = crate::private_fs::check_path(path, &meta, 0o022) {
        return skip(u.describe(path));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() != 1 {
            return skip(format!("{} has another hard link", path.display()));
        }
    }
    Some(f)
}

/// Take the record's lock (`<record>.lock`, never the record itself:
/// Windows locks are mandatory), waiting at most [`super::LOCK_TIMEOUT`]:
/// the holder does at most one exchange, itself bounded by its timeouts.
/// Without the lock the record still works, only less well under bursts.
fn lock(record: &Path) -> Option<private_fs::FileLock> {
    if !dir_ok(record) {
        return None;
    }
    let mut name = record.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    match private_fs::lock(&path, super::LOCK_TIMEOUT, || {}) {
        Ok(l) => Some(l),
        Err(e) => {
            output::debug(&format!(
                "going on without the served-token record's lock: {}",
                e.reason(&path)
            ));
            None
        }
    }
}

fn read(f: &mut File) -> Option<Record> {
    let mut buf = String::new();
    Read::by_ref(f).take(256).read_to_string(&mut buf).ok()?;
    Record::parse(&buf)
}

/// One short write at the start: small enough that a reader sees the old
/// line or the new one; a torn one parses as no record.
fn write(f: Option<&mut File>, r: &Record) {
    let Some(f) = f else { return };
    let line = r.line();
    let _ = f
        .seek(SeekFrom::Start(0))
        .and_then(|_| f.write_all(line.as_bytes()))
        .and_then(|()| f.set_len(line.len() as u64));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(d: &str, at: i64, replaced: bool) -> Record {
        Record {
            digest: d.repeat(64 / d.len()),
            at_ms: at,
            replaced_at_ms: if replaced { at.max(1) } else { 0 },
        }
    }

    #[test]
    fn a_quick_second_call_for_the_same_token_is_a_refusal_once() {
        let h = Policy::Helper { ttl_ms: 240_000 };
        let a = "a".repeat(64);
        // first call ever, another token, or a call after the window: serve
        assert!(!must_replace(h, None, &a, 0));
        assert!(!must_replace(h, Some(&rec("b", 0, false)), &a, 1000));
        assert!(!must_replace(h, Some(&rec("a", 0, false)), &a, 60_000));
        // the same token 5 s later: replace, but only once
        assert!(must_replace(h, Some(&rec("a", 0, false)), &a, 5000));
        assert!(!must_replace(h, Some(&rec("a", 0, true)), &a, 5000));
        // the mark expires one window after the replacement, however
        // recently the tool last called
        let kept_calling = Record {
            digest: a.clone(),
            at_ms: 59_000,
            replaced_at_ms: 1,
        };
        assert!(must_replace(h, Some(&kept_calling), &a, 61_000));
        // a short interval has a short window
        let short = Policy::Helper { ttl_ms: 2000 };
        assert!(must_replace(short, Some(&rec("a", 0, false)), &a, 900));
        assert!(!must_replace(short, Some(&rec("a", 0, false)), &a, 1000));
        // --rejected: the printed token (or, without a record, the current one)
        assert!(must_replace(Policy::Rejected, None, &a, 0));
        assert!(must_replace(
            Policy::Rejected,
            Some(&rec("a", 0, true)),
            &a,
            0
        ));
        assert!(!must_replace(
            Policy::Rejected,
            Some(&rec("b", 0, false)),
            &a,
            0
        ));
        assert!(!must_replace(
            Policy::Plain,
            Some(&rec("a", 0, false)),
            &a,
            1
        ));
    }

    #[test]
    fn records_round_trip_and_garbage_is_no_record() {
        let r = rec("c", 1_700_000_000_123, true);
        assert_eq!(Record::parse(&r.line()), Some(r));
        for bad in [
            "",
            "v2 x 1 0",
            "v1 zz 1 0",
            &format!("v1 {} x 0", "a".repeat(64)),
        ] {
            assert_eq!(Record::parse(bad), None, "{bad}");
        }
    }
}
