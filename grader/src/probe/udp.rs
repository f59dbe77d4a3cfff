//! The UDP probe: a socket of its own, "connected" to the server so that only the
//! server's datagrams reach it, with a deadline on every receive.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// Largest datagram the probe accepts (the server may answer up to 1024 bytes).
const MAX_DATAGRAM: usize = 65_536;

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

    /// The next datagram, or `None` when none came within `timeout`.
    /// An ICMP "port unreachable" (the server is gone) is `Err(ConnectionRefused)`.
    pub(crate) fn recv(&self, timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match self.socket.recv(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                Ok(Some(buf))
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends `data` and waits for one answer.
    pub(crate) fn ask(&self, data: &[u8], timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
        self.send(data)?;
        self.recv(timeout)
    }
}

/// Waits until one of `probes` has a datagram (or an error) to read, at most `timeout`;
/// returns its index. Event-driven (`poll(2)`), so an answer is seen the moment it lands.
pub(crate) fn wait_any(probes: &[UdpProbe], timeout: Duration) -> Option<usize> {
    use std::os::fd::AsRawFd;
    let mut fds: Vec<libc::pollfd> = probes
        .iter()
        .map(|p| libc::pollfd {
            fd: p.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of pollfd of the given length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n > 0 {
            return fds.iter().position(|f| f.revents != 0);
        }
        if n == 0 || left.is_zero() {
            return None;
        }
        // n < 0: interrupted; try again until the deadline.
    }
}
