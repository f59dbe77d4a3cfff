//! The TCP upper-case server the grader runs for `tcp-client`. It accepts any number of
//! connections, records per connection every byte received and how the connection ended
//! (end of file, or an error such as a reset), and answers each request as planned: whole,
//! or in pieces where the next piece leaves only once the client has read the previous one
//! (seen in the kernel's socket table), so a client that reads once per line is caught
//! every time, not only when the scheduler happens to be slow. Its threads enlist as
//! [`Helpers`] (a client's deadlines count their waits), and the wait for a client to
//! read counts the client's own time once the check names it ([`TcpPeer::client_is`]).

use super::{bind_free, Watch};
use crate::process::{Deadline, Helpers};
use crate::sockdiag;
use reference::upper::upper;
use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a piece waits for the client to read the previous one before it is sent
/// anyway (a correct client reads at once; this only bounds a stuck one), in the client's
/// own time when it is known (a client starved of CPU is not sent two pieces at once).
const READ_GATE: Duration = Duration::from_secs(3);

/// One write of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Bytes in this piece.
    pub len: usize,
    /// Pause before it is written (after the client read the previous piece).
    pub pause: Duration,
}

/// How to answer one request (one line of the client): as one write or in pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The pieces, in order; their lengths add up to the request's length.
    pub pieces: Vec<Piece>,
}

impl Answer {
    /// The answer to a request of `len` bytes, in one write.
    pub(crate) fn whole(len: usize) -> Answer {
        Answer {
            pieces: vec![Piece {
                len,
                pause: Duration::ZERO,
            }],
        }
    }

    /// Length of the request this answers.
    pub(crate) fn len(&self) -> usize {
        self.pieces.iter().map(|p| p.len).sum()
    }
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The client closed it: `recv` returned end of file.
    Eof,
    /// Reading or writing failed (e.g. the client's exit reset the connection).
    Error(String),
}

/// One connection as the peer saw it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Conn {
    /// Every byte received, in order.
    pub received: Vec<u8>,
    /// How it ended, once it has.
    pub ending: Option<Ending>,
    /// Answers whose last piece the peer has started to write: a client that prints an
    /// answer before this count covers it printed something it never received.
    pub answers_sent: usize,
    /// Bytes of answers written (counted after each write).
    pub answered: usize,
}

/// Everything the peer saw.
#[derive(Debug, Default)]
pub(crate) struct TcpState {
    /// Connections in the order they were accepted.
    pub conns: Vec<Conn>,
    /// Planned answers, used up in order by the requests of any connection; without a
    /// plan a request is answered whole as soon as it arrives.
    plans: VecDeque<Answer>,
}

impl TcpState {
    /// Bytes of answers written, all connections together.
    pub(crate) fn answered(&self) -> usize {
        self.conns.iter().map(|c| c.answered).sum()
    }

    /// Everything received, all connections joined in order.
    pub(crate) fn received(&self) -> Vec<u8> {
        self.conns
            .iter()
            .flat_map(|c| c.received.iter().copied())
            .collect()
    }
}

/// The running server; stopped (threads joined, connections closed) when dropped.
pub(crate) struct TcpPeer {
    addr: SocketAddrV4,
    state: Arc<Watch<TcpState>>,
    stop: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: Option<JoinHandle<()>>,
    /// The listening socket again, to wake the acceptor from any network namespace (a
    /// connection of ours would go to the dropping thread's namespace, maybe not ours).
    wake: TcpListener,
    /// Its threads (a client's progress passes through them).
    helpers: Helpers,
    /// The client's pid, once the check names it (0: unknown).
    client: Arc<AtomicU32>,
}

