//! The proxy's listener on 127.0.0.1, which every local user can reach:
//! what a process without the capability can make it hold is bounded.
//!
//! - A connection must present a request that passes the gate within
//!   [`UNPROVEN_DEADLINE`] of being accepted, or it is closed; a refused
//!   request closes its connection ([`super::gate`] answers `Connection:
//!   close`).
//! - A request head may take at most [`HEADER_TIMEOUT`] to arrive, and
//!   that is also how long a kept-alive connection may sit idle (the clock
//!   starts when the listener waits for the next head: [`super::h1serve`]).
//! - A request head is at most [`MAX_HEADER`] bytes (431 past it).
//! - At most [`Limits::total`] connections are open (kept below the
//!   open-file limit, which [`raise_nofile`] raises to the hard one), of
//!   them at most [`Limits::unproven`] that have not passed the gate.
//!   When full, a new connection closes the oldest one that has not: the
//!   child's connections (they present the capability) are never the ones
//!   turned away.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

pub use super::h1request::ChildBody;
use super::h1request::{HeadWait, NOT_WAITING};

/// How long a connection may stay open without a request passing the gate.
pub const UNPROVEN_DEADLINE: Duration = Duration::from_secs(10);
/// The longest a request head may take, and a kept-alive connection idle.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest request head (request line and headers) read.
pub const MAX_HEADER: usize = 32 << 10;
/// Descriptors kept free for everything else keyless opens.
const RESERVED_FDS: u64 = 64;

/// How many connections the listener keeps open at once.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub total: usize,
    pub unproven: usize,
}

impl Limits {
    /// From the open-file limit: each connection may need a second
    /// descriptor for its call to the API.
    pub fn for_nofile(nofile: u64) -> Self {
        let total = (nofile.saturating_sub(RESERVED_FDS) / 2).clamp(16, 4096) as usize;
        Limits {
            total,
            unproven: total.min(512),
        }
    }
}

/// The open-file limits keyless started with.
#[cfg(unix)]
pub type Saved = libc::rlimit;
#[cfg(not(unix))]
pub type Saved = ();

#[cfg(not(unix))]
pub fn raise_nofile() -> (Option<Saved>, u64) {
    (None, 8192)
}

#[cfg(not(unix))]
pub fn restore_nofile(_: &mut std::process::Command, _: Option<Saved>) {}

/// Raise the soft open-file limit to the hard one; the limits that were
/// in force (the child gets them back, [`restore_nofile`]) and the new soft one.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
pub fn raise_nofile() -> (Option<Saved>, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return (None, 1024);
    }
    let original = lim;
    // macOS refuses more than OPEN_MAX however high the hard limit is.
    let want = if cfg!(target_os = "macos") {
        lim.rlim_max.min(10240)
    } else {
        lim.rlim_max
    };
    if want > lim.rlim_cur {
        let raised = libc::rlimit {
            rlim_cur: want,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit(2) reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return (Some(original), want as u64);
        }
    }
    (None, lim.rlim_cur as u64)
}

/// Give a child the open-file limit keyless started with.
#[cfg(unix)]
pub fn restore_nofile(cmd: &mut std::process::Command, original: Option<Saved>) {
    use std::os::unix::process::CommandExt;
    let Some(lim) = original else { return };
    // SAFETY: only setrlimit(2), async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            Ok(())
        });
    }
}

