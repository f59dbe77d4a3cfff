//! The stream checks of a TCP server (SPEC section 4): a short message, random fragments,
//! binary data, a large stream with short writes injected, and the end of a connection
//! after the client half-closes. Each runs against a [`Server`] started with the options it
//! is given (`opts`): `echo`, `fragmented` and `eof`, which every TCP server task lists, are
//! the [`CheckDef`](crate::check::CheckDef)s of [`super::served`], which pass the task's
//! own launch options; `binary` and `large` are `tcp-upper`'s alone.

use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::checks::evidence;
use crate::escape;
use crate::gen::{self, joined, show_fragments, upper};
use crate::instrument;
use crate::probe::tcp::{self, Exchange, Fragment, Reading};
use crate::procfs::Proto;
use crate::prop;
use crate::session::{CaseError, Server};
use proptest::prelude::*;
use std::net::SocketAddr;
use std::time::Duration;

/// Deadline for connecting (allows for a full `listen(1)` backlog: SYN retried after 1 s).
pub(crate) const CONNECT: Duration = Duration::from_secs(5);
/// Deadline for an answer that should come at once ("it never happened" is generous).
pub(crate) const ANSWER: Duration = Duration::from_secs(10);
/// Deadline for a large stream.
const LARGE: Duration = Duration::from_secs(30);
/// How long a server has to close after answering everything (SPEC `eof`).
pub(crate) const CLOSE: Duration = Duration::from_secs(2);

/// One-line meanings, for reports.
pub(crate) const ECHO: &str = "a short ASCII message comes back upper-cased";
pub(crate) const FRAGMENTED: &str =
    "a stream written in random fragments comes back whole and in order";
pub(crate) const BINARY: &str = "arbitrary bytes (invalid UTF-8 too) come back as bytes.upper()";
pub(crate) const LARGE_SUMMARY: &str =
    "1 MiB and more comes back whole, even when send() accepts only part";
pub(crate) const EOF: &str =
    "after the client half-closes, every answer arrives, then the connection closes";

/// Sends `fragments` on a new connection and compares the answer with their upper-case.
/// With `reading.until_eof`, the client half-closes after writing and the server must
/// close within `reading.eof_timeout` once everything is answered.
pub(crate) fn roundtrip(
    addr: SocketAddr,
    fragments: &[Fragment],
    reading: &Reading,
) -> Result<(), CaseError> {
    let expected = upper(&joined(fragments));
    let reading = reading.clone().expecting(&expected);
    let ex = send(addr, fragments, &reading)?;
    judge(&expected, &edges(fragments), &ex, &reading)
}

/// Where the written fragments end, for [`evidence::stripped`].
fn edges(fragments: &[Fragment]) -> Vec<usize> {
    evidence::edges(fragments.iter().map(|f| f.data.as_slice()))
}

/// Connects and runs the exchange.
fn send(
    addr: SocketAddr,
    fragments: &[Fragment],
    reading: &Reading,
) -> Result<Exchange, CaseError> {
    let stream = match reading.window {
        Some(window) => tcp::connect_with_window(addr, CONNECT, window),
        None => tcp::connect(addr, CONNECT),
    }
    .map_err(|e| CaseError::silent(format!("could not connect: {e}")))?;
    Ok(tcp::exchange(
        &stream,
        fragments,
        reading.until_eof,
        reading,
    ))
}

