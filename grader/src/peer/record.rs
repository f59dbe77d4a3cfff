//! What a client check asks of the grader's server ([`Peer`]), answered once for both
//! servers from what each recorded: a [`Transcript`] (the TCP connections, or the UDP
//! datagrams) says whether the client got in touch, what it sent compared with its lines
//! ([`heard`](super::heard)), and how it said goodbye; [`Peer`] waits on the record with
//! deadlines and reads it.

use super::heard::{self, Heard};
use super::tcp::{Ending, TcpState};
use super::udp::UdpState;
use super::{TcpPeer, UdpPeer, Watch};
use crate::escape;
use crate::gen::show_lines;
use crate::process::{Deadline, Helpers};
use std::time::Duration;

/// What a server recorded of its client, judged against the lines the client was given.
pub(crate) trait Transcript: Send + 'static {
    /// The client has been in touch (connected, or sent a datagram).
    fn contacted(&self) -> bool;
    /// How what arrived compares with `lines`, the first `skip` of them (earlier cases)
    /// left out of the message.
    fn heard(&self, lines: &[Vec<u8>], skip: usize) -> Heard;
    /// True when `line` arrived (as a datagram, or inside the stream).
    fn got(&self, line: &[u8]) -> bool;
    /// All of `lines` arrived and every answer was written.
    fn answered_all(&self, lines: &[Vec<u8>]) -> bool;
    /// Answers whose last byte the server had begun to send.
    fn answers_sent(&self) -> usize;
    /// The client's goodbye has come (TCP: every connection ended; UDP: the empty
    /// datagram), or will not (TCP: it never connected).
    fn goodbye_over(&self) -> bool;
    /// The goodbye after `lines` judged, `ended` telling whether [`Self::goodbye_over`]
    /// became true within `timeout`; `Err` says what the server saw instead.
    fn goodbye(&self, lines: &[Vec<u8>], ended: bool, timeout: Duration) -> Result<(), String>;
    /// What the server has seen of the goodbye so far, for a client that hung.
    fn goodbye_so_far(&self) -> String;
}

/// The grader's server as a client check sees it.
pub(crate) trait Peer: Sized {
    /// What it records.
    type Record: Transcript;
    /// Starts the server.
    fn start() -> std::io::Result<Self>;
    /// Its port, given to the client as `PORT`.
    fn port(&self) -> u16;
    /// What it recorded so far, to read or wait on.
    fn record(&self) -> &Watch<Self::Record>;
    /// Its threads: a client's progress passes through them, so the client's deadlines
    /// count their waits ([`Deadline::with_helpers`]).
    fn helpers(&self) -> &Helpers;
    /// Names the client's process, for the server's own waits on it.
    fn client_is(&self, _pid: u32) {}

    /// The client has been in touch (connected, or sent a datagram).
    fn contacted(&self) -> bool {
        self.record().read(|s| s.contacted())
    }
    /// How what the server received compares with `lines`, the first `skip` of them
    /// (earlier cases) left out of the message.
    fn heard(&self, lines: &[Vec<u8>], skip: usize) -> Heard {
        self.record().read(|s| s.heard(lines, skip))
    }
    /// True when `line` reached the server (as a datagram, or inside the stream).
    fn got(&self, line: &[u8]) -> bool {
        self.record().read(|s| s.got(line))
    }
    /// Waits until the server received all of `lines` and wrote every answer; false
    /// after `timeout` on the clock.
    fn wait_answered(&self, lines: &[Vec<u8>], timeout: Duration) -> bool {
        self.record().wait_until(timeout, |s| s.answered_all(lines))
    }
    /// [`Peer::wait_answered`] until `deadline` passes.
    fn wait_answered_until(&self, lines: &[Vec<u8>], deadline: &mut Deadline) -> bool {
        self.record().wait_for(deadline, |s| s.answered_all(lines))
    }
    /// Answers whose last byte the server had begun to send.
    fn answers_sent(&self) -> usize {
        self.record().read(|s| s.answers_sent())
    }
    /// Waits for the client's goodbye after `lines` (TCP: end of file on its connection;
    /// UDP: the empty datagram) until `deadline` passes, and judges it; `Err` says what
    /// the server saw instead.
    fn goodbye(&self, lines: &[Vec<u8>], deadline: &mut Deadline) -> Result<(), String> {
        let ended = self.record().wait_for(deadline, |s| s.goodbye_over());
        let timeout = deadline.bound();
        self.record().read(|s| s.goodbye(lines, ended, timeout))
    }
    /// What the server has seen of the goodbye so far, for a client that hung.
    fn goodbye_so_far(&self) -> String {
        self.record().read(|s| s.goodbye_so_far())
    }
}

