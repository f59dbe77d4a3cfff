//! The grader's clients for the concurrency checks: connections opened only when the
//! server's listen backlog has room, kept open as long as a check needs them, and asked
//! one message at a time. Waiting for room matters with the lecture's `listen(1)`: a
//! connection that finds the accept queue full has its SYN dropped and the kernel retries
//! only a second later, so connecting blindly would make every check of a correct server
//! slow, and its timing depend on load.

use crate::checks::stuck::Stuck;
use crate::escape;
use crate::gen::upper;
use crate::probe::tcp::{self, Reading};
use crate::procfs::{self, ListenQueue};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Deadline for connecting (allows for a full `listen(1)` backlog: SYN retried after 1 s).
pub(crate) const CONNECT: Duration = crate::checks::stream::CONNECT;
/// How long to wait for room in the backlog before connecting anyway.
const ROOM: Duration = Duration::from_secs(1);

/// The listen backlog of the server `pid` on `port`, when `/proc` tells.
pub(crate) fn queue(pid: u32, port: u16) -> Option<ListenQueue> {
    procfs::listen_queue(pid, port).ok().flatten()
}

/// True when the backlog can take one more connection without dropping its SYN (when
/// the limit is unknown: when nothing waits in it).
pub(crate) fn has_room(queue: Option<ListenQueue>) -> bool {
    match queue {
        Some(q) => q.queued <= q.limit.unwrap_or(0),
        None => true,
    }
}

/// Connects to the server `pid` listening on `addr`, once its backlog has room (waiting
/// at most a second for it; then the kernel's SYN retries take over, within [`CONNECT`]).
pub(crate) fn connect(pid: u32, addr: SocketAddr) -> std::io::Result<TcpStream> {
    crate::checks::inspect::poll_until(ROOM, || has_room(queue(pid, addr.port())).then_some(()));
    tcp::connect(addr, CONNECT)
}

/// [`connect`] for a client the server must accept now (SPEC: the clients connected
/// before it are within what it must serve at once): when the backlog has no room and
/// the server can certainly never accept the clients waiting in it ([`Stuck`]), the
/// error says so at once instead of waiting for the kernel's SYN retries to give up.
pub(crate) fn connect_now(pid: u32, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut stuck = Stuck::accepting(pid, addr.port());
    let room = crate::checks::inspect::poll_until(ROOM, || {
        if has_room(queue(pid, addr.port())) {
            Some(true)
        } else {
            stuck.certain().then_some(false)
        }
    });
    if room == Some(false) {
        let waiting = queue(pid, addr.port()).map_or(0, |q| q.queued);
        return Err(std::io::Error::other(format!(
            "its listen backlog was full ({waiting} waiting) and the server can never accept them: {}",
            never(&stuck.waits())
        )));
    }
    tcp::connect(addr, CONNECT)
}

/// Waits until the server `pid` has accepted every connection waiting in its backlog;
/// false when some still wait after `timeout` (or `/proc` cannot tell), or as soon as
/// the server can certainly never accept them ([`Stuck`]).
pub(crate) fn all_accepted(pid: u32, port: u16, timeout: Duration) -> bool {
    let mut stuck = Stuck::accepting(pid, port);
    crate::checks::inspect::poll_until(timeout, || match queue(pid, port) {
        Some(q) if q.queued == 0 => Some(true),
        _ => stuck.certain().then_some(false),
    })
    .unwrap_or(false)
}

/// Sends `data` and waits for its upper-case. The error says what came instead, to be
/// put after "sent ...": "and got no answer within 5 s". The connection stays usable.
pub(crate) fn ask(stream: &TcpStream, data: &[u8], timeout: Duration) -> Result<(), String> {
    send(stream, data, timeout)?;
    expect(stream, data, timeout)
}

/// Waits for the upper-case of `data`, sent before.
pub(crate) fn expect(stream: &TcpStream, data: &[u8], timeout: Duration) -> Result<(), String> {
    judge(
        &upper(data),
        &answer(stream, data.len(), timeout, false),
        timeout,
    )
}

/// [`ask`], while another client of the server reads nothing: a server blocked sending to
/// it can never answer either, and is known at once.
pub(crate) fn ask_while_another_reads_nothing(
    stream: &TcpStream,
    data: &[u8],
    timeout: Duration,
) -> Result<(), String> {
    send(stream, data, timeout)?;
    judge(
        &upper(data),
        &answer(stream, data.len(), timeout, true),
        timeout,
    )
}

/// Sends `data` and waits until an answer (of any content) arrives: for checks that
/// judge something else than the answers, which other checks compare.
pub(crate) fn served(stream: &TcpStream, data: &[u8], timeout: Duration) -> Result<(), String> {
    send(stream, data, timeout)?;
    let ex = answer(stream, data.len(), timeout, false);
    if ex.received.is_empty() {
        judge(&upper(data), &ex, timeout)
    } else {
        Ok(())
    }
}

