//! The unit tests' tokio runtimes: one thread with every driver, on the
//! real clock or on a paused one, which moves only when every task waits
//! (a test of a 600 s bound takes no time, and cannot race the clock).

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn paused_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}
