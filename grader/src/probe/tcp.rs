//! The TCP probe. A stream is written as [`Fragment`]s with pauses between them
//! (TCP_NODELAY, so each fragment leaves at once and the peer's `recv` sees it apart),
//! while another thread reads what comes back, optionally slowly so that the server's send
//! buffer fills. Every wait has a deadline; the result says what came back and how the
//! exchange ended, so checks can explain failures.
//!
//! The waits that judge the server (the whole exchange's `timeout`, its answer stalled
//! for [`STALL`], it did not close within `eof_timeout`, it stopped reading for [`HOLD`])
//! count the server's own time when the caller says which process it is
//! ([`talking_to`]): a server starved of CPU by a busy machine is neither failed for
//! silence nor read early (which would drain its buffers before the EOF that `eof` wants
//! it to see with answers still pending). Before a wait ends in "nothing came", what has
//! arrived by then is read: the grader's own thread may be the one that was starved.
//! Two of those waits also end as soon as the server can certainly never go on
//! ([`crate::checks::stuck`]): the wait for the server to close after the answer (once
//! the grader has written and half-closed everything), and, when the reading asks for it
//! ([`Reading::until_frozen`]), the wait for an answer the grader will not add to.

use crate::checks::stuck::Stuck;
use crate::process::deadline::{Deadline, BACKSTOP};
use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default for [`Reading::stall`]: seconds without a byte on loopback mean "never".
pub(crate) const STALL: Duration = Duration::from_secs(5);

pub(crate) use super::server::talking_to;
use super::server::{server, server_wait};

thread_local! {
    static FIRST_BYTE: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// Runs `f` with the probes of this thread giving up on an answer that has not begun
/// after `bound` of quiet on the clock (when shorter than the reading's own stall): for a
/// session that only asks whether a process that served a case still serves (see
/// [`crate::session`]), never for a verdict, so the clock is enough.
pub(crate) fn first_byte_within<T>(bound: Option<Duration>, f: impl FnOnce() -> T) -> T {
    super::server::scoped(&FIRST_BYTE, bound, f)
}

/// Quiet shorter than this is not yet timed against the server (saves reading `/proc` on
/// every pause of a flowing stream); it is grace on top of the bound.
const NOTICE: Duration = Duration::from_millis(50);

/// One write of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fragment {
    /// Pause before writing it.
    pub pause: Duration,
    /// The bytes written.
    pub data: Vec<u8>,
}

/// How to read the answer.
#[derive(Clone, Debug)]
pub(crate) struct Reading {
    /// Bytes the answer should have; reading stops there unless `until_eof`.
    pub expect: usize,
    /// After the answer, wait for the server to close the connection.
    pub until_eof: bool,
    /// Read in small chunks with pauses, so the server's sends block at times.
    pub slow: bool,
    /// Deadline for the whole exchange.
    pub timeout: Duration,
    /// Once the answer is complete, how long the server has to close the connection.
    pub eof_timeout: Duration,
    /// How long the answer may stall, the first byte included: a server that answers
    /// nothing, or stops half-way (lost data never arrives), is known long before a large
    /// stream's deadline.
    pub stall: Duration,
    /// Receive buffer asked for before connecting (`SO_RCVBUF`): a small window keeps
    /// the kernel from taking a large answer off the server's hands at once.
    pub window: Option<usize>,
    /// Start reading only once the writer is done (or has made no progress for
    /// [`HOLD`]): the server then sees the whole request, and its EOF, while most of its
    /// answers still wait to be sent.
    pub hold: bool,
    /// The answer expected, when known: reading stops at the first byte that differs from
    /// it (the verdict is certain then; waiting for more would only wait out a deadline).
    pub expected: Option<Arc<[u8]>>,
    /// The wait for the answer also ends when the server can certainly never send it
    /// ([`crate::checks::stuck`]): for a caller that wrote everything before reading and
    /// stays still while it reads.
    pub until_frozen: bool,
    /// The grader reads no other connection of the server while it waits: a thread of the
    /// server blocked in a send to one of them waits for ever too ([`Stuck::sending`]).
    pub others_unread: bool,
}

/// How long a held reader waits for a writer that makes no progress (a server that
/// answers as it reads stops reading when nobody reads its answers) before reading.
pub(crate) const HOLD: Duration = Duration::from_millis(500);