impl TcpPeer {
    /// Starts listening on 127.0.0.1 on a free port.
    pub(crate) fn start() -> io::Result<TcpPeer> {
        let listener = bind_free(|p| TcpListener::bind(("127.0.0.1", p)))?;
        let addr = match listener.local_addr()? {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => return Err(io::Error::other("bound to IPv6")),
        };
        let wake = listener.try_clone()?;
        let state = Arc::new(Watch::new(TcpState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let threads = Arc::new(Mutex::new(Vec::new()));
        let helpers = Helpers::new();
        let client = Arc::new(AtomicU32::new(0));
        let acceptor = {
            let shared = Shared {
                state: Arc::clone(&state),
                stop: Arc::clone(&stop),
                streams: Arc::clone(&streams),
                threads: Arc::clone(&threads),
                helpers: helpers.clone(),
                client: Arc::clone(&client),
            };
            std::thread::Builder::new()
                .name("peer-tcp-accept".into())
                .spawn(move || {
                    shared.helpers.enlist();
                    accept_loop(listener, addr, shared)
                })?
        };
        Ok(TcpPeer {
            addr,
            state,
            stop,
            streams,
            threads,
            acceptor: Some(acceptor),
            wake,
            helpers,
            client,
        })
    }

    /// The port clients connect to.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What the peer saw, shared with its threads.
    pub(crate) fn state(&self) -> &Watch<TcpState> {
        &self.state
    }

    /// Its threads (a client's progress passes through them).
    pub(crate) fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    /// Names the client's process: the wait for it to read counts its own time.
    pub(crate) fn client_is(&self, pid: u32) {
        self.client.store(pid, Ordering::SeqCst);
    }

    /// Plans the answers to the next requests (one per line the client will send).
    pub(crate) fn plan(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.update(|s| s.plans.extend(answers));
    }
}

impl Drop for TcpPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor: shutdown(2) of a listening socket makes a blocked accept()
        // fail at once (Linux); else with a connection of our own. Then unblock every
        // connection.
        use std::os::fd::AsRawFd;
        // SAFETY: shutdown(2) on a descriptor we own.
        if unsafe { libc::shutdown(self.wake.as_raw_fd(), libc::SHUT_RD) } != 0 {
            let _ = TcpStream::connect_timeout(&self.addr.into(), Duration::from_secs(1));
        }
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for s in self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = s.shutdown(Shutdown::Both);
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

/// What the acceptor shares with the peer and its connections.
struct Shared {
    state: Arc<Watch<TcpState>>,
    stop: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    helpers: Helpers,
    client: Arc<AtomicU32>,
}

fn accept_loop(listener: TcpListener, local: SocketAddrV4, shared: Shared) {
    let Shared {
        state,
        stop,
        streams,
        threads,
        helpers,
        client,
    } = shared;
    loop {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) if stop.load(Ordering::SeqCst) => return,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(clone) = stream.try_clone() {
            streams
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(clone);
        }
        let index = state.update(|s| {
            s.conns.push(Conn::default());
            s.conns.len() - 1
        });
        let conn = Connection {
            stream,
            index,
            local,
            state: Arc::clone(&state),
            stop: Arc::clone(&stop),
            client: Arc::clone(&client),
            sent: 0,
        };
        let enlist = helpers.clone();
        let spawned = std::thread::Builder::new()
            .name("peer-tcp-conn".into())
            .spawn(move || {
                enlist.enlist();
                conn.serve()
            });
        if let Ok(handle) = spawned {
            threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle);
        }
    }
}

/// One accepted connection, served on its own thread.
struct Connection {
    stream: TcpStream,
    index: usize,
    local: SocketAddrV4,
    state: Arc<Watch<TcpState>>,
    stop: Arc<AtomicBool>,
    /// The client's pid (0: unknown).
    client: Arc<AtomicU32>,
    /// Bytes written so far.
    sent: u64,
}

