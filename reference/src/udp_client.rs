//! `udp-client` (`client2.py`): sends each stdin line as one datagram and prints the
//! answering datagram as `Output: <answer>`; when done, sends an empty datagram to let the
//! server know it is gone.

use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};

use crate::{env, input};

/// The largest answer received whole (the largest UDP payload is 65507 bytes).
pub const MAX_ANSWER: usize = 65536;

/// Talks to `HOST:PORT` with stdin and stdout.
pub fn run() -> io::Result<()> {
    talk(env::address()?, io::stdin().lock(), io::stdout().lock())
}

/// "Connects" a UDP socket to `addr` (no packet is sent: it only fixes the peer), then for
/// each line of `input` sends it as one datagram, receives one answer and prints
/// `Output: <answer>` to `output`. At an empty line or the end of input, sends one empty
/// datagram and returns `Ok`.
pub fn talk<A, R, W>(addr: A, mut input: R, mut output: W) -> io::Result<()>
where
    A: ToSocketAddrs,
    R: BufRead,
    W: Write,
{
    let socket = connect(addr)?;
    let mut answer = vec![0u8; MAX_ANSWER];
    loop {
        input::prompt(&mut output)?;
        let Some(request) = input::read_line(&mut input)? else {
            socket.send(b"")?;
            return Ok(());
        };
        socket.send(&request)?;
        let n = socket.recv(&mut answer)?;
        output.write_all(b"Output: ")?;
        output.write_all(&answer[..n])?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
}

/// A UDP socket on an ephemeral local port of the right family, connected to `addr`.
fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
    let peer = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to talk to"))?;
    let local: SocketAddr = match peer {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(peer)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use std::thread;

    use super::*;
    use crate::upper;

    #[test]
    fn prints_each_answer_then_sends_an_empty_datagram() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let received = thread::spawn(move || {
            let mut seen = Vec::new();
            let mut buf = [0u8; 65536];
            loop {
                let (n, from) = server.recv_from(&mut buf).unwrap();
                seen.push(buf[..n].to_vec());
                if n == 0 {
                    return seen;
                }
                server.send_to(&upper::upper(&buf[..n]), from).unwrap();
            }
        });
        let long = "y".repeat(3000);
        let input = format!("hi there\n{long}\n");
        let mut output = Vec::new();
        talk(addr, input.as_bytes(), &mut output).unwrap();

        let expected = format!(
            "Input: Output: HI THERE\nInput: Output: {}\nInput: ",
            long.to_uppercase()
        );
        assert_eq!(String::from_utf8(output).unwrap(), expected);
        let seen = received.join().unwrap();
        assert_eq!(
            seen,
            vec![b"hi there".to_vec(), long.into_bytes(), Vec::new()]
        );
    }
}