/// Sends `data`; the error reads "could not be sent (...)".
pub(crate) fn send(stream: &TcpStream, data: &[u8], timeout: Duration) -> Result<(), String> {
    let _ = stream.set_write_timeout(Some(timeout));
    let mut out = stream;
    out.write_all(data)
        .map_err(|e| format!("could not be sent ({e})"))
}

/// Why a server that [`Stuck`] judged can never go on: "every thread of the server waits
/// for something else, with nothing to wake it: in waitpid(), recv()".
pub(crate) fn never(waits: &str) -> String {
    format!(
        "every thread of the server waits for something else, with nothing to wake it: in {waits}"
    )
}

/// Reads `len` bytes of answer, or what came until `timeout` (of the server's time, when
/// the thread talks to a known server: [`tcp::talking_to`]) or the end (or until the
/// server can never answer, [`Reading::until_frozen`]; `others_unread`:
/// [`Reading::others_unread`]).
fn answer(stream: &TcpStream, len: usize, timeout: Duration, others_unread: bool) -> tcp::Exchange {
    // The whole deadline is for the answer to start: no shorter stall limit.
    let reading = Reading {
        stall: timeout,
        until_frozen: true,
        others_unread,
        ..Reading::exact(len, timeout)
    };
    tcp::await_answer(stream, &reading)
}

/// Compares an answer with what was expected; the error reads "and got ...".
pub(crate) fn judge(expected: &[u8], ex: &tcp::Exchange, timeout: Duration) -> Result<(), String> {
    if ex.received == expected {
        return Ok(());
    }
    let ending = match ex.ending() {
        e if e.is_empty() => String::new(),
        e => format!(" ({e})"),
    };
    if ex.received.is_empty() {
        if ex.eof || ex.read_error.is_some() {
            return Err(format!("got no answer: the connection was closed{ending}"));
        }
        if let Some(waits) = &ex.frozen {
            return Err(format!("got no answer, and never will: {}", never(waits)));
        }
        return Err(format!("got no answer within {} s", timeout.as_secs_f64()));
    }
    if ex.received.len() < expected.len() && expected.starts_with(&ex.received) {
        return Err(format!(
            "got only the first {} of {} bytes, {}{ending}",
            ex.received.len(),
            expected.len(),
            escape::bytes_short(&ex.received, 60)
        ));
    }
    Err(format!(
        "got a wrong answer: {}{ending}",
        escape::first_difference(expected, &ex.received).unwrap_or_default()
    ))
}

/// Whatever has arrived on `stream` and was not read yet, without waiting.
pub(crate) fn unread(stream: &TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    if stream.set_nonblocking(true).is_err() {
        return got;
    }
    let mut buf = [0u8; 4096];
    let mut input = stream;
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = stream.set_nonblocking(false);
    got
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(received: &[u8], eof: bool) -> tcp::Exchange {
        tcp::Exchange {
            received: received.to_vec(),
            eof,
            timed_out: !eof,
            ..tcp::Exchange::default()
        }
    }

    #[test]
    fn judges_say_what_came_instead() {
        let t = Duration::from_secs(3);
        assert_eq!(judge(b"AB", &ex(b"AB", false), t), Ok(()));
        assert_eq!(
            judge(b"AB", &ex(b"", false), t).unwrap_err(),
            "got no answer within 3 s"
        );
        assert!(judge(b"AB", &ex(b"", true), t)
            .unwrap_err()
            .contains("connection was closed"));
        assert!(judge(b"ABC", &ex(b"A", false), t)
            .unwrap_err()
            .contains("only the first 1 of 3 bytes"));
        assert!(judge(b"AB", &ex(b"ab", false), t)
            .unwrap_err()
            .contains("wrong answer"));
    }

    #[test]
    fn knows_when_the_server_took_its_clients_and_reads_answers() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let pid = std::process::id();
        let client = connect(pid, addr).unwrap();
        if procfs::available() {
            assert!(!all_accepted(pid, addr.port(), Duration::from_millis(50)));
        }
        let (mut peer, _) = listener.accept().unwrap();
        if procfs::available() {
            assert!(all_accepted(pid, addr.port(), Duration::from_secs(5)));
        }
        std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let n = peer.read(&mut buf).unwrap();
            peer.write_all(&upper(&buf[..n])).unwrap();
            peer.read_exact(&mut buf[..4]).unwrap();
            peer.write_all(b"extra").unwrap();
        });
        assert_eq!(ask(&client, b"hi there", Duration::from_secs(5)), Ok(()));
        send(&client, b"more", Duration::from_secs(5)).unwrap();
        let extra = crate::checks::inspect::poll_until(Duration::from_secs(5), || {
            Some(unread(&client)).filter(|u| !u.is_empty())
        });
        assert_eq!(extra.as_deref(), Some(&b"extra"[..]));
    }

    #[test]
    fn room_follows_the_kernel_rule() {
        let q = |queued, limit| {
            Some(ListenQueue {
                port: 1,
                queued,
                limit,
            })
        };
        assert!(has_room(None));
        assert!(has_room(q(1, Some(1))));
        assert!(!has_room(q(2, Some(1))));
        assert!(has_room(q(0, None)));
        assert!(!has_room(q(1, None)));
    }
}
