//! `thread-server`: the lecture's thread-per-client server (`server-thread.py`, its
//! `ClientSocket(threading.Thread)`). Checks: the stream checks, the concurrency checks
//! (`isolation` catches the slide's `run()` using the global `conn`), and two read from
//! `/proc`: a thread per connected client, and no thread left once they have gone.

use crate::check::{CheckCtx, CheckDef, LaunchOpts, Outcome};
use crate::checks::concurrency::ending;
use crate::checks::served;
use crate::checks::inspect::{self, count, poll_until};
use crate::checks::grader_clients;
use crate::checks::stuck::{self, Stuck};
use crate::procfs;
use crate::session::Server;
use crate::task::{Concurrency, TaskDef};
use std::net::TcpStream;
use std::time::Duration;

/// Clients connected at once by the process checks and `concurrent`.
const CLIENTS: usize = 3;
/// How long the threads of connected clients may take to appear.
const SPAWN: Duration = Duration::from_secs(5);
/// How long threads may take to end after their clients left.
const LEAVE: Duration = Duration::from_secs(3);

const SERIAL: &str = "your server serves one client at a time: start a thread per client with ClientSocket(conn, addr).start() (calling run() serves the client in the main thread) and go back to accept() at once";
const SHARED: &str = "each thread must use its own connection (self.conn, given to its constructor), not the global conn, which accept() has meanwhile set to the latest client";

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "thread-server",
    title: "thread-per-client server",
    files: &["server-thread.py"],
    checks: CHECKS,
    shares_server: served::SHARED_SERVER,
    concurrency: Some(Concurrency::new(CLIENTS, SERIAL, SHARED)),
    check_ms: 450,
    ..TaskDef::SERVER
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = served::concurrent_server_checks![
    &CheckDef {
        id: "thread-per-client",
        summary: "while N clients are connected, the server has at least N more threads",
        run: thread_per_client,
    },
    &CheckDef {
        id: "no-thread-leak",
        summary: "after the clients leave, the thread count returns to what it was",
        run: no_thread_leak,
    },
];

/// A started server, its thread count before any client, and [`CLIENTS`] connected
/// (idle) clients; or the outcome that ends the check.
fn with_clients<'a>(ctx: &'a CheckCtx<'a>) -> Result<(Server<'a>, usize, Vec<TcpStream>), Outcome> {
    let (mut server, addr, pid) = inspect::start(ctx, LaunchOpts::default())?;
    let before = procfs::threads(pid)
        .map_err(|e| Outcome::error(format!("could not read the server's thread count: {e}")))?;
    let mut connected = Vec::new();
    for i in 0..CLIENTS {
        match grader_clients::connect(pid, addr) {
            Ok(s) => connected.push(s),
            Err(e) => {
                return Err(Outcome::fail(format!(
                    "the {} client could not connect ({e}){}",
                    inspect::ordinal(i + 1),
                    ending(&mut server)
                )))
            }
        }
    }
    Ok((server, before, connected))
}

/// Polls the thread count of `pid` until `done` says so; returns the last count and the
/// largest seen, and whether `done` held. The wait ends early, with what its threads wait
/// in, when the server can never go on ([`Stuck`]) once `calm` says the grader's clients
/// have made every event they will (their connections set up, or closed): its thread
/// count can no longer change.
fn watch_threads(
    pid: u32,
    timeout: Duration,
    done: impl Fn(usize) -> bool,
    calm: impl Fn() -> bool,
) -> (usize, usize, Result<(), Option<String>>) {
    let (mut last, mut most) = (0, 0);
    let mut stuck = Stuck::idle(pid);
    let held = poll_until(timeout, || {
        last = procfs::threads(pid).ok()?;
        most = most.max(last);
        if done(last) {
            Some(true)
        } else {
            stuck.certain_and(&calm).then_some(false)
        }
    });
    let held = match held {
        Some(true) => Ok(()),
        Some(false) => Err(Some(stuck.waits())),
        None => Err(None),
    };
    (last, most, held)
}

/// ", and can never start more (...)" when the wait ended on [`Stuck`], else " within
/// N s" (`timeout`).
fn never_or_within(frozen: &Option<String>, timeout: Duration) -> String {
    match frozen {
        Some(waits) => format!(", and can never have more ({})", grader_clients::never(waits)),
        None => format!(" within {} s", timeout.as_secs()),
    }
}

/// `thread-per-client`: with [`CLIENTS`] clients connected, at least as many threads more
/// than before they came.
fn thread_per_client(ctx: &CheckCtx) -> Outcome {
    let (mut server, before, _clients) = match with_clients(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let (pid, port) = (server.program().pid(), server.port());
    let settled = || stuck::settled(pid, port);
    let (_, most, held) = watch_threads(pid, SPAWN, |n| n >= before + CLIENTS, settled);
    let frozen = match held {
        Ok(()) => {
            return Outcome::pass(format!(
                "{} before the clients came, {most} with {CLIENTS} clients connected",
                count(before, "thread")
            ))
        }
        Err(frozen) => frozen,
    };
    Outcome::fail(format!(
        "while {CLIENTS} clients were connected, the server had at most {}{} ({} before they came){}: {SERIAL}",
        count(most, "thread"),
        never_or_within(&frozen, SPAWN),
        before,
        ending(&mut server)
    ))
}

/// `no-thread-leak`: [`CLIENTS`] clients connect (their threads start), then leave; the
/// thread count must return to what it was before they came.
fn no_thread_leak(ctx: &CheckCtx) -> Outcome {
    let (mut server, before, connected) = match with_clients(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let (pid, port) = (server.program().pid(), server.port());
    // A server without a thread per client is judged by `thread-per-client`; here only
    // threads that were started matter.
    let settled = || stuck::settled(pid, port);
    let (_, during, _) = watch_threads(pid, SPAWN, |n| n >= before + CLIENTS, settled);
    drop(connected);
    let left = || stuck::all_left(pid, port);
    let (after, _, held) = watch_threads(pid, LEAVE, |n| n <= before, left);
    if held.is_ok() {
        return Outcome::pass(format!(
            "{} with {CLIENTS} clients connected, back to {before} after they left",
            count(during, "thread")
        ));
    }
    if server.program().status().is_some() {
        return Outcome::fail(format!(
            "the server ended when its clients left{}",
            ending(&mut server)
        ));
    }
    let when = match held {
        Err(Some(waits)) => format!(
            "after its {CLIENTS} clients left, the server still had {}, for ever ({})",
            count(after, "thread"),
            grader_clients::never(&waits)
        ),
        _ => format!(
            "{} s after its {CLIENTS} clients left, the server still had {}",
            LEAVE.as_secs(),
            count(after, "thread")
        ),
    };
    Outcome::fail(format!(
        "{when} ({before} before they came, {during} while they were connected): a client's thread must end when its client leaves (return from run() once recv() returns b\"\"), and leave no other thread behind (such as a Timer started per client)"
    ))
}
