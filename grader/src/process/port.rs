//! Ports for programs. Inside a private network namespace every server gets the lecture's
//! port ([`for_server`]); outside, the kernel picks an unused ephemeral port and the grader
//! remembers what it handed out in this run so two programs started at the same moment
//! never get the same one ([`free`]).

use std::collections::HashSet;
use std::net::{TcpListener, UdpSocket};
use std::sync::Mutex;

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// The port for a server started by the calling thread: `4444` in a private network
/// namespace (lecture code with a hard-coded port works), else a free one.
pub fn for_server() -> std::io::Result<u16> {
    if crate::contain::netns::private() {
        Ok(crate::contain::netns::PORT)
    } else {
        free()
    }
}

/// A port on 127.0.0.1 that is free for both TCP and UDP right now and was not handed out
/// before in this process.
pub fn free() -> std::io::Result<u16> {
    for _ in 0..64 {
        let tcp = TcpListener::bind(("127.0.0.1", 0))?;
        let port = tcp.local_addr()?.port();
        if UdpSocket::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let mut seen = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if seen.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrNotAvailable,
        "no free port found",
    ))
}