/// One open connection, as the registry sees it.
struct Entry {
    proven: Arc<AtomicBool>,
    evict: Arc<tokio::sync::Notify>,
    /// Since when it waits for a request head ([`HeadWait`]).
    since: Arc<AtomicU64>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Registry {
    next: u64,
    open: BTreeMap<u64, Entry>,
    /// The listener's clock, in seconds ([`sweep`]).
    clock: Arc<AtomicU64>,
    /// Wakes the sweeper when the first connection opens.
    work: Arc<tokio::sync::Notify>,
}

/// A connection let in.
struct Admitted {
    id: u64,
    proven: Arc<AtomicBool>,
    evict: Arc<tokio::sync::Notify>,
    wait: HeadWait,
}

impl Registry {
    /// Room for a new connection: closes the oldest unproven one when the
    /// listener is full (or holds too many unproven); None when every open
    /// connection has passed the gate and there is no room.
    fn admit(&mut self, limits: Limits) -> Option<Admitted> {
        if self.open.len() >= limits.unproven {
            let unproven = || {
                self.open
                    .iter()
                    .filter(|(_, e)| !e.proven.load(Ordering::Relaxed))
            };
            let count = unproven().count();
            if self.open.len() >= limits.total || count >= limits.unproven {
                let oldest = unproven().next().map(|(id, _)| *id)?;
                if let Some(e) = self.open.remove(&oldest) {
                    e.evict.notify_one();
                }
            }
        }
        let id = self.next;
        self.next += 1;
        let proven = Arc::new(AtomicBool::new(false));
        let evict = Arc::new(tokio::sync::Notify::new());
        let wait = HeadWait {
            clock: self.clock.clone(),
            since: Arc::new(AtomicU64::new(NOT_WAITING)),
        };
        if self.open.is_empty() {
            self.work.notify_one();
        }
        self.open.insert(
            id,
            Entry {
                proven: proven.clone(),
                evict: evict.clone(),
                since: wait.since.clone(),
            },
        );
        Some(Admitted {
            id,
            proven,
            evict,
            wait,
        })
    }

    /// Close the connections that have waited longer than
    /// [`HEADER_TIMEOUT`] for a request head, at clock reading `now`.
    fn expire(&self, now: u64) {
        for e in self.open.values() {
            let since = e.since.load(Ordering::Relaxed);
            if since != NOT_WAITING && now.saturating_sub(since) > HEADER_TIMEOUT.as_secs() {
                e.evict.notify_one();
            }
        }
    }
}

/// The listener's sweeper: while connections are open, ticks its clock
/// every second and closes those past their head-read limit.
async fn sweep(registry: std::sync::Weak<Mutex<Registry>>) {
    let Some((clock, work)) = registry.upgrade().map(|r| {
        let r = lock(&r);
        (r.clock.clone(), r.work.clone())
    }) else {
        return;
    };
    loop {
        let Some(r) = registry.upgrade() else { return };
        let idle = lock(&r).open.is_empty();
        drop(r);
        if idle {
            work.notified().await;
            continue;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = clock.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(r) = registry.upgrade() else { return };
        lock(&r).expire(now);
    }
}

fn lock(r: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    r.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes its connection from the registry when the connection ends.
struct Slot {
    id: u64,
    registry: Arc<Mutex<Registry>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.registry).open.remove(&self.id);
    }
}

/// What the request handler learns about its connection.
#[derive(Clone, Default)]
pub struct Conn {
    proven: Arc<AtomicBool>,
}

impl Conn {
    /// A request on this connection passed the gate: it is the child's.
    pub fn prove(&self) {
        self.proven.store(true, Ordering::Relaxed);
    }
}

/// What the proxy listens on: a loopback TCP port (`exec --proxy`,
/// `keyless agent`) or a Unix socket (`keyless agent`).
pub trait Accept: Send + 'static {
    type Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;
    fn next(&self) -> impl std::future::Future<Output = std::io::Result<Self::Io>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;
    async fn next(&self) -> std::io::Result<Self::Io> {
        let (tcp, _) = self.accept().await?;
        let _ = tcp.set_nodelay(true);
        Ok(tcp)
    }
}

