//! `fork-server`: the lecture's fork-per-client server (`server-fork.py`). Checks: the
//! stream checks, the concurrency checks, and two read from `/proc`: one live child per
//! connected client, and no zombie left once clients have gone.

use crate::check::{CheckCtx, CheckDef, LaunchOpts, Outcome};
use crate::checks::concurrency::{ending, ANSWER};
use crate::checks::served;
use crate::checks::inspect::{self, family, poll_until, Family};
use crate::checks::grader_clients;
use crate::checks::lingering;
use crate::checks::stuck::{self, Stuck};
use crate::task::{Concurrency, TaskDef};

use std::time::Duration;

/// Clients connected at once by the process checks and `concurrent`.
const CLIENTS: usize = 3;
/// How long the children of connected clients may take to appear.
const SPAWN: Duration = Duration::from_secs(5);
/// How long children may take to end, and be reaped, after their clients left. SPEC
/// `reaps-children` says 2 s, which a correct server keeps on an idle machine; a loaded
/// one can delay a child's exit or the parent's SIGCHLD handler by seconds, so the
/// verdict waits as long as any "never happened" (a child that went back to the accept
/// loop, or a zombie nobody reaps, stays for ever).
const EXIT: Duration = Duration::from_secs(10);

const SERIAL: &str = "your server serves one client at a time: the parent must go back to accept() right after fork(), without waiting for the child (reap finished children with a SIGCHLD handler instead)";
const SHARED: &str = "each child must serve only the connection accept() gave for it, and the parent must close its copy of it";

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "fork-server",
    title: "fork-per-client server",
    files: &["server-fork.py"],
    checks: CHECKS,
    shares_server: served::SHARED_SERVER,
    concurrency: Some(Concurrency::new(CLIENTS, SERIAL, SHARED)),
    check_ms: 700,
    ..TaskDef::SERVER
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = served::concurrent_server_checks![
    &CheckDef {
        id: "child-per-client",
        summary: "while N clients are connected, the server has at least N live child processes",
        run: child_per_client,
    },
    &CheckDef {
        id: "reaps-children",
        summary: "no child remains, zombie or running, 2 s after the clients left",
        run: reaps_children,
    },
];

/// `child-per-client`: with [`CLIENTS`] clients connected (and idle), at least as many
/// live children appear.
fn child_per_client(ctx: &CheckCtx) -> Outcome {
    let (mut server, addr, pid) = match inspect::start(ctx, LaunchOpts::default()) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut connected = Vec::new();
    for i in 0..CLIENTS {
        match grader_clients::connect_now(pid, addr) {
            Ok(s) => connected.push(s),
            Err(e) => {
                return Outcome::fail(format!(
                    "the {} client could not connect ({e}){}",
                    inspect::ordinal(i + 1),
                    ending(&mut server)
                ))
            }
        }
    }
    let mut most = 0;
    // A server that can never go on (see `checks::stuck`) forks no more: known at once.
    let mut stuck = Stuck::idle(pid);
    let enough = poll_until(SPAWN, || {
        let f = family(pid).ok()?;
        most = most.max(f.live);
        if f.live >= CLIENTS {
            Some(true)
        } else {
            stuck
                .certain_and(|| stuck::settled(pid, addr.port()))
                .then_some(false)
        }
    });
    let within = match enough {
        Some(true) => {
            return Outcome::pass(format!(
                "{CLIENTS} clients connected, {most} live child processes"
            ))
        }
        Some(false) => format!(
            ", and could never fork more ({})",
            grader_clients::never(&stuck.waits())
        ),
        None => format!(" within {} s", SPAWN.as_secs()),
    };
    Outcome::fail(format!(
        "while {CLIENTS} clients were connected, the server had at most {}{within}{}: a fork server forks one child per client, right after accept(), and the parent goes back to accept() at once",
        children(most, "live child process", "live child processes"),
        ending(&mut server)
    ))
}

/// "no live child process", "1 live child process", "2 live child processes".
fn children(n: usize, one: &str, many: &str) -> String {
    match n {
        0 => format!("no {one}"),
        1 => format!("1 {one}"),
        _ => format!("{n} {many}"),
    }
}

