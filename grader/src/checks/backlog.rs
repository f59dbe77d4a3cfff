//! More clients than a server has workers (the pool server's POOLSIZE), driven through it
//! in waves: each client connects when the listen backlog has room and sends one message;
//! when nobody else can get in, the oldest answered client leaves, making room for one
//! that waits. It leaves as soon as every client the server has taken is answered (the
//! waiting ones sit in the listen backlog, as in the lecture's pool), or once nothing has
//! moved for [`SETTLE`] (the server accepted them and queues them itself, as a
//! `ThreadPoolExecutor` does): both designs are correct (SPEC section 3), and leaving
//! early only makes room. This goes on until every client was answered. The first
//! clients to leave may do so with a reset (RST) instead of a normal close, which a
//! correct worker survives.

use crate::checks::grader_clients;
use crate::checks::inspect::ordinal;
use crate::escape;
use crate::gen::upper;
use crate::probe::tcp;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long nothing may move before an answered client leaves although some clients the
/// server took are not answered yet (they wait in the program's own queue).
const SETTLE: Duration = Duration::from_millis(100);

/// Why the clients did not all get through.
#[derive(Debug)]
pub(crate) enum Stuck {
    /// A client could not connect.
    Refused(String),
    /// A client's connection ended before its answer came.
    Closed(String),
    /// A client got a wrong answer.
    Wrong(String),
    /// Some clients were still without an answer when nothing had moved for a while.
    Stalled(String),
}

impl std::fmt::Display for Stuck {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Stuck::Refused(m) | Stuck::Closed(m) | Stuck::Wrong(m) | Stuck::Stalled(m) => {
                f.write_str(m)
            }
        }
    }
}

/// One client of the wave.
struct Waiting {
    stream: Option<TcpStream>,
    message: Vec<u8>,
    received: Vec<u8>,
    answered: bool,
}

impl Waiting {
    /// Reads what arrived; `Err` when the connection ended or the answer is wrong.
    fn read(&mut self, n: usize) -> Result<(), Stuck> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    return Err(Stuck::Closed(format!(
                        "the {} client sent {} and got {}: the connection was closed",
                        ordinal(n),
                        escape::bytes(&self.message),
                        if self.received.is_empty() {
                            "no answer".to_string()
                        } else {
                            escape::bytes_short(&self.received, 40)
                        }
                    )))
                }
                Ok(k) => self.received.extend_from_slice(&buf[..k]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Stuck::Closed(format!(
                        "the {} client sent {} and got no answer: {e}",
                        ordinal(n),
                        escape::bytes(&self.message)
                    )))
                }
            }
        }
        let expected = upper(&self.message);
        if self.received.len() >= expected.len() {
            if self.received != expected {
                return Err(Stuck::Wrong(format!(
                    "the {} client sent {} and got a wrong answer: {}",
                    ordinal(n),
                    escape::bytes(&self.message),
                    escape::first_difference(&expected, &self.received).unwrap_or_default()
                )));
            }
            self.answered = true;
        }
        Ok(())
    }
}

/// Leaves with a reset: `SO_LINGER` 0, then close, so the kernel sends RST at once.
fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
}

