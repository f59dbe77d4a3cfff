//! `select-server` (`server-select.py`): one process, one thread, many clients, multiplexed
//! with `poll` over non-blocking sockets.
//!
//! The lecture's version calls a blocking `send` inside the loop, so one client that sends
//! much and never reads stalls everybody. Here every client has its own output buffer
//! (`client::Client`): answers are written only as far as the socket accepts them, the
//! rest waits for `POLLOUT`, and a client whose unsent answers pile up is not read from
//! until they drain. When a client closes its sending side, what is pending is still sent,
//! then its socket is closed and forgotten.

mod client;

use std::io::{self, ErrorKind};
use std::iter;
use std::net::TcpListener;
use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::{net, upper};
use client::Client;

/// Binds `HOST:PORT` and serves forever.
pub fn run() -> io::Result<()> {
    serve(net::bind_tcp()?)
}

/// Serves forever on an already-bound listener, in the calling thread.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut clients: Vec<Client> = Vec::new();
    let mut buf = vec![0u8; upper::CHUNK];
    loop {
        let ready = wait(&listener, &clients)?;
        // `ready[0]` is the listener's, then one per client in order; `retain_mut` visits
        // each client exactly once, in order, so the two stay in step.
        let mut client_ready = ready[1..].iter();
        clients.retain_mut(|client| {
            let revents = client_ready.next().copied().unwrap_or(PollFlags::empty());
            revents.is_empty() || client.on_ready(revents, &mut buf)
        });
        if !ready[0].is_empty() {
            accept_all(&listener, &mut clients);
        }
    }
}

/// Blocks until the listener or a client is ready for what it waits for; returns the
/// readiness of the listener followed by that of each client.
fn wait(listener: &TcpListener, clients: &[Client]) -> io::Result<Vec<PollFlags>> {
    let mut fds: Vec<PollFd> = iter::once(PollFd::new(listener.as_fd(), PollFlags::POLLIN))
        .chain(clients.iter().map(|c| PollFd::new(c.as_fd(), c.interest())))
        .collect();
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Ok(fds
        .iter()
        .map(|fd| fd.revents().unwrap_or(PollFlags::empty()))
        .collect())
}

/// Accepts every completed connection waiting in the backlog.
fn accept_all(listener: &TcpListener, clients: &mut Vec<Client>) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => match Client::new(stream, peer) {
                Ok(client) => clients.push(client),
                Err(err) => net::log(format_args!("client {peer}: {err}")),
            },
            Err(err) if err.kind() == ErrorKind::WouldBlock => return,
            Err(err) => {
                net::accept_failed(&err);
                return;
            }
        }
    }
}
