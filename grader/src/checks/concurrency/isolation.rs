//! `isolation` (SPEC section 4): 2 to N clients connect and stay connected, then write
//! in turns, each awaiting its answer; each must get exactly its own answers, and nobody
//! else anything (this catches the slide's thread server, whose `run()` uses the global
//! `conn`). A seeded property: a failure is shrunk to the fewest clients and writes.

use super::{connected, ending};
use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::checks::evidence;
use crate::checks::grader_clients;
use crate::checks::inspect::ordinal;
use crate::checks::stuck::Stuck;
use crate::escape;
use crate::gen;
use crate::probe::tcp::{self, Reading};
use crate::procfs::Proto;
use crate::prop::{self, Failure};
use crate::session::Server;
use proptest::collection::vec;
use proptest::prelude::*;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Deadline for each answer; shorter than `concurrent`'s, as a failing case is shrunk by
/// running it again and again.
const STEP_ANSWER: Duration = Duration::from_secs(3);
/// How long to wait for the server to accept the clients before they write.
const ACCEPTED: Duration = Duration::from_secs(1);
/// Cases at most, whatever `--cases` asks.
const CASES: u32 = 8;

/// One write of `isolation`: client `who` (0-based) sends `data` and waits for its answer.
#[derive(Clone, Debug)]
pub(super) struct Step {
    /// Which client writes.
    pub who: usize,
    /// What it writes.
    pub data: Vec<u8>,
}

/// 2 to `max_clients` clients and 1 to 12 steps, each by a random client with a short
/// random text (whitespace-only and 1-byte texts included); shrinks towards fewer
/// clients, fewer steps, lower client numbers and shorter texts.
fn interleavings(max_clients: usize) -> impl Strategy<Value = (usize, Vec<Step>)> {
    (2..=max_clients.max(2)).prop_flat_map(|clients| {
        let step = (0..clients, gen::text(24, 24)).prop_map(|(who, data)| Step { who, data });
        (Just(clients), vec(step, 1..=12))
    })
}

/// How a case looks in a report.
fn show((clients, steps): &(usize, Vec<Step>)) -> String {
    let s: Vec<String> = steps
        .iter()
        .map(|s| format!("client {} sends {}", s.who + 1, escape::bytes(&s.data)))
        .collect();
    format!("{clients} clients connect, then {}", s.join("; "))
}

/// What to tell the student when `isolation` fails.
#[derive(Clone, Copy)]
pub(crate) struct Advice<'a> {
    /// For a client that gets no answer: the usual cause is serving one at a time.
    pub serial: &'a str,
    /// For answers that reach another client: a handler using a shared connection.
    pub shared: &'a str,
}

/// Runs one interleaving on a fresh set of connections; `earlier` cases ran before it on
/// this server.
fn interleave(
    server: &mut Server,
    clients: usize,
    steps: &[Step],
    advice: Advice,
    earlier: usize,
) -> Result<(), String> {
    let (addr, pid) = (server.addr(), server.program().pid());
    let mut streams: Vec<TcpStream> = Vec::new();
    for i in 0..clients {
        let s = grader_clients::connect_now(pid, addr).map_err(|e| {
            let end = ending(server);
            if i == 0 {
                if earlier == 0 {
                    format!("could not connect ({e}){end}")
                } else {
                    format!("after {earlier} earlier cases of this check, a new client could not connect ({e}){end}: the server must go on taking new clients after others left")
                }
            } else {
                format!(
                    "while {} connected, a {} could not connect ({e}){end}: {}",
                    connected(i),
                    ordinal(i + 1),
                    advice.serial
                )
            }
        })?;
        streams.push(s);
    }
    // Let the server take every client before anybody writes (a serial server never does).
    grader_clients::all_accepted(pid, addr.port(), ACCEPTED);
    for step in steps {
        let who = step.who + 1;
        let sent = escape::bytes(&step.data);
        let (asked, elsewhere) = ask_watching(&streams, step.who, &step.data, pid);
        match asked {
            Err(what) if elsewhere.is_empty() => {
                let end = ending(server);
                let (what, hint) = lone_hint(what, &end, pid, addr.port(), advice);
                return Err(format!(
                    "with {clients} clients connected, client {who} sent {sent} and {what}, while the other {} stayed connected{end}{hint}",
                    if clients == 2 { "client" } else { "clients" },
                ))
            }
            Err(what) => {
                return Err(format!(
                    "with {clients} clients connected, client {who} sent {sent} and {what}{elsewhere}{}: {}",
                    ending(server),
                    advice.shared
                ))
            }
            Ok(()) if !elsewhere.is_empty() => {
                return Err(format!(
                    "with {clients} clients connected, client {who} sent {sent} and got its answer{elsewhere}: {}",
                    advice.shared
                ))
            }
            Ok(()) => {}
        }
    }
    Ok(())
}

