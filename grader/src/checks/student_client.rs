//! Driving a stdin-driven client (`tcp-client`, `udp-client`) against one of the grader's
//! own servers ([`crate::peer`]): the client gets `PORT` of that server (4444 in a
//! private network namespace, where each client and its server get a namespace of their
//! own, as servers under test do), lines on its
//! stdin, and is judged from both sides: its stdout must hold one `Output: <UPPER>` line
//! per line ([`printed`]), and the server must have received exactly the lines
//! ([`heard`](crate::peer::heard)). For speed one client process answers case after case of a property; a
//! failing case ends it and the next case starts a fresh one, so shrinking runs on fresh
//! processes. Every wait is on an event (a read on stdout, a change the server records)
//! with a deadline; nothing sleeps to synchronise.

use super::printed::{self, Printed};
use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::contain::netns::{self, NetNs};
use crate::escape;
use crate::gen::upper;
use crate::peer::heard::Heard;
use crate::peer::Peer;
use crate::process::program::indent;
use crate::process::{Deadline, Program};
use crate::prop::{self, Failure};
use proptest::strategy::Strategy;
use std::cell::{Cell, RefCell};
use std::time::Duration;

/// How long the answers to a case may take ("it never happened" is generous). This and the
/// other bounds on the client are in its own time ([`Live::deadline`]: what it, the
/// grader's server or the reader of its stdout waited for a CPU on a busy machine is given
/// back).
pub(crate) const ANSWER: Duration = Duration::from_secs(5);
/// How long the server may wait for the lines of an exit check to arrive and be answered
/// (not shrunk, so "it never happened" can be generous: verdicts must not follow load).
const HEARD: Duration = Duration::from_secs(10);
/// How long a fresh client may take to start and get in touch with the server.
const STARTUP: Duration = Duration::from_secs(10);
/// How long the client has to exit after its last line.
pub(crate) const EXIT: Duration = Duration::from_secs(5);
/// After the client exited, how long its goodbye may take to reach the server.
const GOODBYE: Duration = Duration::from_secs(3);
/// Longest wait between two looks at the server's side while waiting on stdout.
const SLICE: Duration = Duration::from_millis(20);
/// What Python prints when a program dies of an exception.
const TRACEBACK: &[u8] = b"Traceback (most recent call last)";

/// How a client is told to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// An empty line (followed by a line that must never be sent).
    EmptyLine,
    /// The end of stdin.
    EndOfInput,
}

impl Stop {
    fn after(self) -> &'static str {
        match self {
            Stop::EmptyLine => "after the empty line",
            Stop::EndOfInput => "after the end of stdin",
        }
    }
}

/// A line written after the empty line: a client that skips empty lines sends it.
const AFTER_EMPTY: &[u8] = b"this line comes after the empty line";

/// One client process and the server it talks to.
pub(crate) struct Live<P: Peer> {
    // Declared first so that it is dropped (killed) before its server.
    program: Program,
    peer: P,
    /// Lines written to the client so far.
    sent: Vec<Vec<u8>>,
    /// Bytes of stdout parsed so far.
    parsed: usize,
    /// Answers printed so far.
    answers: Vec<Vec<u8>>,
    /// Other lines printed so far.
    others: Vec<Vec<u8>>,
    /// Answers already compared.
    judged: usize,
    /// Where the current case starts in `sent`.
    case_from: usize,
    /// An answer printed before the server sent all of it fails (fragmented answers).
    strict: bool,
    /// The client's time to start and get in touch with the server, from its start.
    startup: Deadline,
    /// The private namespace of this client and its server, when it has one of its own
    /// (dropped last: the sockets inside keep it alive anyway).
    _ns: Option<NetNs>,
}

impl<P: Peer> Live<P> {
    /// Starts a server and a client talking to it; `error` when the grader cannot. In a
    /// private network namespace the server listens on 127.0.0.1:4444; with `own_ns`
    /// both get a fresh namespace of their own (every client of a check after the first,
    /// so that two servers never want port 4444 in one namespace).
    pub(crate) fn start(ctx: &CheckCtx, own_ns: bool) -> Result<Live<P>, Outcome> {
        if !(own_ns && netns::private()) {
            return Live::start_here(ctx, None);
        }
        let ns = NetNs::fresh().map_err(|e| {
            Outcome::error(format!("could not make a private network namespace: {e}"))
        })?;
        let inside = ns
            .try_clone()
            .map_err(|e| Outcome::error(format!("could not keep a network namespace: {e}")))?;
        ns.run_inside(|| Live::start_here(ctx, Some(inside)))
            .map_err(|e| Outcome::error(format!("could not enter a network namespace: {e}")))?
    }

