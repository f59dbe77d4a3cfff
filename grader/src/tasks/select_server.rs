//! `select-server`: the lecture's `select()` multiplexing server (`server-select.py`): one
//! process, one thread, many clients. Checks: the stream checks, the concurrency checks,
//! `single-thread` and `no-fd-leak` (read from `/proc`), and `slow-reader`.

use crate::check::{CheckCtx, CheckDef, LaunchOpts, Outcome};
use crate::checks::concurrency::{ending, ANSWER};
use crate::checks::served;
use crate::checks::inspect::{self, count, family, plural, poll_until, ThreadSampler};
use crate::checks::grader_clients;
use crate::checks::slow_reader;
use crate::checks::stuck::{self, Stuck};
use crate::procfs;
use crate::task::{Concurrency, TaskDef};

use std::time::Duration;

/// Clients connected at once by `concurrent` and `single-thread`.
const CLIENTS: usize = 3;
/// Clients that come and go one after another in `no-fd-leak`.
const CYCLES: usize = 20;
/// Descriptors a server may open once and keep (a selector's epoll descriptor, say).
const FD_SLACK: usize = 2;
/// How long the server has to close the sockets of clients that left.
const CLOSE: Duration = Duration::from_secs(3);

const SERIAL: &str = "your server serves one client at a time: after accept() and after each recv(), go back to select() (never loop on one client's recv())";
const SHARED: &str = "answer each client on the socket select() reported readable";
const STALLED: &str = "one client that does not read must not stall the others: make the client sockets non-blocking, keep each client's unsent answers in a buffer of its own, send them when select() reports the socket writable, and stop reading from a client while its buffer is full";

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "select-server",
    title: "select() multiplexing server",
    files: &["server-select.py"],
    checks: CHECKS,
    shares_server: served::SHARED_SERVER,
    concurrency: Some(Concurrency::new(CLIENTS, SERIAL, SHARED)),
    check_ms: 500,
    ..TaskDef::SERVER
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = served::concurrent_server_checks![
    &CheckDef {
        id: "single-thread",
        summary: "one thread and no child process while several clients are served",
        run: single_thread,
    },
    &CheckDef {
        id: "no-fd-leak",
        summary: "open descriptors do not grow as clients come and go",
        run: no_fd_leak,
    },
    &CheckDef {
        id: "slow-reader",
        summary: "a client that sends much and never reads does not stall the others",
        run: |ctx| slow_reader::slow_reader(ctx, LaunchOpts::default(), STALLED),
    },
];

/// `single-thread`: [`CLIENTS`] clients connect, then each is served in turn while all
/// stay connected; meanwhile the server must keep one thread and start no process. (A
/// client that is not served ends the exchanges early: that is `concurrent`'s business;
/// what was seen until then is judged.)
fn single_thread(ctx: &CheckCtx) -> Outcome {
    let (mut server, addr, pid) = match inspect::start(ctx, LaunchOpts::default()) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let sampler = ThreadSampler::start(pid);
    // A server that can never accept or answer them (see `checks::stuck`) is known at
    // once: its threads and processes can no longer change either.
    let connected: Vec<_> = (0..CLIENTS)
        .filter_map(|_| grader_clients::connect_now(pid, addr).ok())
        .collect();
    let mut processes = 0;
    for (i, c) in connected.iter().enumerate() {
        let message = format!("client {}\n", i + 1);
        let served = crate::probe::tcp::talking_to(Some(pid), || {
            grader_clients::served(c, message.as_bytes(), ANSWER)
        });
        processes = processes.max(family(pid).map_or(0, |f| f.live + f.zombies));
        if served.is_err() {
            break;
        }
    }
    let threads = sampler.most();
    if threads > 1 {
        return Outcome::fail(format!(
            "while {} clients were connected the server had {}: a select server serves every client from its one thread, with select() telling which socket is ready (no threading)",
            connected.len(),
            count(threads, "thread")
        ));
    }
    if processes > 0 {
        return Outcome::fail(format!(
            "while {} clients were connected the server had {}: a select server serves every client from one process (no fork)",
            connected.len(),
            plural(processes, "child process", "child processes")
        ));
    }
    if server.program().status().is_some() {
        return Outcome::fail(format!("the server ended{}", ending(&mut server)));
    }
    Outcome::pass(format!(
        "1 thread, no child process, with {} clients connected",
        connected.len()
    ))
}

/// `no-fd-leak`: [`CYCLES`] clients connect, are served (whatever the answer: the other
/// checks compare answers) and leave, one after another; then the server's open
/// descriptors must come back to what they were (give or take [`FD_SLACK`]).
fn no_fd_leak(ctx: &CheckCtx) -> Outcome {
    let (mut server, addr, pid) = match inspect::start(ctx, LaunchOpts::default()) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let before = match procfs::fd_count(pid) {
        Ok(n) => n,
        Err(e) => return Outcome::error(format!("could not count the server's descriptors: {e}")),
    };
    for i in 0..CYCLES {
        let served = grader_clients::connect(pid, addr)
            .map_err(|e| format!("could not connect ({e})"))
            .and_then(|c| grader_clients::served(&c, format!("visitor {}\n", i + 1).as_bytes(), ANSWER));
        if let Err(what) = served {
            return Outcome::fail(format!(
                "clients came and left one after another; the {} {what}{}",
                inspect::ordinal(i + 1),
                ending(&mut server)
            ));
        }
    }
    let mut now = before;
    // Once every client's leaving has reached the server and it can never go on (see
    // `checks::stuck`), its descriptors can no longer change: known at once.
    let mut stuck = Stuck::idle(pid);
    let closed = poll_until(CLOSE, || {
        now = procfs::fd_count(pid).ok()?;
        if now <= before + FD_SLACK {
            Some(true)
        } else {
            stuck
                .certain_and(|| stuck::all_left(pid, addr.port()))
                .then_some(false)
        }
    });
    let when = match closed {
        Some(true) => {
            return Outcome::pass(format!(
                "{before} open descriptors before {CYCLES} clients came and left, {now} after"
            ))
        }
        Some(false) => format!(
            "and would keep them for ever: {}",
            grader_clients::never(&stuck.waits())
        ),
        None => format!("{} s later", CLOSE.as_secs()),
    };
    Outcome::fail(format!(
        "after {CYCLES} clients came and left one after another, the server had {now} open descriptors, {before} before they came ({when}): close each client's socket when recv() returns b\"\", and forget it (remove it from the lists you give select())"
    ))
}