impl Connection {
    fn serve(mut self) {
        let _ = self.stream.set_nodelay(true);
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let ending = loop {
            let n = match (&self.stream).read(&mut buf) {
                Ok(0) => break Ending::Eof,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => break Ending::Error(e.to_string()),
            };
            pending.extend_from_slice(&buf[..n]);
            let i = self.index;
            self.state
                .update(|s| s.conns[i].received.extend_from_slice(&buf[..n]));
            if let Err(e) = self.answer_ready(&mut pending) {
                break Ending::Error(e.to_string());
            }
        };
        let i = self.index;
        self.state.update(|s| s.conns[i].ending = Some(ending));
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Answers every request that has fully arrived, as planned.
    fn answer_ready(&mut self, pending: &mut Vec<u8>) -> io::Result<()> {
        loop {
            let have = pending.len();
            let next = self.state.update(|s| match s.plans.front() {
                Some(plan) if plan.len() <= have => s.plans.pop_front(),
                Some(_) => None,
                None if have > 0 => Some(Answer::whole(have)),
                None => None,
            });
            let Some(plan) = next else {
                return Ok(());
            };
            let request: Vec<u8> = pending.drain(..plan.len()).collect();
            self.write_answer(&upper(&request), &plan)?;
        }
    }

    fn write_answer(&mut self, data: &[u8], plan: &Answer) -> io::Result<()> {
        let mut at = 0usize;
        for (k, piece) in plan.pieces.iter().enumerate() {
            if k > 0 {
                self.wait_until_read();
                if !piece.pause.is_zero() {
                    std::thread::sleep(piece.pause);
                }
            }
            if k + 1 == plan.pieces.len() {
                // Counted before the write: the client cannot print it before this.
                let i = self.index;
                self.state.update(|s| s.conns[i].answers_sent += 1);
            }
            (&self.stream).write_all(&data[at..at + piece.len])?;
            at += piece.len;
            self.sent += piece.len as u64;
            let (i, len) = (self.index, piece.len);
            self.state.update(|s| s.conns[i].answered += len);
        }
        Ok(())
    }

    /// Waits until the client has received and read everything written so far, so that
    /// the next piece reaches a `recv` of its own. Where the kernel cannot be asked, a
    /// short pause stands in.
    fn wait_until_read(&self) {
        let Ok(SocketAddr::V4(client)) = self.stream.peer_addr() else {
            return;
        };
        let mut deadline = match self.client.load(Ordering::SeqCst) {
            0 => Deadline::wall(READ_GATE),
            pid => Deadline::start(pid, READ_GATE),
        };
        let mut pause = Duration::from_micros(50);
        while !deadline.passed() && !self.stop.load(Ordering::SeqCst) {
            match sockdiag::tcp_connection(client, self.local) {
                Ok(Some(d)) if d.received >= self.sent && d.unread == 0 => return,
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(20));
                    return;
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(peer: &TcpPeer) -> TcpStream {
        TcpStream::connect(("127.0.0.1", peer.port())).unwrap()
    }

    #[test]
    fn answers_upper_case_and_records_the_end() {
        let peer = TcpPeer::start().unwrap();
        let mut c = connect(&peer);
        c.write_all(b"hello, World").unwrap();
        let mut got = [0u8; 12];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"HELLO, WORLD");
        drop(c);
        assert!(peer.state().wait_until(Duration::from_secs(10), |s| s
            .conns
            .first()
            .is_some_and(|c| c.ending == Some(Ending::Eof))));
        assert_eq!(peer.state().read(|s| s.received()), b"hello, World");
    }

    #[test]
    fn a_planned_answer_waits_for_the_whole_request_and_comes_in_pieces() {
        let peer = TcpPeer::start().unwrap();
        let piece = |len| Piece {
            len,
            pause: Duration::from_micros(200),
        };
        peer.plan([Answer {
            pieces: vec![piece(2), piece(1), piece(3)],
        }]);
        let mut c = connect(&peer);
        c.write_all(b"abc").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        c.write_all(b"def").unwrap();
        // Each read returns exactly one piece: the next leaves only after this read.
        let mut reads: Vec<Vec<u8>> = Vec::new();
        let mut buf = [0u8; 64];
        while reads.concat().len() < 6 {
            let n = c.read(&mut buf).unwrap();
            reads.push(buf[..n].to_vec());
        }
        assert_eq!(reads, vec![b"AB".to_vec(), b"C".to_vec(), b"DEF".to_vec()]);
        assert_eq!(peer.state().read(|s| s.conns[0].answers_sent), 1);
    }
}