    /// Starts both in the calling thread's namespace.
    fn start_here(ctx: &CheckCtx, ns: Option<NetNs>) -> Result<Live<P>, Outcome> {
        let peer = P::start()
            .map_err(|e| Outcome::error(format!("could not start the grader's server: {e}")))?;
        let opts = LaunchOpts {
            port: Some(peer.port()),
            stdin: true,
            ..LaunchOpts::default()
        };
        let program = ctx.launch(&opts).map_err(|e| {
            Outcome::error(format!(
                "could not start {}: {e}",
                ctx.target.shown.join(" ")
            ))
        })?;
        peer.client_is(program.pid());
        let startup = program
            .deadline(STARTUP)
            .with_helpers(program.stdout.helpers())
            .with_helpers(peer.helpers());
        Ok(Live {
            _ns: ns,
            startup,
            program,
            peer,
            sent: Vec::new(),
            parsed: 0,
            answers: Vec::new(),
            others: Vec::new(),
            judged: 0,
            case_from: 0,
            strict: false,
        })
    }

    /// A deadline of `bound` of the client's own time, the waits of the grader's threads
    /// its progress passes through (the server's, the reader of its stdout) given back.
    fn deadline(&self, bound: Duration) -> Deadline {
        self.program
            .deadline(bound)
            .with_helpers(self.program.stdout.helpers())
            .with_helpers(self.peer.helpers())
    }

    /// Writes `lines`, each with a newline, in one go (as a pipe would deliver them).
    /// A case stays far below the pipe's 64 KiB, so this never blocks.
    pub(crate) fn send_lines(&mut self, lines: &[Vec<u8>]) -> Result<(), String> {
        let mut input = Vec::new();
        for line in lines {
            input.extend_from_slice(line);
            input.push(b'\n');
        }
        self.case_from = self.sent.len();
        self.sent.extend(lines.iter().cloned());
        self.write(&input)
    }

    fn write(&mut self, input: &[u8]) -> Result<(), String> {
        self.program.write_stdin(input).map_err(|e| {
            self.program.wait_exit(Duration::from_millis(200));
            format!(
                "could not write to the client's stdin ({e}); {}",
                self.program.exit_story()
            )
        })
    }

    /// Parses what stdout holds beyond what was parsed; returns its length and whether
    /// it is closed.
    fn read_stdout(&mut self) -> (usize, bool) {
        let (lines, used, len, closed) = self.program.stdout.with(|b| {
            let (lines, used) = printed::parse(&b.head[self.parsed..]);
            (lines, used, b.head.len(), b.closed)
        });
        self.parsed += used;
        for line in lines {
            match line {
                Printed::Answer(a) => self.answers.push(a),
                Printed::Other(o) => self.others.push(o),
            }
        }
        (len, closed)
    }

    /// Compares the answers printed since the last look with the lines sent.
    fn judge_answers(&mut self) -> Result<(), String> {
        let sent_by_server = self.peer.answers_sent();
        while self.judged < self.answers.len() {
            let i = self.judged;
            let got = &self.answers[i];
            let Some(line) = self.sent.get(i) else {
                return Err(format!(
                    "the client printed more `Output:` lines than it was given lines: the extra one is {}",
                    escape::bytes_short(&[printed::OUTPUT, got].concat(), 80)
                ));
            };
            let expected = upper(line);
            if *got != expected {
                return Err(wrong_answer(i - self.case_from, line, got, &expected));
            }
            if self.strict && sent_by_server <= i {
                return Err(format!(
                    "the client printed {} for line {} before the server had sent the end of that answer: print what recv() returned, not a copy of the line",
                    escape::bytes_short(&[printed::OUTPUT, got].concat(), 68),
                    i - self.case_from + 1
                ));
            }
            self.judged += 1;
        }
        Ok(())
    }

    /// Waits until every line sent has its answer printed, judging them as they come.
    pub(crate) fn await_answers(&mut self) -> Result<(), String> {
        let mut answer = self.deadline(ANSWER);
        loop {
            let (seen, closed) = self.read_stdout();
            self.judge_answers()?;
            if let Heard::Wrong(why) = self.peer.heard(&self.sent, self.case_from) {
                return Err(why);
            }
            if self.answers.len() >= self.sent.len() {
                // Every answer was printed, so the server wrote them all: this only orders
                // the server's bookkeeping before the next step (a printed answer the
                // server never sent fails here).
                let mut answered = self.deadline(GOODBYE);
                return if self.peer.wait_answered_until(&self.sent, &mut answered) {
                    Ok(())
                } else {
                    Err(format!(
                        "the client printed every answer, but the server never received and answered all the lines ({}): print what the server sent",
                        self.server_view()
                    ))
                };
            }
            if closed || self.passed(&mut answer) {
                return Err(self.missing_answers(closed));
            }
            self.program
                .stdout
                .wait_until(SLICE, |b| b.head.len() > seen || b.closed);
        }
    }