/// Compares what came back with what should have, and the connection's end with `reading`.
/// `edges`: where the written fragments end (whitespace lost exactly there is `strip()`).
fn judge(
    expected: &[u8],
    edges: &[usize],
    ex: &Exchange,
    reading: &Reading,
) -> Result<(), CaseError> {
    let answered = !ex.received.is_empty();
    if ex.timed_out || (reading.until_eof && !ex.eof && ex.read_error.is_none() && !ex.wrong) {
        prop::waited_out();
    }
    if ex.received != expected {
        let what = if ex.received.len() < expected.len() && expected.starts_with(&ex.received) {
            format!(
                "got only the first {} of {} bytes",
                ex.received.len(),
                expected.len()
            )
        } else {
            escape::first_difference(expected, &ex.received).unwrap_or_default()
        };
        let ending = ex.ending();
        let ending = if ending.is_empty() {
            String::new()
        } else {
            format!(", {ending}")
        };
        let hint = if evidence::stripped(expected, edges, &ex.received) {
            format!(": {}", evidence::STRIP_HINT)
        } else {
            String::new()
        };
        return Err(CaseError {
            message: format!("the answer was wrong: {what}{ending}{hint}"),
            answered,
        });
    }
    if reading.until_eof && !ex.eof {
        let why = ex.read_error.clone().unwrap_or_else(|| match &ex.frozen {
            // Known before the deadline (see `checks::stuck`).
            Some(waits) => format!(
                "it was still open, and would stay open for ever: every thread of the server waits, with nothing to wake it, in {waits}"
            ),
            None => format!(
                "it was still open {} s after the last answer byte",
                reading.eof_timeout.as_secs()
            ),
        });
        return Err(CaseError::answered(format!(
            "every answer arrived, but after the client half-closed (shutdown(SHUT_WR)) the server did not close the connection: {why}. When recv() returns b\"\", close the connection (a fork server's parent must also close its copy)"
        )));
    }
    Ok(())
}

/// Rounds on one connection: each round's fragments are written, then its whole answer is
/// awaited before the next round. Several rounds per connection exercise a server as much
/// as several connections do, at a fraction of the program starts a one-shot server needs.
fn rounds(addr: SocketAddr, rounds: &[Vec<Fragment>]) -> Result<(), CaseError> {
    let stream = tcp::connect(addr, CONNECT)
        .map_err(|e| CaseError::silent(format!("could not connect: {e}")))?;
    for (i, fragments) in rounds.iter().enumerate() {
        let expected = upper(&joined(fragments));
        let reading = Reading::exact(expected.len(), ANSWER).expecting(&expected);
        let ex = tcp::exchange(&stream, fragments, false, &reading);
        judge(&expected, &edges(fragments), &ex, &reading).map_err(|mut e| {
            if rounds.len() > 1 {
                e.message = format!("round {} of {}: {}", i + 1, rounds.len(), e.message);
            }
            e.answered |= i > 0;
            e
        })?;
    }
    Ok(())
}

/// `round 1: sent "hel" +2.0ms "lo"; round 2: ...`
fn show_rounds(rounds: &[Vec<Fragment>]) -> String {
    if let [only] = rounds {
        return format!("sent {}", show_fragments(only));
    }
    let parts: Vec<String> = rounds
        .iter()
        .enumerate()
        .map(|(i, f)| format!("round {}: sent {}", i + 1, show_fragments(f)))
        .collect();
    parts.join("; ")
}

/// A property over 1-4 rounds of fragments per connection against one server.
fn rounds_property(
    ctx: &CheckCtx,
    opts: LaunchOpts,
    round: impl Strategy<Value = Vec<Fragment>>,
) -> Outcome {
    let server = match Server::start(ctx, Proto::Tcp, opts) {
        Ok(s) => std::cell::RefCell::new(s),
        Err(o) => return o,
    };
    let strategy = proptest::collection::vec(round, 1..=4);
    let batch = two_connections(
        ctx,
        ctx.run.cases,
        0,
        &server,
        &strategy,
        |all: Vec<Vec<Vec<Fragment>>>| all.concat(),
        |addr, r| rounds(addr, r),
        |r| show_rounds(r),
    );
    batch.settle(|| {
        prop::check(
            ctx,
            ctx.run.cases,
            strategy,
            |r| show_rounds(r),
            |r| server.borrow_mut().run_case(|addr| rounds(addr, r)),
        )
    })
}

/// What running a check's cases on two connections found (see [`two_connections`]).
enum Batch {
    /// Not tried (a server that serves clients forever: each case has its own connection).
    NotTried,
    /// Every case passed.
    Passed(Outcome),
    /// A case failed on the long connection: the message and the rounds sent on it.
    Failed(String, String),
    /// The first connection's case, the strategy's simplest value ([`prop::draw`]), failed
    /// on a process of its own: that is already the smallest failing case, the property
    /// run's verdict, and running it again would only wait again.
    Smallest(Outcome),
}