/// Drives `total` clients through the server `pid` listening on `addr`, as the module
/// says; the first `resets` clients to leave do so with a reset, the others with a normal
/// close. `Err` says what went wrong: a client that could not connect, a wrong or missing
/// answer, or no progress within `patience` after the last client came or left.
pub(crate) fn roll(
    pid: u32,
    addr: SocketAddr,
    total: usize,
    resets: usize,
    patience: Duration,
) -> Result<(), Stuck> {
    let mut all: Vec<Waiting> = Vec::new();
    let mut last = Instant::now();
    let mut last_event = String::from("the server started");
    let mut left = 0;
    loop {
        for (i, c) in all.iter_mut().enumerate() {
            if !c.answered {
                let before = c.received.len();
                c.read(i + 1)?;
                if c.received.len() > before {
                    last = Instant::now();
                }
            }
        }
        if all.len() == total && all.iter().all(|c| c.answered) {
            return Ok(());
        }
        let queue = grader_clients::queue(pid, addr.port());
        if all.len() < total && grader_clients::has_room(queue) {
            let n = all.len() + 1;
            let message = format!("client {n} of {total}, waiting its turn\n").into_bytes();
            let connected = all.iter().filter(|c| c.stream.is_some()).count();
            let mut stream = tcp::connect(addr, grader_clients::CONNECT).map_err(|e| {
                Stuck::Refused(format!(
                    "while {connected} clients were connected, the {} could not connect ({e}); none may be refused: a client beyond the pool waits (in the listen backlog, or accepted and queued by the server)",
                    ordinal(n)
                ))
            })?;
            stream
                .write_all(&message)
                .and_then(|()| stream.set_nonblocking(true))
                .map_err(|e| {
                    Stuck::Refused(format!("the {} client could not send: {e}", ordinal(n)))
                })?;
            all.push(Waiting {
                stream: Some(stream),
                message,
                received: Vec::new(),
                answered: false,
            });
            last = Instant::now();
            last_event = format!("the {} client connected", ordinal(n));
            continue;
        }
        let connected = all.iter().filter(|c| c.stream.is_some()).count();
        let queued = queue.map_or(0, |q| q.queued as usize);
        let taken = connected.saturating_sub(queued);
        let answered = all
            .iter()
            .filter(|c| c.stream.is_some() && c.answered)
            .count();
        if answered >= taken || last.elapsed() >= SETTLE {
            if let Some((i, oldest)) = all
                .iter_mut()
                .enumerate()
                .find(|(_, c)| c.stream.is_some() && c.answered)
            {
                let how = match oldest.stream.take() {
                    Some(s) if left < resets => {
                        reset(s);
                        " with a reset (RST)"
                    }
                    _ => "",
                };
                left += 1;
                last = Instant::now();
                last_event = format!("the {} client left{how}", ordinal(i + 1));
                continue;
            }
        }
        if last.elapsed() >= patience {
            let waiting: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.answered)
                .map(|(i, _)| ordinal(i + 1))
                .collect();
            let served = all.iter().filter(|c| c.answered).count();
            return Err(Stuck::Stalled(format!(
                "{served} clients were served (each leaving once served, {}, while later ones waited); {} s after {last_event}, the {} {} still had no answer",
                match resets.min(left) {
                    0 => "with a normal close".to_string(),
                    r if r == left => "with a reset (RST)".to_string(),
                    r => format!("the first {r} with a reset (RST), then with a normal close"),
                },
                patience.as_secs(),
                waiting.join(", "),
                if waiting.len() == 1 { "client" } else { "clients" }
            )));
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn listener() -> (TcpListener, SocketAddr) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        (l, addr)
    }

    #[test]
    fn a_pool_serves_three_times_its_size_in_waves() {
        let (l, addr) = listener();
        std::thread::spawn(move || reference::pool_server::serve(l, 2));
        roll(std::process::id(), addr, 6, 2, Duration::from_secs(10)).unwrap();
    }

    #[test]
    fn workers_that_serve_one_client_each_stall_the_wave() {
        let (l, addr) = listener();
        let l = std::sync::Arc::new(l);
        for _ in 0..2 {
            let l = std::sync::Arc::clone(&l);
            std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = s.read(&mut buf) {
                    s.write_all(&upper(&buf[..n])).unwrap();
                }
            });
        }
        let stuck = roll(std::process::id(), addr, 4, 0, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(stuck, Stuck::Stalled(_)), "{stuck}");
        assert!(
            stuck.to_string().contains("2 clients were served"),
            "{stuck}"
        );
    }

    /// Serves one connection until it ends; `Err` when a read or write fails.
    fn serve(mut s: TcpStream) -> std::io::Result<()> {
        let mut buf = [0u8; 1024];
        loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            s.write_all(&upper(&buf[..n]))?;
        }
    }

    #[test]
    fn a_pool_that_accepts_everyone_and_queues_them_itself_is_served_in_waves() {
        // The ThreadPoolExecutor design: the main thread accepts every client at once
        // and hands it to a queue that 2 workers take from.
        let (l, addr) = listener();
        let (tx, rx) = std::sync::mpsc::channel::<TcpStream>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for _ in 0..2 {
            let rx = std::sync::Arc::clone(&rx);
            std::thread::spawn(move || loop {
                let next = rx.lock().unwrap().recv();
                let Ok(conn) = next else { return };
                let _ = serve(conn);
            });
        }
        std::thread::spawn(move || {
            for conn in l.incoming() {
                tx.send(conn.unwrap()).unwrap();
            }
        });
        roll(std::process::id(), addr, 5, 2, Duration::from_secs(10)).unwrap();
    }

    #[test]
    fn workers_that_die_when_a_client_resets_stall_the_wave() {
        let (l, addr) = listener();
        let l = std::sync::Arc::new(l);
        for _ in 0..2 {
            let l = std::sync::Arc::clone(&l);
            // A worker that ends at the first failed read, as an uncaught
            // ConnectionResetError ends a Python thread.
            std::thread::spawn(move || {
                while let Ok((s, _)) = l.accept() {
                    if serve(s).is_err() {
                        return;
                    }
                }
            });
        }
        // With normal closes the same workers serve everybody...
        roll(std::process::id(), addr, 5, 0, Duration::from_secs(10)).unwrap();
        // ...but two resets leave no worker for the last clients.
        let stuck = roll(std::process::id(), addr, 5, 2, Duration::from_millis(500)).unwrap_err();
        assert!(matches!(stuck, Stuck::Stalled(_)), "{stuck}");
        assert!(stuck.to_string().contains("with a reset"), "{stuck}");
    }
}
