//! The UDP probe: a socket of its own, "connected" to the server so that only the
//! server's datagrams reach it, with a deadline on every receive. The deadline counts the
//! server's own time when the thread talks to a known server
//! ([`talking_to`](super::server::talking_to)): a server starved of CPU by a busy machine
//! is not failed for silence, while one that sleeps without answering is judged at the
//! bound. Before a wait ends in "nothing came", the socket is looked at once more.

use super::server::server_wait;
use crate::process::Deadline;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Largest datagram the probe accepts (the server may answer up to 1024 bytes).
const MAX_DATAGRAM: usize = 65_536;

/// A wait shorter than this is on the clock alone (most answers come at once; reading
/// `/proc` for each would be waste); it is grace on top of the bound.
const NOTICE: Duration = Duration::from_millis(50);

/// A UDP client of the server under test.
pub(crate) struct UdpProbe {
    socket: UdpSocket,
}

impl UdpProbe {
    /// A new client socket on 127.0.0.1 talking to `server`.
    pub(crate) fn new(server: SocketAddr) -> std::io::Result<UdpProbe> {
        let socket = UdpSocket::bind(("127.0.0.1", 0))?;
        socket.connect(server)?;
        Ok(UdpProbe { socket })
    }

    /// Sends one datagram.
    pub(crate) fn send(&self, data: &[u8]) -> std::io::Result<()> {
        self.socket.send(data).map(|_| ())
    }

    /// The next datagram, or `None` when none came within `timeout` (of the server's
    /// time, see the module's doc). An ICMP "port unreachable" (the server is gone) is
    /// `Err(ConnectionRefused)`.
    pub(crate) fn recv(&self, timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
        let mut wait = Wait::new(timeout);
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let (slice, last) = wait.next();
            self.socket
                .set_read_timeout(Some(slice.max(Duration::from_millis(1))))?;
            match self.socket.recv(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(Some(buf));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    if last {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends `data` and waits for one answer.
    pub(crate) fn ask(&self, data: &[u8], timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
        self.send(data)?;
        self.recv(timeout)
    }
}

/// Waits until one of `probes` has a datagram (or an error) to read, at most `timeout`
/// (of the server's time, see the module's doc); returns its index. Event-driven
/// (`poll(2)`), so an answer is seen the moment it lands.
pub(crate) fn wait_any(probes: &[UdpProbe], timeout: Duration) -> Option<usize> {
    let mut fds: Vec<libc::pollfd> = probes
        .iter()
        .map(|p| libc::pollfd {
            fd: p.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut wait = Wait::new(timeout);
    loop {
        let (slice, last) = wait.next();
        // Rounded up: a poll of 0 ms would spin.
        let ms = slice.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of pollfd of the given length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n > 0 {
            return fds.iter().position(|f| f.revents != 0);
        }
        if n == 0 && last {
            return None;
        }
        // n < 0: interrupted; n == 0: look at the deadline again.
    }
}

/// A wait for the server's answer: [`NOTICE`] on the clock, then `bound` of the server's
/// time; it hands out the slices to block for, the last one a short final look.
struct Wait {
    started: Instant,
    bound: Duration,
    deadline: Option<Deadline>,
}

impl Wait {
    fn new(bound: Duration) -> Wait {
        Wait {
            started: Instant::now(),
            bound,
            deadline: None,
        }
    }

    /// How long to block next, and whether that is the final look (the bound passed).
    fn next(&mut self) -> (Duration, bool) {
        let quiet = self.started.elapsed();
        if quiet < NOTICE.min(self.bound) {
            return (NOTICE.min(self.bound) - quiet, false);
        }
        if self.bound <= NOTICE {
            return (Duration::ZERO, true);
        }
        let bound = self.bound;
        let deadline = self.deadline.get_or_insert_with(|| server_wait(bound));
        if deadline.passed() {
            (Duration::ZERO, true)
        } else {
            (deadline.remaining().max(Duration::from_millis(1)), false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::server::talking_to;
    use std::process::{Command, Stdio};

    #[test]
    fn an_answer_is_read_and_silence_ends_at_the_bound_of_a_sleeping_server() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let probe = UdpProbe::new(server.local_addr().unwrap()).unwrap();
        // The "server" whose time counts: a process that sleeps, so its time runs at the
        // clock's pace and silence is judged at the bound.
        let mut sleeper = Command::new("sleep")
            .arg("60")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = sleeper.id();
        talking_to(Some(pid), || {
            probe.send(b"hi").unwrap();
            let mut buf = [0u8; 16];
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server
                .send_to(&buf[..n].to_ascii_uppercase(), from)
                .unwrap();
            assert_eq!(
                probe.recv(Duration::from_secs(30)).unwrap(),
                Some(b"HI".to_vec())
            );
            let start = Instant::now();
            assert_eq!(probe.recv(Duration::from_millis(300)).unwrap(), None);
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(300) && took < Duration::from_secs(10),
                "{took:?}"
            );
            // wait_any: the same bound; a datagram waiting is seen at once.
            let start = Instant::now();
            assert_eq!(
                wait_any(std::slice::from_ref(&probe), Duration::from_millis(300)),
                None
            );
            assert!(start.elapsed() >= Duration::from_millis(300));
            server
                .send_to(b"X", probe.socket.local_addr().unwrap())
                .unwrap();
            assert_eq!(
                wait_any(std::slice::from_ref(&probe), Duration::from_secs(30)),
                Some(0)
            );
        });
        let _ = sleeper.kill();
        let _ = sleeper.wait();
    }

    #[test]
    fn the_last_look_reads_what_came_at_the_deadline() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let probe = UdpProbe::new(server.local_addr().unwrap()).unwrap();
        probe.send(b"x").unwrap();
        let mut buf = [0u8; 16];
        let (_, from) = server.recv_from(&mut buf).unwrap();
        server.send_to(b"X", from).unwrap();
        // Once it has surely landed, a bound of zero still reads it.
        let mut ready = [libc::pollfd {
            fd: probe.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: a valid array of one pollfd.
        assert_eq!(unsafe { libc::poll(ready.as_mut_ptr(), 1, 30_000) }, 1);
        assert_eq!(probe.recv(Duration::ZERO).unwrap(), Some(b"X".to_vec()));
    }
}