impl Batch {
    /// The check's outcome: a passed batch is final; else the property run's, except that
    /// a failure only the long connection showed is still a failure.
    fn settle(self, property: impl FnOnce() -> Outcome) -> Outcome {
        let property = match self {
            Batch::Passed(o) | Batch::Smallest(o) => return o,
            _ => property(),
        };
        match self {
            Batch::Failed(message, shown) if property.status == crate::check::Status::Pass => {
                Outcome::fail(format!(
                    "{message} (every case passed on a connection of its own; they failed one after another on one connection)"
                ))
                .with_counterexample(shown)
            }
            _ => property,
        }
    }
}

/// Longest counterexample shown for a batch of cases on one connection.
const BATCH_SHOWN: usize = 2000;

/// For a server that may serve one client and exit (`tcp-upper`, SPEC section 3), each
/// connection may cost a process start, so the check's cases go on two connections: the
/// first case alone (a first client), then every other one, in order, on a second (a
/// second client, for a server that serves clients one after another). When both pass,
/// the check passes at the cost of two starts instead of one per case; on a failure, the
/// caller runs the cases one by one ([`prop::check`]), which finds the smallest failing
/// case. `join` makes one value of several cases; `run` runs a value on a connection.
/// `after`: the cases the caller runs after a passed batch (so that a one-shot server
/// starts no spare process for a case that never comes).
#[allow(clippy::too_many_arguments)]
fn two_connections<S: Strategy>(
    ctx: &CheckCtx,
    cases: u32,
    after: u32,
    server: &std::cell::RefCell<Server>,
    strategy: &S,
    join: impl Fn(Vec<S::Value>) -> S::Value,
    run: impl Fn(SocketAddr, &S::Value) -> Result<(), CaseError>,
    show: impl Fn(&S::Value) -> String,
) -> Batch
where
    S::Value: Clone,
{
    if !server.borrow().may_be_one_shot() || cases < 3 {
        return Batch::NotTried;
    }
    let mut drawn = prop::draw(ctx, cases, strategy);
    if drawn.len() != cases as usize {
        return Batch::NotTried;
    }
    let rest = join(drawn.split_off(1));
    server.borrow_mut().expect(Some(2 + after));
    for (i, value) in [&drawn[0], &rest].into_iter().enumerate() {
        let result = server.borrow_mut().run_case(|addr| run(addr, value));
        if result.is_err() {
            // The cases run one by one now, and are shrunk: how many is unknown.
            server.borrow_mut().expect(None);
        }
        match result {
            Ok(()) => {}
            Err(prop::Failure::Program(message)) if i == 0 => {
                return Batch::Smallest(Outcome::fail(message).with_counterexample(show(value)))
            }
            Err(prop::Failure::Program(message)) => {
                let mut shown = show(value);
                if shown.len() > BATCH_SHOWN {
                    let mut end = BATCH_SHOWN;
                    while !shown.is_char_boundary(end) {
                        end -= 1;
                    }
                    shown.truncate(end);
                    shown.push_str(" ...");
                }
                return Batch::Failed(message, shown);
            }
            // The grader's own failure ends the check as `error` in the property run too.
            Err(prop::Failure::Grader(_)) => return Batch::NotTried,
        }
    }
    Batch::Passed(Outcome::pass(format!("{cases} generated cases passed")))
}