/// Accept and serve connections on `listener` until the runtime ends;
/// `handle` answers each request.
pub async fn serve<L, H, F>(listener: L, limits: Limits, handle: H)
where
    L: Accept,
    H: Fn(hyper::Request<ChildBody>, Conn) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = axum::response::Response> + Send + 'static,
{
    let registry = Arc::new(Mutex::new(Registry::default()));
    tokio::spawn(sweep(Arc::downgrade(&registry)));
    loop {
        let tcp = match listener.next().await {
            Ok(tcp) => tcp,
            Err(e) => {
                // Out of descriptors (or another transient error): wait,
                // rather than spin, for connections to close.
                crate::output::debug(&format!("proxy: accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(Admitted {
            id,
            proven,
            evict,
            wait,
        }) = lock(&registry).admit(limits)
        else {
            continue;
        };
        let slot = Slot {
            id,
            registry: registry.clone(),
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let conn = Conn {
                proven: proven.clone(),
            };
            let served = super::h1serve::serve(Box::new(tcp), &handle, &conn, &wait);
            tokio::pin!(served);
            let deadline = tokio::time::sleep(UNPROVEN_DEADLINE);
            let evicted = evict.notified();
            tokio::pin!(deadline, evicted);
            let mut watching = true;
            // Until it ends, is evicted, or is unproven at its deadline.
            // Its deadline is not polled once it has passed the gate (a
            // timer polled at every wake-up cost each request about 200
            // instructions, issue 21).
            std::future::poll_fn(|cx| {
                if served.as_mut().poll(cx).is_ready() || evicted.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
                watching = watching && !proven.load(Ordering::Relaxed);
                if watching && deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
                Poll::Pending
            })
            .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_leave_room_below_the_open_file_limit() {
        let l = Limits::for_nofile(512);
        assert_eq!((l.total, l.unproven), (224, 224));
        let l = Limits::for_nofile(1 << 20);
        assert_eq!((l.total, l.unproven), (4096, 512));
        assert_eq!(Limits::for_nofile(10).total, 16);
    }

    #[test]
    fn a_full_listener_turns_away_the_oldest_unproven_connection_never_a_proven_one() {
        let limits = Limits {
            total: 3,
            unproven: 2,
        };
        let mut r = Registry::default();
        let child = r.admit(limits).unwrap().proven;
        child.store(true, Ordering::Relaxed);
        let Admitted {
            id: a,
            evict: a_evict,
            ..
        } = r.admit(limits).unwrap();
        let b = r.admit(limits).unwrap().id;
        assert_eq!(r.open.len(), 3);
        // full: the oldest unproven (a) makes room
        let c = r.admit(limits).unwrap().id;
        assert!(!r.open.contains_key(&a));
        assert!(r.open.contains_key(&b) && r.open.contains_key(&c));
        let woken = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(1), a_evict.notified())
                    .await
                    .is_ok()
            });
        assert!(woken, "the evicted connection is told");
        // every connection proven and no room: the new one is refused
        for e in r.open.values() {
            e.proven.store(true, Ordering::Relaxed);
        }
        assert!(r.admit(limits).is_none());
        assert_eq!(r.open.len(), 3);
    }

    #[test]
    fn the_sweeper_closes_connections_waiting_too_long_for_a_head() {
        let limits = Limits {
            total: 8,
            unproven: 8,
        };
        let mut r = Registry::default();
        let slow = r.admit(limits).unwrap();
        let busy = r.admit(limits).unwrap();
        let fresh = r.admit(limits).unwrap();
        slow.wait.since.store(3, Ordering::Relaxed);
        fresh.wait.since.store(50, Ordering::Relaxed);
        r.expire(3 + HEADER_TIMEOUT.as_secs());
        let told = |a: &Admitted| {
            let n = a.evict.notified();
            let mut n = std::pin::pin!(n);
            n.as_mut().enable()
        };
        assert!(!told(&slow), "closed at the limit, not past it");
        r.expire(4 + HEADER_TIMEOUT.as_secs());
        assert!(told(&slow), "past the limit");
        assert!(!told(&busy), "a connection with a request in hand");
        assert!(!told(&fresh));
    }
}
