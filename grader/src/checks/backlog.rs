//! More clients than a server has workers (the pool server's POOLSIZE), driven through it
//! in waves: each client connects when the listen backlog has room and sends one message;
//! whenever every client the server has taken is answered and nobody else can get in,
//! the oldest answered client leaves, making room for one that waits. This goes on until
//! every client was answered, so later clients wait in the backlog until earlier ones
//! leave, however many the server serves at once.

use crate::checks::clients;
use crate::checks::inspect::ordinal;
use crate::escape;
use crate::gen::upper;
use crate::probe::tcp;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Why the clients did not all get through.
#[derive(Debug)]
pub enum Stuck {
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

/// Drives `total` clients through the server `pid` listening on `addr`, as the module
/// says. `Err` says what went wrong: a client that could not connect, a wrong or missing
/// answer, or no progress within `patience` after the last client came or left.
pub fn roll(pid: u32, addr: SocketAddr, total: usize, patience: Duration) -> Result<(), Stuck> {
    let mut all: Vec<Waiting> = Vec::new();
    let mut last = Instant::now();
    let mut last_event = String::from("the server started");
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
        let queue = clients::queue(pid, addr.port());
        if all.len() < total && clients::has_room(queue) {
            let n = all.len() + 1;
            let message = format!("client {n} of {total}, waiting its turn\n").into_bytes();
            let connected = all.iter().filter(|c| c.stream.is_some()).count();
            let mut stream = tcp::connect(addr, clients::CONNECT).map_err(|e| {
                Stuck::Refused(format!(
                    "while {connected} clients were connected, the {} could not connect ({e}); none may be refused: a client beyond the pool waits in the listen backlog",
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
        if answered >= taken {
            if let Some((i, oldest)) = all
                .iter_mut()
                .enumerate()
                .find(|(_, c)| c.stream.is_some() && c.answered)
            {
                oldest.stream = None;
                last = Instant::now();
                last_event = format!("the {} client left", ordinal(i + 1));
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
                "{served} clients were served (each leaving once served, as later ones waited in the backlog); {} s after {last_event}, the {} {} still had no answer",
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
        roll(std::process::id(), addr, 6, Duration::from_secs(10)).unwrap();
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
        let stuck = roll(std::process::id(), addr, 4, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(stuck, Stuck::Stalled(_)), "{stuck}");
        assert!(
            stuck.to_string().contains("2 clients were served"),
            "{stuck}"
        );
    }
}