impl Reading {
    /// Read exactly `expect` bytes within `timeout`.
    pub(crate) fn exact(expect: usize, timeout: Duration) -> Reading {
        Reading {
            expect,
            until_eof: false,
            slow: false,
            timeout,
            eof_timeout: Duration::from_secs(2),
            stall: timeout.min(STALL),
            window: None,
            hold: false,
            expected: None,
            until_frozen: false,
            others_unread: false,
        }
    }

    /// The same reading, stopping at the first byte that differs from `answer`.
    pub(crate) fn expecting(mut self, answer: &[u8]) -> Reading {
        self.expected = Some(answer.into());
        self
    }
}

/// How an exchange went.
#[derive(Clone, Debug, Default)]
pub(crate) struct Exchange {
    /// Everything that came back.
    pub received: Vec<u8>,
    /// The server closed the connection (read returned 0).
    pub eof: bool,
    /// The deadline passed before the reading was done.
    pub timed_out: bool,
    /// A read failed (e.g. connection reset).
    pub read_error: Option<String>,
    /// A write failed (e.g. broken pipe).
    pub write_error: Option<String>,
    /// Reading stopped at a byte that differs from the expected answer.
    pub wrong: bool,
    /// Bytes written before writing stopped.
    pub written: usize,
    /// The wait ended early because the server can never go on: what its threads wait
    /// in, for ever ("waitpid(), recv()").
    pub frozen: Option<String>,
}

impl Exchange {
    /// How the exchange ended, in words, for messages.
    pub(crate) fn ending(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.write_error {
            parts.push(format!("writing failed after {} bytes ({e})", self.written));
        }
        if let Some(e) = &self.read_error {
            parts.push(format!("reading failed ({e})"));
        } else if self.eof {
            parts.push("then the server closed the connection".to_string());
        } else if let Some(waits) = &self.frozen {
            parts.push(format!(
                "then nothing more came, and nothing can: every thread of the server waits for ever, in {waits}"
            ));
        } else if self.timed_out {
            parts.push("then nothing more came before the deadline".to_string());
        } else if self.wrong {
            parts.push("reading stopped at the first wrong byte".to_string());
        }
        parts.join("; ")
    }
}

/// Connects with a deadline (a server with a full `listen(1)` backlog makes the kernel
/// retry the SYN after a second, so this allows for that) and turns Nagle off.
pub(crate) fn connect(addr: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// [`connect`] with a receive buffer of about `window` bytes, set before connecting so
/// that the window the kernel advertises is small from the first segment on.
pub(crate) fn connect_with_window(
    addr: SocketAddr,
    timeout: Duration,
    window: usize,
) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_recv_buffer_size(window)?;
    socket.connect_timeout(&addr.into(), timeout)?;
    socket.set_nodelay(true)?;
    Ok(socket.into())
}

/// Writes `fragments` (then half-closes if `half_close`) while reading as `reading` says.
pub(crate) fn exchange(
    stream: &TcpStream,
    fragments: &[Fragment],
    half_close: bool,
    reading: &Reading,
) -> Exchange {
    let start = Instant::now();
    let mut whole = server_wait(reading.timeout);
    // The reader judges the server; a writer blocked on a server that stopped reading is
    // unblocked by the reader's shutdown, so its own bound only backs that up.
    let _ = stream.set_write_timeout(Some(reading.timeout * BACKSTOP));
    // When the writer last made progress (microseconds after `start`): the answer's stall
    // clock starts again there, so a writer slowed by a loaded machine is not taken for a
    // silent server.
    let wrote = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (wrote, finished) = (&wrote, &finished);
        let writer = scope.spawn(move || {
            let mut out = stream;
            let mut written = 0usize;
            for f in fragments {
                if !f.pause.is_zero() {
                    std::thread::sleep(f.pause);
                }
                if let Err(e) = out.write_all(&f.data) {
                    return (written, Some(e.to_string()));
                }
                written += f.data.len();
                wrote.store(start.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
            if half_close {
                let _ = stream.shutdown(Shutdown::Write);
            }
            finished.store(true, Ordering::SeqCst);
            (written, None)
        });
        if reading.hold {
            hold(wrote, || writer.is_finished(), &mut whole);
        }
        let mut ex = read_until(stream, reading, &mut whole, Some((start, wrote, finished)));
        if ex.received.len() < reading.expect && !writer.is_finished() {
            // The answer will not come: unblock a writer stuck on a server that stopped
            // reading. (A complete answer means the writer is done or about to return, and
            // the connection may carry another round.)
            let _ = stream.shutdown(Shutdown::Both);
        }
        let (written, write_error) = writer.join().unwrap_or((0, Some("writer panicked".into())));
        ex.written = written;
        ex.write_error = write_error;
        ex
    })
}

