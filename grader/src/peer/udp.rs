//! The UDP upper-case server the grader runs for `udp-client`: it records every datagram
//! it receives, the empty one ("I am gone") included, and answers each non-empty one with
//! its upper-case, sent to the datagram's sender.

use super::{bind_free, Watch};
use crate::process::Helpers;
use reference::upper::upper;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Everything the peer saw.
#[derive(Debug, Default)]
pub(crate) struct UdpState {
    /// Every datagram received, in order, empty ones included.
    pub datagrams: Vec<Vec<u8>>,
    /// Answers sent (counted after each send).
    pub answered: usize,
}

impl UdpState {
    /// True once an empty datagram has arrived.
    pub(crate) fn saw_empty(&self) -> bool {
        self.datagrams.iter().any(|d| d.is_empty())
    }
}

/// The running server; stopped (thread joined) when dropped.
pub(crate) struct UdpPeer {
    addr: SocketAddr,
    state: Arc<Watch<UdpState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The socket again, to wake the thread from any network namespace.
    wake: UdpSocket,
    /// Its thread, for deadlines on a client that talks to it.
    helpers: Helpers,
}

impl UdpPeer {
    /// Binds 127.0.0.1 on a free port and starts answering.
    pub(crate) fn start() -> io::Result<UdpPeer> {
        let socket = bind_free(|p| UdpSocket::bind(("127.0.0.1", p)))?;
        let addr = socket.local_addr()?;
        let wake = socket.try_clone()?;
        let state = Arc::new(Watch::new(UdpState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let helpers = Helpers::new();
        let thread = {
            let (state, stop, enlist) = (Arc::clone(&state), Arc::clone(&stop), helpers.clone());
            std::thread::Builder::new()
                .name("peer-udp".into())
                .spawn(move || {
                    enlist.enlist();
                    serve(socket, state, stop)
                })?
        };
        Ok(UdpPeer {
            addr,
            state,
            stop,
            thread: Some(thread),
            wake,
            helpers,
        })
    }

    /// The port clients send to.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What the peer saw, shared with its thread.
    pub(crate) fn state(&self) -> &Watch<UdpState> {
        &self.state
    }

    /// Its thread (a client's progress passes through it).
    pub(crate) fn helpers(&self) -> &Helpers {
        &self.helpers
    }
}

fn serve(socket: UdpSocket, state: Arc<Watch<UdpState>>, stop: Arc<AtomicBool>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let received = socket.recv_from(&mut buf);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let (n, from) = match received {
            Ok(r) => r,
            // An ICMP error from an earlier answer to a client that is gone, or a signal.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(_) => return,
        };
        let data = buf[..n].to_vec();
        state.update(|s| s.datagrams.push(data));
        if n > 0 {
            let _ = socket.send_to(&upper(&buf[..n]), from);
            state.update(|s| s.answered += 1);
        }
    }
}

impl Drop for UdpPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the thread with a datagram to itself, sent from its own socket (so in its
        // own network namespace); it sees the stop flag first.
        let _ = self.wake.send_to(b"stop", self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn answers_and_records_the_empty_datagram() {
        let peer = UdpPeer::start().unwrap();
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        c.connect(("127.0.0.1", peer.port())).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.send(b"hi \tthere").unwrap();
        let mut buf = [0u8; 64];
        let n = c.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"HI \tTHERE");
        c.send(b"").unwrap();
        assert!(peer
            .state()
            .wait_until(Duration::from_secs(10), UdpState::saw_empty));
        assert_eq!(
            peer.state().read(|s| s.datagrams.clone()),
            vec![b"hi \tthere".to_vec(), vec![]]
        );
    }
}
