//! `udp-upper` (`server2.py`): answers each datagram with its upper-case, sent back to the
//! datagram's sender, until an empty datagram (the lecture client's "let the server know
//! we are gone") ends it.

use std::io::{self, ErrorKind};
use std::net::UdpSocket;

use crate::{env, net, upper};

/// The largest datagram answered whole: the lecture's `recvfrom(1024)`. A longer one is
/// truncated to this, as in the lecture.
pub const MAX_DATAGRAM: usize = 1024;

/// Binds `HOST:PORT` and serves until an empty datagram arrives.
pub fn run() -> io::Result<()> {
    let addr = env::address()?;
    let socket = UdpSocket::bind(addr)
        .map_err(|err| net::with_context(err, &format!("cannot bind {addr}")))?;
    serve(socket)
}

/// Serves on an already-bound socket; returns `Ok` when an empty datagram arrives (the
/// socket is closed when dropped).
pub fn serve(socket: UdpSocket) -> io::Result<()> {
    let mut buf = [0u8; MAX_DATAGRAM];
    loop {
        let (n, sender) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            // A previous answer bounced (ICMP port unreachable): that client is gone.
            Err(err) if is_about_a_peer(&err) => continue,
            Err(err) => return Err(err),
        };
        if n == 0 {
            return Ok(());
        }
        upper::upper_in_place(&mut buf[..n]);
        // A datagram is sent whole or not at all; a lost answer is UDP's business.
        if let Err(err) = socket.send_to(&buf[..n], sender) {
            net::log(format_args!("client {sender}: {err}"));
        }
    }
}

/// Errors that concern one peer, not the socket.
fn is_about_a_peer(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use std::thread;
    use std::time::Duration;

    use super::*;

    fn exchange(client: &UdpSocket, datagram: &[u8]) -> Vec<u8> {
        client.send(datagram).unwrap();
        let mut buf = [0u8; 65536];
        let n = client.recv(&mut buf).expect("no answer");
        buf[..n].to_vec()
    }

    fn client_of(server: &UdpSocket) -> UdpSocket {
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(server.local_addr().unwrap()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client
    }

    #[test]
    fn answers_each_sender_then_an_empty_datagram_ends_it() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (a, b) = (client_of(&server), client_of(&server));
        let running = thread::spawn(move || serve(server));

        let binary: Vec<u8> = (0..=255)
            .chain(0..=255)
            .chain(0..=255)
            .chain(0..=255)
            .collect();
        assert_eq!(binary.len(), MAX_DATAGRAM);
        assert_eq!(exchange(&a, b"hello, world"), b"HELLO, WORLD");
        assert_eq!(exchange(&b, &binary), upper::upper(&binary));
        assert_eq!(exchange(&a, b" \t x"), b" \t X");

        a.send(b"").unwrap();
        running.join().unwrap().expect("server failed");
    }
}