/// `reaps-children`: [`CLIENTS`] clients connect and leave together while the parent is
/// frozen, so their children end together and the SIGCHLDs merge (in every run); one
/// more client connects, is served and leaves; within [`EXIT`] no child may remain, zombie
/// or still running (the message says which, and what a running one does).
fn reaps_children(ctx: &CheckCtx) -> Outcome {
    let (mut server, addr, pid) = match inspect::start(ctx, LaunchOpts::default()) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let look = || family(pid).unwrap_or_default();
    let group: Vec<_> = (0..CLIENTS)
        .filter_map(|_| grader_clients::connect(pid, addr).ok())
        .collect();
    let mut stuck = Stuck::idle(pid);
    poll_until(SPAWN, || {
        let never =
            stuck.certain_and(|| stuck::settled(pid, addr.port()));
        (look().live >= group.len() || never).then_some(())
    });
    // Clients that leave at the same moment, while the parent cannot run: their children
    // end together and their SIGCHLDs merge into one, so that a handler that reaps one
    // child per signal leaves zombies behind.
    let freeze = lingering::Freeze::new(pid, SPAWN);
    drop(group);
    let gone = poll_until(EXIT, || (look().live == 0).then_some(()));
    drop(freeze);
    if gone.is_none() {
        let live = look().live;
        let doing = lingering::describe(pid, addr.port());
        return Outcome::fail(format!(
            "{} still running {} s after their clients left ({doing}){}: a child must exit when its client leaves (break out of the loop when recv() returns b\"\", close the connection, then end the child with os._exit(0), so that it never falls back into the parent's accept loop)",
            children(live, "child process was", "child processes were"),
            EXIT.as_secs(),
            ending(&mut server)
        ));
    }
    // Only that it is served matters here: the answers are judged by the other checks.
    let message = b"one more client";
    let last = grader_clients::connect(pid, addr)
        .map_err(|e| format!("could not connect ({e})"))
        .and_then(|s| grader_clients::served(&s, message, ANSWER));
    if let Err(what) = last {
        return Outcome::fail(format!(
            "after {CLIENTS} clients came and left, one more client sent \"one more client\" and {what}{}",
            ending(&mut server)
        ));
    }
    // Zombies with no child left running, every client gone and the server frozen (every
    // thread asleep in an untimed wait, no signal pending: `checks::stuck`): nothing can
    // ever reap them, so the verdict need not wait out EXIT.
    let mut seen = Family::default();
    let mut never = Stuck::idle(pid);
    let clean = poll_until(EXIT, || {
        seen = look();
        if seen.zombies == 0 && seen.live == 0 {
            return Some(true);
        }
        let frozen = seen.zombies > 0
            && seen.live == 0
            && never.certain_and(|| stuck::all_left(pid, addr.port()));
        frozen.then_some(false)
    });
    match clean {
        Some(true) => Outcome::pass(""),
        Some(false) => Outcome::fail(format!(
            "after the last client left, the server still had {} and can never reap {} ({}; {CLIENTS} clients left at the same moment, so their SIGCHLD signals merged into one; then one more came, was served and left): reap every finished child, e.g. with a SIGCHLD handler that calls os.waitpid(-1, os.WNOHANG) in a loop until it returns 0 (one os.wait() per signal leaves zombies when signals merge; reaping only before accept() leaves the last client's child a zombie until the next client comes)",
            children(seen.zombies, "zombie child", "zombie children"),
            if seen.zombies == 1 { "it" } else { "them" },
            grader_clients::never(&never.waits())
        )),
        None if seen.zombies > 0 => Outcome::fail(format!(
            "{} s after the last client left, the server still had {} ({CLIENTS} clients left at the same moment, so their SIGCHLD signals merged into one; then one more came, was served and left): reap every finished child, e.g. with a SIGCHLD handler that calls os.waitpid(-1, os.WNOHANG) in a loop until it returns 0 (one os.wait() per signal leaves zombies when signals merge; reaping only before accept() leaves the last client's child a zombie until the next client comes)",
            EXIT.as_secs(),
            children(seen.zombies, "zombie child", "zombie children")
        )),
        None => Outcome::fail(format!(
            "{} still running {} s after the last client left ({}): a child must exit when its client leaves (end it with os._exit(0) after serving, so that it never falls back into the parent's accept loop)",
            children(seen.live, "child process was", "child processes were"),
            EXIT.as_secs(),
            lingering::describe(pid, addr.port())
        )),
    }
}
