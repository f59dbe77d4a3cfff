//! Clients that probe servers from outside: a TCP client that writes a stream as timed
//! fragments while reading concurrently (fast or slow), half-closes and waits for EOF
//! ([`tcp`]), and a UDP client with per-datagram deadlines ([`udp`]). Written once,
//! used by every server task; their waits count the time of the server they talk to
//! ([`server`]).

pub(crate) mod server;
pub(crate) mod tcp;
pub(crate) mod udp;