    /// Waits until the server has received every line sent and answered it: the exit
    /// checks judge the ending only, so what the client prints is not looked at (a client
    /// that prints wrongly, or never, still ends right or wrong on its own).
    pub(crate) fn await_heard(&mut self) -> Result<(), String> {
        let mut heard = self.deadline(HEARD);
        loop {
            if self.peer.wait_answered(&self.sent, SLICE) {
                return Ok(());
            }
            if let Heard::Wrong(why) = self.peer.heard(&self.sent, self.case_from) {
                return Err(why);
            }
            let exited = self.program.status().is_some();
            if exited || self.passed(&mut heard) {
                if self.peer.wait_answered(&self.sent, Duration::ZERO) {
                    return Ok(());
                }
                return Err(self.unheard(exited));
            }
        }
    }

    /// True when `deadline` has passed and so has the client's time to start, unless it
    /// got in touch with the server already.
    fn passed(&mut self, deadline: &mut Deadline) -> bool {
        deadline.passed() && (self.peer.contacted() || self.startup.passed())
    }

    /// Why the server never got every line of the case.
    fn unheard(&mut self, exited: bool) -> String {
        let n = self.sent.len() - self.case_from;
        let view = if self.peer.contacted() {
            self.server_view()
        } else {
            format!(
                "it never got in touch with the server on port {} (read HOST and PORT from the environment)",
                self.peer.port()
            )
        };
        if exited {
            format!(
                "the client was given {n} line(s) and exited before the server had received them all: {view}; {}",
                self.program.exit_story()
            )
        } else {
            format!(
                "the client was given {n} line(s); {} s later {view}",
                HEARD.as_secs()
            )
        }
    }

    fn server_view(&self) -> String {
        match self.peer.heard(&self.sent, self.case_from) {
            Heard::All => "the server received every line".to_string(),
            Heard::Part | Heard::Wrong(_) => "the server received only part of them".to_string(),
        }
    }

    fn missing_answers(&mut self, closed: bool) -> String {
        let from = self.case_from;
        let (n, k) = (self.sent.len() - from, self.answers.len().max(from) - from);
        let line = &self.sent[from + k];
        let when = if closed {
            "before its output ended".to_string()
        } else {
            prop::waited_out();
            format!("within {} s", ANSWER.as_secs())
        };
        let mut msg = format!(
            "the client was given {n} line(s) and printed {k} `Output:` line(s) {when}; no answer for line {}, {}",
            k + 1,
            escape::bytes_short(line, 60)
        );
        if !self.peer.contacted() {
            msg.push_str(&format!(
                "; it never got in touch with the server on port {} (read HOST and PORT from the environment)",
                self.peer.port()
            ));
        } else {
            msg.push_str(&format!("; {}", self.server_view()));
        }
        if !self.others.is_empty() {
            let shown: Vec<String> = self
                .others
                .iter()
                .rev()
                .take(3)
                .rev()
                .map(|o| escape::bytes_short(o, 60))
                .collect();
            msg.push_str(&format!(
                "; it printed other lines: {} (each answer must be a line `Output: <answer>`)",
                shown.join(", ")
            ));
        }
        if self.program.wait_exit(Duration::from_millis(100)).is_some() {
            msg.push_str(&format!("; {}", self.program.exit_story()));
        } else if self.program.stdout.with(|b| b.head.is_empty()) {
            msg.push_str(
                "; nothing at all came on stdout (flush stdout after each print if you buffer it)",
            );
        }
        msg
    }

