//! One client of the select server: its non-blocking connection and the answers not yet
//! sent, with the rules for when to read and when to write.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};

use nix::poll::PollFlags;

use crate::{net, upper};

/// Unsent answers beyond which the client is not read from until they drain. It bounds
/// the memory a client that sends without reading can take (to this plus one read) and
/// pushes back on it through TCP flow control.
pub(super) const PAUSE_READING_AT: usize = 64 * 1024;

/// A connected client.
pub(super) struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    /// Answers not yet accepted by the socket, oldest first.
    pending: Vec<u8>,
    /// The client closed its sending side: nothing more will be read.
    eof: bool,
}

impl Client {
    /// Wraps a freshly accepted connection, making it non-blocking.
    pub(super) fn new(stream: TcpStream, peer: SocketAddr) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(Self {
            stream,
            peer,
            pending: Vec::new(),
            eof: false,
        })
    }

    /// What to wait for: input while there is room for its answers, output while answers
    /// are pending. Never empty for a client that is kept (see [`Client::on_ready`]).
    pub(super) fn interest(&self) -> PollFlags {
        let mut interest = PollFlags::empty();
        interest.set(PollFlags::POLLIN, self.wants_input());
        interest.set(PollFlags::POLLOUT, !self.pending.is_empty());
        interest
    }

    /// Reacts to readiness `revents`, using `buf` to read. Returns whether to keep the
    /// client: `false` once it has closed its side and has all its answers, or on error
    /// (which is logged). Dropping the client closes its socket.
    pub(super) fn on_ready(&mut self, revents: PollFlags, buf: &mut [u8]) -> bool {
        match self.advance(revents, buf) {
            Ok(()) => !(self.eof && self.pending.is_empty()),
            Err(err) => {
                net::log(format_args!("client {}: {err}", self.peer));
                false
            }
        }
    }

    fn advance(&mut self, revents: PollFlags, buf: &mut [u8]) -> io::Result<()> {
        if revents.contains(PollFlags::POLLNVAL) {
            return Err(io::Error::other("socket became invalid"));
        }
        // An error or hang-up shows up in the next read or write, which then fails.
        let trouble = revents.intersects(PollFlags::POLLERR | PollFlags::POLLHUP);
        if self.wants_input() && (trouble || revents.contains(PollFlags::POLLIN)) {
            self.read(buf)?;
        }
        // Also right after a read: most answers fit in the socket buffer at once.
        if !self.pending.is_empty() {
            self.write()?;
        }
        Ok(())
    }

    fn wants_input(&self) -> bool {
        !self.eof && self.pending.len() < PAUSE_READING_AT
    }

    /// Reads once and queues the upper-case of what came; notes the end of input.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<()> {
        match self.stream.read(buf) {
            Ok(0) => self.eof = true,
            Ok(n) => {
                upper::upper_in_place(&mut buf[..n]);
                self.pending.extend_from_slice(&buf[..n]);
            }
            Err(err) if is_transient(&err) => {}
            Err(err) => return Err(err),
        }
        Ok(())
    }

    /// Writes pending answers until done or the socket's buffer is full.
    fn write(&mut self) -> io::Result<()> {
        let mut sent = 0;
        let result = loop {
            if sent == self.pending.len() {
                break Ok(());
            }
            match self.stream.write(&self.pending[sent..]) {
                Ok(0) => break Err(ErrorKind::WriteZero.into()),
                Ok(n) => sent += n,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => break Ok(()),
                Err(err) => break Err(err),
            }
        };
        self.pending.drain(..sent);
        result
    }
}

impl AsFd for Client {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

/// Errors after which the socket is simply not ready yet.
fn is_transient(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}
