//! Plumbing shared by the TCP servers: binding from the environment, serving one accepted
//! client without letting its failure escape, and surviving a failed `accept`.

use std::io::{self, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::{env, upper};

/// How long a server waits after an `accept` failed for lack of resources (descriptors,
/// memory), so that it does not spin while the shortage lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Binds a TCP listener on `HOST:PORT`.
///
/// std's `TcpListener::bind` sets `SO_REUSEADDR` on Unix before binding (checked by a
/// test), so a server restarted while an old connection lingers in `TIME_WAIT` binds at once.
pub fn bind_tcp() -> io::Result<TcpListener> {
    let addr = env::address()?;
    TcpListener::bind(addr).map_err(|err| with_context(err, &format!("cannot bind {addr}")))
}

/// Serves one client to the end (see [`upper::echo_upper`]) and closes the connection.
/// A failing client is logged, never propagated: it must not take the server down.
pub fn serve_client(mut stream: TcpStream, peer: SocketAddr) {
    if let Err(err) = upper::echo_upper(&mut stream) {
        log(format_args!("client {peer}: {err}"));
    }
}

/// Decides what a server does after `accept` failed: a client that gave up before being
/// accepted or an interrupted call is simply retried; anything else (out of descriptors or
/// memory) is logged and followed by a short pause.
pub fn accept_failed(err: &io::Error) {
    match err.kind() {
        ErrorKind::ConnectionAborted | ErrorKind::Interrupted | ErrorKind::WouldBlock => {}
        _ => {
            log(format_args!("accept failed: {err}"));
            std::thread::sleep(ACCEPT_BACKOFF);
        }
    }
}

/// Writes one diagnostic line to stderr. Unlike `eprintln!` it never panics (stderr may be
/// a closed pipe), so logging cannot kill a server thread.
pub fn log(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "{message}");
}

/// Prefixes an error's message with what was being done, keeping its kind.
pub fn with_context(err: io::Error, what: &str) -> io::Error {
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::fd::AsRawFd;

    use nix::errno::Errno;
    use nix::sys::socket::{
        bind, getsockopt, socket, sockopt::ReuseAddr, AddressFamily, SockFlag, SockType, SockaddrIn,
    };

    use super::*;

    #[test]
    fn std_listeners_set_so_reuseaddr() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(getsockopt(&listener, ReuseAddr).unwrap());
    }

    /// The `reuse-addr` scenario: the server side closed an exchanged connection first (so
    /// it lingers in TIME_WAIT) and the listener is gone. A socket without SO_REUSEADDR
    /// cannot bind the port (which proves the scenario is real); std's listener can.
    #[test]
    fn rebinding_a_port_with_a_lingering_connection_succeeds() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).unwrap();
        let (mut server_side, _) = listener.accept().unwrap();
        server_side.write_all(b"x").unwrap();
        let mut byte = [0u8; 1];
        client.read_exact(&mut byte).unwrap();
        drop(server_side);
        assert_eq!(
            client.read(&mut byte).unwrap(),
            0,
            "server side did not close"
        );
        drop(client);
        drop(listener);

        let plain = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )
        .unwrap();
        let SocketAddr::V4(v4) = addr else {
            unreachable!()
        };
        assert_eq!(
            bind(plain.as_raw_fd(), &SockaddrIn::from(v4)),
            Err(Errno::EADDRINUSE),
            "the old connection does not linger: this test proves nothing"
        );
        TcpListener::bind(addr).expect("rebinding failed: SO_REUSEADDR missing?");
    }
}
