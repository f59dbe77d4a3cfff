//! `thread-server` (`server-thread.py`): one thread per client, like the lecture's
//! `ClientSocket(threading.Thread)`. Each thread owns its connection and ends when its
//! client leaves; the main thread only accepts.

use std::io;
use std::net::TcpListener;
use std::thread;

use crate::net;

/// Binds `HOST:PORT` and serves forever.
pub fn run() -> io::Result<()> {
    serve(net::bind_tcp()?)
}

/// Accepts clients forever on an already-bound listener, handing each to a new detached
/// thread (the lecture's `daemon=True`: nobody joins it).
pub fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) => {
                net::accept_failed(&err);
                continue;
            }
        };
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || net::serve_client(stream, peer));
        // Without a thread the client cannot be served: its connection is closed (the
        // closure, and the stream with it, is dropped) and the server goes on.
        if let Err(err) = spawned {
            net::log(format_args!("client {peer}: cannot start a thread: {err}"));
        }
    }
}