    /// Stops the client as `stop` says and judges the ending: exit status 0 within
    /// [`EXIT`], no traceback, the goodbye seen by the server, nothing sent after it.
    pub(crate) fn stop(&mut self, stop: Stop) -> Result<(), String> {
        match stop {
            Stop::EmptyLine => {
                let mut input = b"\n".to_vec();
                input.extend_from_slice(AFTER_EMPTY);
                input.push(b'\n');
                self.write(&input)?;
            }
            Stop::EndOfInput => self.program.close_stdin(),
        }
        let after = stop.after();
        let mut exit = self.deadline(EXIT);
        let Some(status) = self.program.wait_exit_until(&mut exit) else {
            let so_far = self.peer.goodbye_so_far();
            self.program.kill();
            let mut msg = format!(
                "the client did not exit within {} s {after} ({so_far}); it was killed",
                EXIT.as_secs()
            );
            if stop == Stop::EmptyLine && self.peer.got(AFTER_EMPTY) {
                msg.push_str(&format!(
                    ". It sent {} to the server: an empty line must close the connection and end the client, not be skipped",
                    escape::bytes(AFTER_EMPTY)
                ));
            }
            return Err(msg);
        };
        let stderr = self.program.stderr.bytes();
        if let Some(at) = find(&stderr, TRACEBACK) {
            let hint = match stop {
                Stop::EndOfInput => ": at the end of stdin input() raises EOFError; catch it and stop as on an empty line",
                Stop::EmptyLine => "",
            };
            return Err(format!(
                "{after} the client printed a Python traceback on stderr{hint}:\n{}",
                indent(&escape::tail(&stderr[at..], 8))
            ));
        }
        if !status.success() {
            return Err(format!("{after} {}", self.program.exit_story()));
        }
        let mut goodbye = self.deadline(GOODBYE);
        self.peer.goodbye(&self.sent, &mut goodbye)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The message for a wrong answer, with a hint for the usual causes.
fn wrong_answer(i: usize, line: &[u8], got: &[u8], expected: &[u8]) -> String {
    let hint = if got.len() < expected.len() && expected.starts_with(got) {
        format!(
            ": only the first {} of {} bytes. recv() returns what has arrived so far, at most its buffer size: read until the whole answer (as long as the line) is there",
            got.len(),
            expected.len()
        )
    } else if got.starts_with(b"b'") || got.starts_with(b"b\"") {
        ": print the text (answer.decode()), not the bytes object".to_string()
    } else {
        format!(
            " ({})",
            escape::first_difference(expected, got).unwrap_or_default()
        )
    };
    let shown = |answer: &[u8]| escape::bytes_short(&[printed::OUTPUT, answer].concat(), 68);
    format!(
        "for line {}, {}, the client printed the line {} where {} was expected{hint}",
        i + 1,
        escape::bytes_short(line, 60),
        shown(got),
        shown(expected)
    )
}

/// Runs a property whose cases are batches of lines for one client. While cases pass,
/// one client process answers them all (fast); once one failed, every case runs on a
/// fresh process, so the smallest case reported fails on a client that saw nothing else.
/// `lines` gives a case's lines; `prepare` tells the server how to answer them before
/// they are written. `strict`: see [`Live`].
pub(crate) fn property<P, S>(
    ctx: &CheckCtx,
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    lines: impl Fn(&S::Value) -> Vec<Vec<u8>>,
    prepare: impl Fn(&P, &S::Value),
    strict: bool,
) -> Outcome
where
    P: Peer,
    S: Strategy,
{
    let first = match Live::<P>::start(ctx, false) {
        Ok(live) => live,
        Err(o) => return o,
    };
    let live = RefCell::new(Some(first));
    let failed = Cell::new(false);
    prop::check(ctx, cases, strategy, show, |value| {
        let mut slot = live.borrow_mut();
        if failed.get() {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(Live::start(ctx, true).map_err(Failure::from_outcome)?);
        }
        let client = slot.as_mut().expect("started above");
        client.strict = strict;
        prepare(&client.peer, value);
        let earlier = client.sent.len();
        let result = client
            .send_lines(&lines(value))
            .and_then(|()| client.await_answers());
        result.map_err(|why| {
            failed.set(true);
            Failure::Program(if earlier > 0 {
                format!("{why} (the same client process had answered {earlier} earlier line(s) correctly)")
            } else {
                why
            })
        })
    })
}

/// Gives a fresh client `lines`, waits until the grader's server has received and
/// answered them, then stops it as `stop` says and judges how it ends: from the server's
/// side and the exit status, never from what the client printed (SPEC section 4: each
/// client check judges its own property; the answers are `roundtrip`'s business).
pub(crate) fn ending<P: Peer>(ctx: &CheckCtx, lines: &[Vec<u8>], stop: Stop) -> Outcome {
    let mut client = match Live::<P>::start(ctx, false) {
        Ok(live) => live,
        Err(o) => return o,
    };
    let result = client
        .send_lines(lines)
        .and_then(|()| client.await_heard())
        .and_then(|()| client.stop(stop));
    match result {
        Ok(()) => Outcome::pass(""),
        Err(why) => Outcome::fail(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_answer_is_explained() {
        let m = wrong_answer(0, b"hello", b"HEL", b"HELLO");
        assert!(m.contains("only the first 3 of 5 bytes"), "{m}");
        let m = wrong_answer(1, b"hi", b"b'HI'", b"HI");
        assert!(m.contains("line 2") && m.contains(".decode()"), "{m}");
    }
}
