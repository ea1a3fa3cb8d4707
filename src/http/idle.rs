//! `exec --proxy`'s idle HTTP/1.1 connections to the API ([`super::pool`]):
//! the most recently used is taken first, and those idle longer than
//! [`IDLE`] or closed by the API leave the list.

use std::collections::VecDeque;
use std::time::Instant;

use hyper::client::conn::http1;

use super::api::IDLE;
use super::body::ReqBody;
use super::h1conn::H1;

/// An idle HTTP/1.1 connection: keyless's own, or one that carried a
/// streamed body through hyper (it stays hyper's).
pub enum Idle {
    Own(H1),
    Hyper(http1::SendRequest<ReqBody>),
}

#[derive(Default)]
pub struct IdleList {
    /// The most recently used last.
    list: VecDeque<(Idle, Instant)>,
    /// Whether the task that sweeps it runs.
    swept: bool,
}

impl IdleList {
    /// `c`, used just now; those idle too long leave from the front. True
    /// the first time: the caller starts the sweeping task.
    pub fn push(&mut self, c: Idle) -> bool {
        self.list.push_back((c, Instant::now()));
        while self
            .list
            .front()
            .is_some_and(|(_, since)| since.elapsed() >= IDLE)
        {
            self.list.pop_front();
        }
        !std::mem::replace(&mut self.swept, true)
    }

    /// The most recently used connection not idle too long (one of
    /// keyless's own is checked by the caller: [`H1::is_usable`]).
    pub fn pop(&mut self) -> Option<Idle> {
        while let Some((c, since)) = self.list.pop_back() {
            if since.elapsed() >= IDLE {
                continue;
            }
            match c {
                Idle::Hyper(s) if s.is_closed() => {}
                c => return Some(c),
            }
        }
        None
    }

    /// Drop the connections idle too long or closed by the API.
    pub fn retain_live(&mut self) {
        self.list.retain_mut(|(c, since)| {
            since.elapsed() < IDLE
                && match c {
                    Idle::Own(h) => h.is_usable(),
                    Idle::Hyper(s) => !s.is_closed(),
                }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::h1conn::Io;

    /// An idle connection the API closed leaves at the next sweep; one it
    /// keeps stays, and is the one taken.
    #[test]
    fn a_sweep_closes_what_the_api_closed() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let mut list = IdleList::default();
            let mut apis = Vec::new();
            for _ in 0..2 {
                let c = tokio::net::TcpStream::connect(addr).await.unwrap();
                apis.push(l.accept().await.unwrap().0);
                assert_eq!(list.push(Idle::Own(H1::new(Io::Plain(c)))), apis.len() == 1);
            }
            drop(apis.remove(1)); // the API closes the most recent one
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            list.retain_live();
            assert_eq!(list.list.len(), 1);
            let Some(Idle::Own(mut kept)) = list.pop() else {
                panic!("the open connection is kept")
            };
            assert!(kept.is_usable());
            assert!(list.pop().is_none());
        });
    }
}
