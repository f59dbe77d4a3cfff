//! The grader's own servers, for grading clients (`tcp-client`, `udp-client`). They run on
//! threads of the grader on 127.0.0.1 (on the lecture's port 4444 inside a private
//! network namespace, so a client with `PORT = 4444` in its file works; on a free port
//! otherwise), answer with the lecture's upper-case
//! ([`reference::upper::upper`]) and record exactly what they received and how each
//! conversation ended, so a check can judge the client from both sides. They inject the
//! faults a real network causes: answers cut into small delayed fragments, answers longer
//! than one `recv(1024)`. Checks wait on the recorded state ([`Watch`]), never by sleeping;
//! [`Peer`] is what a client check asks of either server, answered once from what it
//! recorded ([`record`]), judged against the client's lines by [`heard`].

pub(crate) mod heard;
pub(crate) mod record;
pub(crate) mod tcp;
pub(crate) mod udp;
pub(crate) mod watch;

pub(crate) use record::Peer;
pub(crate) use tcp::{Answer, Piece, TcpPeer};
pub(crate) use udp::UdpPeer;
pub(crate) use watch::Watch;

use crate::process::port;
use std::io;

/// Binds with `bind` on the lecture's port inside a private network namespace (the
/// calling thread's; one peer per namespace), else on a port no other program of this
/// run was given (the kernel's own choice could be a port just handed to a server that
/// has not bound it yet).
fn bind_free<S>(bind: impl Fn(u16) -> io::Result<S>) -> io::Result<S> {
    if crate::contain::netns::private() {
        return bind(crate::contain::netns::PORT);
    }
    let mut last = None;
    for _ in 0..16 {
        match bind(port::free()?) {
            Ok(socket) => return Ok(socket),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free port")))
}