/// Waits until `finished` says the writer is done, or it wrote nothing for [`HOLD`] of
/// the server's time (`wrote` changes whenever it makes progress), or `whole` passes. A
/// server found certain to read nothing more until its answers are read (asleep, its
/// sends blocked: [`Stuck::sending`]) ends the hold at once: a server that answers as it
/// reads stops so within milliseconds, and waiting out HOLD for it made up most of `eof`.
fn hold(wrote: &AtomicU64, finished: impl Fn() -> bool, whole: &mut Deadline) {
    let mut seen = 0;
    let mut since = Instant::now();
    let mut quiet: Option<Deadline> = None;
    let mut blocked = server().map(Stuck::sending);
    while !finished() && !whole.passed() {
        let at = wrote.load(Ordering::Relaxed);
        if at != seen {
            (seen, since, quiet) = (at, Instant::now(), None);
            blocked = server().map(Stuck::sending);
        } else if since.elapsed() >= NOTICE
            && (quiet.get_or_insert_with(|| server_wait(HOLD)).passed()
                || blocked.as_mut().is_some_and(Stuck::certain))
        {
            return;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Reads the answer as `reading` says, until `deadline` on the clock (the reading half of
/// [`exchange`], for a connection that stays open across several exchanges).
pub(crate) fn read_answer(stream: &TcpStream, reading: &Reading, deadline: Instant) -> Exchange {
    let left = deadline.saturating_duration_since(Instant::now());
    read_until(stream, reading, &mut Deadline::wall(left), None)
}

/// Reads the answer as `reading` says, within `reading.timeout` of the server's time
/// ([`read_answer`] with the exchange's deadline).
pub(crate) fn await_answer(stream: &TcpStream, reading: &Reading) -> Exchange {
    read_until(stream, reading, &mut server_wait(reading.timeout), None)
}

/// [`read_answer`], with the writer's progress (`start` and microseconds after it) counted
/// as progress too.
fn read_until(
    stream: &TcpStream,
    reading: &Reading,
    whole: &mut Deadline,
    writer: Option<(Instant, &AtomicU64, &AtomicBool)>,
) -> Exchange {
    let mut ex = Exchange::default();
    let mut input = stream;
    let mut buf = vec![0u8; if reading.slow { 4096 } else { 64 * 1024 }];
    let mut since_pause = 0usize;
    let mut eof_deadline: Option<Deadline> = None;
    let mut last_progress = Instant::now();
    // The server's time since it last made progress, once the quiet was noticed.
    let mut quiet: Option<Deadline> = None;
    let mut writer_at = 0u64;
    // Whether the server can never go on, once the grader stays still.
    let question = if reading.others_unread {
        Stuck::sending
    } else {
        Stuck::idle
    };
    let mut stuck = server().map(question);
    loop {
        let complete = ex.received.len() >= reading.expect;
        if complete && !reading.until_eof {
            return ex;
        }
        if complete && eof_deadline.is_none() {
            eof_deadline = Some(server_wait(reading.eof_timeout));
        }
        let still = writer.is_none_or(|(_, _, done)| done.load(Ordering::SeqCst));
        if still && (complete || reading.until_frozen) {
            if let Some(stuck) = stuck.as_mut() {
                // Frozen since before the look, then nothing on its way and nothing
                // unread, and still frozen: nothing can come.
                let pid = stuck.pid();
                if stuck.certain_and(|| {
                    crate::checks::stuck::delivered(pid, stream)
                        && crate::checks::stuck::nothing_unread(stream)
                }) {
                    ex.timed_out = true;
                    ex.frozen = Some(stuck.waits());
                    return ex;
                }
            }
        }
        if let Some((_, at, _)) = writer {
            let at = at.load(Ordering::Relaxed);
            if at != writer_at {
                (writer_at, last_progress, quiet) = (at, Instant::now(), None);
            }
        }
        let now = Instant::now();
        let quiet_for = now.duration_since(last_progress);
        // When a deadline passed: one more read without waiting, before "nothing came";
        // `over`: whatever it reads (the whole exchange's or the EOF's time is up).
        let over = whole.passed() || eof_deadline.as_mut().is_some_and(Deadline::passed);
        let (passed, left) = match eof_deadline.as_mut() {
            Some(eof) => (over, eof.remaining()),
            None if quiet_for >= NOTICE => {
                let first = FIRST_BYTE
                    .with(Cell::get)
                    .filter(|_| ex.received.is_empty());
                let q = quiet.get_or_insert_with(|| server_wait(reading.stall));
                match first {
                    Some(first) if quiet_for >= first => (true, Duration::ZERO),
                    Some(first) => (q.passed(), q.remaining().min(first - quiet_for)),
                    None => (q.passed(), q.remaining()),
                }
            }
            None => (false, NOTICE - quiet_for),
        };
        let last_look = over || passed;
        let next = if last_look {
            Duration::ZERO
        } else {
            left.min(whole.remaining())
        };
        let _ = stream.set_read_timeout(Some(
            next.clamp(Duration::from_millis(1), Duration::from_millis(250)),
        ));
        match input.read(&mut buf) {
            Ok(0) => {
                ex.eof = true;
                return ex;
            }
            Ok(n) => {
                let at = ex.received.len();
                ex.received.extend_from_slice(&buf[..n]);
                if let Some(expected) = &reading.expected {
                    if expected.get(at..at + n) != Some(&buf[..n]) {
                        ex.wrong = true;
                        return ex;
                    }
                }
                if over {
                    ex.timed_out = ex.received.len() < reading.expect || reading.until_eof;
                    return ex;
                }
                (last_progress, quiet) = (Instant::now(), None);
                // Progress: the server must be seen frozen afresh.
                stuck = server().map(question);
                since_pause += n;
                if reading.slow && since_pause >= 128 * 1024 {
                    since_pause = 0;
                    std::thread::sleep(Duration::from_millis(15));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if last_look {
                    ex.timed_out = true;
                    return ex;
                }
            }
            Err(e) => {
                ex.read_error = Some(e.to_string());
                return ex;
            }
        }
    }
}

/// The fragments of `data` cut every `size` bytes, without pauses.
pub(crate) fn chunks(data: &[u8], size: usize) -> Vec<Fragment> {
    data.chunks(size.max(1))
        .map(|c| Fragment {
            pause: Duration::ZERO,
            data: c.to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn exchanges_with_an_upper_case_echo() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                s.write_all(&buf[..n].to_ascii_uppercase()).unwrap();
            }
        });
        let stream = connect(addr, Duration::from_secs(5)).unwrap();
        let frags = vec![
            Fragment {
                pause: Duration::ZERO,
                data: b"hel".to_vec(),
            },
            Fragment {
                pause: Duration::from_millis(2),
                data: b"lo".to_vec(),
            },
        ];
        let reading = Reading {
            until_eof: true,
            ..Reading::exact(5, Duration::from_secs(10))
        };
        let ex = exchange(&stream, &frags, true, &reading);
        assert_eq!(ex.received, b"HELLO");
        assert!(ex.eof && !ex.timed_out, "{ex:?}");
        server.join().unwrap();
    }

    #[test]
    fn reading_stops_at_the_first_wrong_byte() {
        // A server that answers wrongly, then keeps the connection open and silent: the
        // probe knows the verdict at the first wrong byte and does not wait for more.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            s.write_all(&buf[..n]).unwrap();
            let _ = s.read(&mut buf);
        });
        let stream = connect(addr, Duration::from_secs(5)).unwrap();
        let frags = chunks(b"hello", 5);
        let reading = Reading::exact(10, Duration::from_secs(30)).expecting(b"HELLOHELLO");
        let start = Instant::now();
        let ex = exchange(&stream, &frags, false, &reading);
        assert!(start.elapsed() < Duration::from_secs(4), "{ex:?}");
        assert!(ex.wrong && !ex.timed_out, "{ex:?}");
        assert_eq!(ex.received, b"hello");
        assert!(ex.ending().contains("first wrong byte"), "{}", ex.ending());
        drop(stream);
        server.join().unwrap();
    }
}
