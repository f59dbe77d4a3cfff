//! The UDP probe: a socket of its own, "connected" to the server so that only the
//! server's datagrams reach it, with a deadline on every receive.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// Largest datagram the probe accepts (the server may answer up to 1024 bytes).
const MAX_DATAGRAM: usize = 65_536;

/// A UDP client of the server under test.
pub struct UdpProbe {
    socket: UdpSocket,
}

impl UdpProbe {
    /// A new client socket on 127.0.0.1 talking to `server`.
    pub fn new(server: SocketAddr) -> std::io::Result<UdpProbe> {
        let socket = UdpSocket::bind(("127.0.0.1", 0))?;
        socket.connect(server)?;
        Ok(UdpProbe { socket })
    }

    /// Sends one datagram.
    pub fn send(&self, data: &[u8]) -> std::io::Result<()> {
        self.socket.send(data).map(|_| ())
    }

    /// The next datagram, or `None` when none came within `timeout`.
    /// An ICMP "port unreachable" (the server is gone) is `Err(ConnectionRefused)`.
    pub fn recv(&self, timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
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
    pub fn ask(&self, data: &[u8], timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
        self.send(data)?;
        self.recv(timeout)
    }
}