impl Peer for TcpPeer {
    type Record = TcpState;
    fn start() -> std::io::Result<TcpPeer> {
        TcpPeer::start()
    }
    fn port(&self) -> u16 {
        TcpPeer::port(self)
    }
    fn record(&self) -> &Watch<TcpState> {
        self.state()
    }
    fn helpers(&self) -> &Helpers {
        TcpPeer::helpers(self)
    }
    fn client_is(&self, pid: u32) {
        TcpPeer::client_is(self, pid)
    }
}

impl Peer for UdpPeer {
    type Record = UdpState;
    fn start() -> std::io::Result<UdpPeer> {
        UdpPeer::start()
    }
    fn port(&self) -> u16 {
        UdpPeer::port(self)
    }
    fn record(&self) -> &Watch<UdpState> {
        self.state()
    }
    fn helpers(&self) -> &Helpers {
        UdpPeer::helpers(self)
    }
}

impl Transcript for TcpState {
    fn contacted(&self) -> bool {
        !self.conns.is_empty()
    }

    fn heard(&self, lines: &[Vec<u8>], skip: usize) -> Heard {
        heard::stream(&self.received(), lines, skip)
    }

    fn got(&self, line: &[u8]) -> bool {
        self.received().windows(line.len()).any(|w| w == line)
    }

    fn answered_all(&self, lines: &[Vec<u8>]) -> bool {
        let total: usize = lines.iter().map(Vec::len).sum();
        self.answered() >= total && heard::stream(&self.received(), lines, 0) == Heard::All
    }

    fn answers_sent(&self) -> usize {
        self.conns.iter().map(|c| c.answers_sent).sum()
    }

    fn goodbye_over(&self) -> bool {
        self.conns.is_empty() || self.conns.iter().all(|c| c.ending.is_some())
    }

    fn goodbye(&self, lines: &[Vec<u8>], ended: bool, timeout: Duration) -> Result<(), String> {
        if self.conns.is_empty() {
            return Err("the client never connected to the server".into());
        }
        if !ended {
            return Err(format!(
                "the client exited, but its connection was still open {} s later: close the socket (does another process still hold it?)",
                timeout.as_secs()
            ));
        }
        let failed = self.conns.iter().find_map(|c| match &c.ending {
            Some(Ending::Error(e)) => Some(e.clone()),
            _ => None,
        });
        if let Some(e) = failed {
            return Err(format!(
                "the server saw the connection fail ({e}) instead of end cleanly: a client that exits with answer bytes still unread resets the connection; read every answer, then close the socket"
            ));
        }
        let received = self.received();
        match heard::stream(&received, lines, 0) {
            Heard::All => Ok(()),
            _ => Err(format!(
                "the server received {} in all; the lines were {}",
                escape::bytes_short(&received, 80),
                show_lines(lines)
            )),
        }
    }

    fn goodbye_so_far(&self) -> String {
        if self.conns.is_empty() {
            "it never connected".to_string()
        } else if self.conns.iter().all(|c| c.ending.is_some()) {
            "its connection was closed".to_string()
        } else {
            "its connection to the server was still open".to_string()
        }
    }
}

impl Transcript for UdpState {
    fn contacted(&self) -> bool {
        !self.datagrams.is_empty()
    }

    fn heard(&self, lines: &[Vec<u8>], skip: usize) -> Heard {
        heard::datagrams(&self.datagrams, lines, skip)
    }

    fn got(&self, line: &[u8]) -> bool {
        self.datagrams.iter().any(|d| d == line)
    }

    fn answered_all(&self, lines: &[Vec<u8>]) -> bool {
        self.answered >= lines.len() && heard::datagrams(&self.datagrams, lines, 0) == Heard::All
    }

    fn answers_sent(&self) -> usize {
        self.datagrams.iter().filter(|d| !d.is_empty()).count()
    }

    fn goodbye_over(&self) -> bool {
        self.saw_empty()
    }

    fn goodbye(&self, lines: &[Vec<u8>], ended: bool, _timeout: Duration) -> Result<(), String> {
        if !ended {
            return Err(
                "the client exited without sending the empty datagram that tells the server it is gone: send b\"\" before closing the socket".into(),
            );
        }
        let mut expected = lines.to_vec();
        expected.push(Vec::new());
        match heard::datagrams(&self.datagrams, &expected, 0) {
            Heard::All => Ok(()),
            Heard::Part => Err("the server received the empty datagram too early".into()),
            Heard::Wrong(why) => Err(why),
        }
    }

    fn goodbye_so_far(&self) -> String {
        if self.saw_empty() {
            "the server had received the empty datagram".to_string()
        } else {
            "no empty datagram had reached the server".to_string()
        }
    }
}