/// The hint for a client that got no right answer while nobody else got anything, with
/// `what` happened (it may lose its `strip()` mark): "serves one client at a time" only on
/// its evidence (no answer at all, the server alive, and clients still waiting in its
/// accept queue); `strip()` when only whitespace at the edges was lost; none when the
/// server ended (`end` says so) or when an answer came but was wrong in another way (the
/// message says how). A message of whitespace alone that got nothing at all fits both a
/// server that strips (it sends nothing) and one that never took this client: clients
/// still waiting to be accepted decide for the latter.
fn lone_hint(what: String, end: &str, pid: u32, port: u16, advice: Advice) -> (String, String) {
    let silent = what.starts_with("got no answer within")
        || what.starts_with("got no answer, and never will");
    let waiting = || grader_clients::queue(pid, port).map_or(0, |q| q.queued);
    let what = match what.strip_suffix(STRIPPED) {
        Some(plain) if silent && end.is_empty() && waiting() > 0 => plain.to_string(),
        Some(_) => return (what, format!(": {}", evidence::STRIP_HINT)),
        None => what,
    };
    if !end.is_empty() || !silent {
        return (what, String::new());
    }
    let hint = match waiting() {
        waiting if waiting > 0 => format!(
            " ({} still waiting to be accepted): {}",
            if waiting == 1 {
                "1 client was".to_string()
            } else {
                format!("{waiting} clients were")
            },
            advice.serial
        ),
        _ => String::new(),
    };
    (what, hint)
}

/// Client `who` sends `data` and waits for its answer while watching the others: an
/// answer that reaches another client ends the wait at once. Returns the verdict on
/// the answer and what the others received ("" when nothing). The wait ends early when the server `pid` can certainly never answer ([`Stuck`]).
fn ask_watching(
    streams: &[TcpStream],
    who: usize,
    data: &[u8],
    pid: u32,
) -> (Result<(), String>, String) {
    let mut stuck = Stuck::idle(pid);
    if let Err(what) = grader_clients::send(&streams[who], data, STEP_ANSWER) {
        return (Err(what), strays(streams, who));
    }
    let expected = gen::upper(data);
    let deadline = Instant::now() + STEP_ANSWER;
    let mut ex = tcp::Exchange::default();
    loop {
        let now = Instant::now();
        let slice = (deadline.saturating_duration_since(now)).min(Duration::from_millis(20));
        let reading = Reading::exact(expected.len() - ex.received.len(), slice);
        let part = tcp::read_answer(&streams[who], &reading, now + slice);
        ex.received.extend_from_slice(&part.received);
        (ex.eof, ex.read_error) = (part.eof, part.read_error);
        if ex.received.len() >= expected.len() || ex.eof || ex.read_error.is_some() {
            break;
        }
        let elsewhere = strays(streams, who);
        if !elsewhere.is_empty() {
            let verdict = if ex.received.is_empty() {
                Err("got no answer".to_string())
            } else {
                grader_clients::judge(&expected, &ex, STEP_ANSWER)
            };
            return (verdict, elsewhere);
        }
        if !part.received.is_empty() {
            stuck = Stuck::idle(pid); // progress: to be seen frozen afresh
        }
        if stuck.certain_and(|| {
            crate::checks::stuck::delivered(pid, &streams[who])
                && crate::checks::stuck::nothing_unread(&streams[who])
        }) {
            ex.frozen = Some(stuck.waits());
        }
        if Instant::now() >= deadline || ex.frozen.is_some() {
            ex.timed_out = true;
            prop::waited_out();
            break;
        }
    }
    let verdict = grader_clients::judge(&expected, &ex, STEP_ANSWER).map_err(|what| {
        if evidence::stripped(&expected, &[expected.len()], &ex.received) {
            format!("{what}{STRIPPED}")
        } else {
            what
        }
    });
    (verdict, strays(streams, who))
}