/// `echo`: one short message.
pub(crate) fn echo(ctx: &CheckCtx, opts: LaunchOpts) -> Outcome {
    let mut server = match Server::start(ctx, Proto::Tcp, opts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let message = b"hello, grader! 42\n".to_vec();
    let fragments = [Fragment {
        pause: Duration::ZERO,
        data: message.clone(),
    }];
    match server
        .run_case(|addr| roundtrip(addr, &fragments, &Reading::exact(message.len(), ANSWER)))
    {
        Ok(()) => Outcome::pass(""),
        Err(e) => e.into_outcome(&format!("sent {}: ", escape::bytes(&message))),
    }
}

/// `fragmented`: random text in random fragments with small pauses.
pub(crate) fn fragmented(ctx: &CheckCtx, opts: LaunchOpts) -> Outcome {
    rounds_property(ctx, opts, gen::text_fragments())
}

/// `binary`: arbitrary bytes, invalid UTF-8 split across fragments.
pub(crate) fn binary(ctx: &CheckCtx, opts: LaunchOpts) -> Outcome {
    rounds_property(ctx, opts, gen::binary_fragments())
}

/// A large stream: `len` bytes of text from a cheap generator seeded with `seed`, written
/// in `chunk`-byte writes. Drawn as three numbers so it shrinks without copying megabytes.
#[derive(Clone, Debug)]
struct Large {
    len: usize,
    chunk: usize,
    seed: u64,
}

impl Large {
    fn bytes(&self) -> Vec<u8> {
        crate::gen::bulk_text(self.len, self.seed)
    }
}

/// `large`: 1 MiB and more, read concurrently and slowly at times, with short writes
/// injected into the program's `socket.send` (Python programs).
pub(crate) fn large(ctx: &CheckCtx, mut opts: LaunchOpts) -> Outcome {
    // The program notes in `log` when it was given a short write; without that evidence,
    // missing bytes are not blamed on send().
    let dir = match tempfile::Builder::new().prefix("grader-send-").tempdir() {
        Ok(d) => d,
        Err(e) => return Outcome::error(format!("could not make a temporary folder: {e}")),
    };
    let log = dir.path().join("short-sends.log");
    opts.features.push(instrument::short_send(&log));
    let server = match Server::start(ctx, Proto::Tcp, opts) {
        Ok(s) => std::cell::RefCell::new(s),
        Err(o) => return o,
    };
    let strategy = (
        1usize << 20..=(1 << 20) + (1 << 18),
        1usize..=65536,
        any::<u64>(),
    )
        .prop_map(|(len, chunk, seed)| Large { len, chunk, seed });
    let hint = "; send() was made to accept at most half of each buffer, as a loaded network can, and the program's send() calls were cut short: use sendall(), or loop on send()'s return value";
    let short_sends = || std::fs::metadata(&log).is_ok_and(|m| m.len() > 0);
    let cases = ctx.run.cases.clamp(1, 2);
    server.borrow_mut().expect(Some(cases));
    // The simplest value is a megabyte in one-byte writes: every case is drawn.
    prop::check_drawn(
        ctx,
        cases,
        strategy,
        |l| format!("{} bytes of text written in {}-byte writes", l.len, l.chunk),
        |l| {
            let data = l.bytes();
            let expected = upper(&data);
            let fragments = tcp::chunks(&data, l.chunk);
            let reading = Reading {
                slow: true,
                ..Reading::exact(data.len(), LARGE)
            }
            .expecting(&expected);
            server.borrow_mut().run_case(|addr| {
                let ex = send(addr, &fragments, &reading)?;
                judge(&expected, &edges(&fragments), &ex, &reading).map_err(|mut e| {
                    let stripped = e.message.contains(evidence::STRIP_HINT);
                    if ex.received.len() < expected.len() && !stripped && short_sends() {
                        e.message.push_str(hint);
                    }
                    e
                })
            })
        },
    )
}

/// The large stream of `eof`: more than the kernel buffers between the two ends, so a
/// server that reads it all while the probe holds off reading has answers left in its own
/// buffers when it sees EOF. The server's send buffer grows at most to `tcp_wmem`'s
/// maximum (4 MiB by default, of which about 3 MiB of payload; 256 KiB in the grader's
/// namespaces, [`crate::contain::netns::SEND_BUFFER_MAX`]), the probe's receive
/// window is [`EOF_WINDOW`]: the stream is that maximum plus [`EOF_MARGIN`] (measured
/// with the default: a server that drops its pending answers at EOF loses about 2 MiB).
fn eof_tail() -> std::sync::Arc<Vec<Fragment>> {
    use std::sync::{Arc, Mutex};
    // Every server task's `eof` sends the same stream: made once per run.
    static MADE: Mutex<Option<Arc<Vec<Fragment>>>> = Mutex::new(None);
    let len = send_buffer_max().unwrap_or(EOF_FALLBACK) + EOF_MARGIN;
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tail) = made.as_ref().filter(|t| joined_len(t) == len) {
        return Arc::clone(tail);
    }
    let large = Large {
        len,
        chunk: 16384,
        seed: 7,
    };
    let tail = Arc::new(tcp::chunks(&large.bytes(), large.chunk));
    *made = Some(Arc::clone(&tail));
    tail
}

