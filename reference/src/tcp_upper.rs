//! `tcp-upper` (`server1.py`): the iterative TCP upper-case server. It serves one client at
//! a time, to the end, then accepts the next; a second client waits in the listen backlog.

use std::io;
use std::net::TcpListener;

use crate::net;

/// Binds `HOST:PORT` and serves forever.
pub fn run() -> io::Result<()> {
    serve(net::bind_tcp()?)
}

/// Serves clients one after another on an already-bound listener, forever. Only a failure
/// of the listener itself could end it; a failing client is logged and forgotten.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => net::serve_client(stream, peer),
            Err(err) => net::accept_failed(&err),
        }
    }
}