/// Marks an answer that lost exactly the whitespace at its edges (see [`lone_hint`]).
const STRIPPED: &str = " (only whitespace at the edges was missing)";

/// "; client 2 received "XYZ" instead" for every other client that got something.
fn strays(streams: &[TcpStream], writer: usize) -> String {
    streams
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != writer)
        .filter_map(|(i, s)| {
            let got = grader_clients::unread(s);
            (!got.is_empty()).then(|| {
                format!(
                    "; client {}, which had sent nothing since its last answer, received {}",
                    i + 1,
                    escape::bytes_short(&got, 40)
                )
            })
        })
        .collect()
}

/// `isolation`: 2 to `max_clients` clients connect; then they write in turns, each
/// awaiting its answer while all stay connected; each must get exactly its own answers,
/// and nobody else anything. Each case starts on a running server (see
/// [`restart_if_done`]).
pub(crate) fn isolation(
    ctx: &CheckCtx,
    opts: LaunchOpts,
    max_clients: usize,
    advice: Advice,
) -> Outcome {
    let server = match Server::start(ctx, Proto::Tcp, opts) {
        Ok(s) => std::cell::RefCell::new(s),
        Err(o) => return o,
    };
    let earlier = std::cell::Cell::new(0);
    // At most CASES: each case connects up to `max_clients` new clients (a fork server
    // forks a child for each), and a handler that shares one connection shows in almost
    // any case with two clients.
    prop::check(
        ctx,
        ctx.run.cases.clamp(1, CASES),
        interleavings(max_clients),
        show,
        |(clients, steps)| {
            let server = &mut *server.borrow_mut();
            if restart_if_done(server)? {
                earlier.set(0);
            }
            earlier.set(earlier.get() + 1);
            interleave(server, *clients, steps, advice, earlier.get() - 1).map_err(Failure::Program)
        },
    )
}

/// Every case starts with a running server: one that ended (crashed by an earlier case,
/// say) is started again, as the stream checks do, so that shrinking judges each case on
/// its own. An ending during a case is that case's verdict.
/// True when it started a new process; a restart the grader could not do is its own
/// failure, one the program could not (it never listened) the program's.
fn restart_if_done(server: &mut Server) -> Result<bool, Failure> {
    match server.program().status() {
        Some(_) => server
            .launch()
            .map(|()| true)
            .map_err(Failure::from_outcome),
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn interleavings_stay_within_their_clients() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..100 {
            let (clients, steps) = interleavings(4).new_tree(&mut runner).unwrap().current();
            assert!((2..=4).contains(&clients));
            assert!(!steps.is_empty() && steps.iter().all(|s| s.who < clients));
        }
    }

    #[test]
    fn cases_read_as_a_story() {
        let case = (
            2,
            vec![Step {
                who: 0,
                data: b"a b".to_vec(),
            }],
        );
        assert_eq!(
            show(&case),
            "2 clients connect, then client 1 sends \"a b\""
        );
    }
}