fn joined_len(fragments: &[Fragment]) -> usize {
    fragments.iter().map(|f| f.data.len()).sum()
}

/// Bytes beyond the largest send buffer in the `eof` stream.
const EOF_MARGIN: usize = 1 << 20;
/// The send buffer assumed when `tcp_wmem` cannot be read (twice the usual maximum).
const EOF_FALLBACK: usize = 8 << 20;

/// The largest send buffer TCP autotuning gives a socket (`tcp_wmem`'s last field), in the
/// calling thread's network namespace (where the server under test is).
fn send_buffer_max() -> Option<usize> {
    let wmem = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem").ok()?;
    let max: usize = wmem.split_whitespace().nth(2)?.parse().ok()?;
    Some(max.clamp(64 << 10, 64 << 20))
}

/// `5 MiB`, or `4.5 MiB` when not whole.
fn mib(len: usize) -> String {
    let m = len as f64 / (1 << 20) as f64;
    if len.is_multiple_of(1 << 20) {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

/// The receive buffer the `eof` probe asks for before connecting.
const EOF_WINDOW: usize = 4096;

/// How the `eof` probe reads `len` bytes of answer: through a small window, slowly, and
/// only once the whole request is written (or the server stopped reading it).
fn eof_reading(len: usize) -> Reading {
    Reading {
        until_eof: true,
        slow: true,
        window: Some(EOF_WINDOW),
        hold: true,
        eof_timeout: CLOSE,
        ..Reading::exact(len, LARGE)
    }
}

/// `eof`: generated text cases, then always one case with a large stream just before the
/// half-close (drawn in every run, not by chance: it alone shows a server that drops the
/// answers still in its output buffer when it sees EOF); the server must answer
/// everything, then close within [`CLOSE`].
pub(crate) fn eof(ctx: &CheckCtx, opts: LaunchOpts) -> Outcome {
    let server = match Server::start(ctx, Proto::Tcp, opts) {
        Ok(s) => std::cell::RefCell::new(s),
        Err(o) => return o,
    };
    let cases = ctx.run.cases.clamp(1, 8);
    let shown =
        |fragments: &Vec<Fragment>| format!("sent {}, then half-closed", show_fragments(fragments));
    let case = |addr, fragments: &Vec<Fragment>| {
        roundtrip(addr, fragments, &eof_reading(joined_len(fragments)))
    };
    let batch = two_connections(
        ctx,
        cases,
        1,
        &server,
        &gen::text_fragments(),
        |all: Vec<Vec<Fragment>>| all.concat(),
        case,
        shown,
    );
    let small = batch.settle(|| {
        prop::check(ctx, cases, gen::text_fragments(), shown, |fragments| {
            server.borrow_mut().run_case(|addr| case(addr, fragments))
        })
    });
    if small.status != crate::check::Status::Pass {
        return small;
    }
    let mut fragments = vec![Fragment {
        pause: Duration::ZERO,
        data: b"the end is near\n".to_vec(),
    }];
    let tail = eof_tail();
    fragments.extend(tail.iter().cloned());
    let reading = eof_reading(joined_len(&fragments));
    let shown = format!(
        "sent \"the end is near\\n\" + {} of text in {}-byte writes, then half-closed, reading slowly through a {} KiB receive window",
        mib(joined_len(&tail)),
        tail[0].data.len(),
        EOF_WINDOW / 1024
    );
    let big = server
        .borrow_mut()
        .run_case(|addr| roundtrip(addr, &fragments, &reading));
    match big {
        Ok(()) => Outcome::pass(format!(
            "{} (and a {} stream)",
            small.message,
            mib(joined_len(&tail))
        )),
        Err(grader @ crate::prop::Failure::Grader(_)) => grader.into_outcome(""),
        Err(crate::prop::Failure::Program(e)) => {
            let hint = if e.contains("the answer was wrong") {
                "; answers still waiting in the server's own buffers when it sees EOF (recv() returns b\"\") must all be sent before it closes the connection"
            } else {
                ""
            };
            Outcome::fail(format!("{e}{hint}")).with_counterexample(shown)
        }
    }
}
