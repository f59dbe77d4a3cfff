//! `pool-server`: the lecture's thread pool (`server-pool.py`): POOLSIZE workers take
//! turns at `accept()` under a lock. Every check runs with its own POOLSIZE, drawn from
//! its seed among 2, 3, 4, 6 and 7 (never the lecture's 5, so a program that ignores the
//! variable shows it). Checks: the stream checks, the concurrency checks (with
//! POOLSIZE-1 idle clients, so a correct pool has one worker free; at most POOLSIZE
//! clients in `isolation`), `bounded-threads` and `queued-clients`.

use crate::check::{CheckCtx, CheckDef, LaunchOpts, Outcome};
use crate::checks::backlog::{self, Stuck};
use crate::checks::concurrency::{self, ending, Advice};
use crate::checks::inspect::{self, count, ThreadSampler};
use crate::checks::served;
use crate::task::TaskDef;

use std::time::Duration;

/// How long the clients of a wave may go without any progress.
const PATIENCE: Duration = Duration::from_secs(5);

/// The POOLSIZE of one check, from its launch seed (one for the checks sharing a server,
/// [`CheckCtx::launch_seed`]): 2 to 7, never the lecture's 5 (so a program that ignores
/// the variable shows it), and fewer than the 8 cases of `eof` (so a pool that serves
/// only POOLSIZE clients in all fails it whatever the seed).
pub(crate) fn pool_size(ctx: &CheckCtx) -> usize {
    const SIZES: [usize; 5] = [2, 3, 4, 6, 7];
    SIZES[ctx.launch_seed()[0] as usize % SIZES.len()]
}

/// The environment of a pool of `size` workers.
fn opts(size: usize) -> LaunchOpts {
    LaunchOpts {
        env: vec![("POOLSIZE".into(), size.to_string())],
        ..LaunchOpts::default()
    }
}

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "pool-server",
    title: "thread pool sharing accept() under a lock",
    files: &["server-pool.py"],
    launch: |ctx| opts(pool_size(ctx)),
    checks: CHECKS,
    shares_server: served::SHARED_SERVER,
    check_ms: 500,
    ..TaskDef::SERVER
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = &[
    &served::ECHO,
    &served::FRAGMENTED,
    &CheckDef {
        id: "concurrent",
        summary: "with POOLSIZE-1 clients connected and idle, one more is served",
        run: concurrent,
    },
    &CheckDef {
        id: "isolation",
        summary: "up to POOLSIZE clients connected together each get exactly their own answers",
        run: isolation,
    },
    &served::EOF,
    &CheckDef {
        id: "bounded-threads",
        summary: "with 3xPOOLSIZE clients coming, never more than POOLSIZE+1 threads",
        run: bounded_threads,
    },
    &CheckDef {
        id: "queued-clients",
        summary: "clients beyond the pool wait (backlog or queue) and are served once others leave",
        run: queued_clients,
    },
];

/// What to do when a client is not served while POOLSIZE-1 others are connected.
fn serial(size: usize) -> String {
    format!(
        "with POOLSIZE={size} the server must serve {size} clients at once: start POOLSIZE workers (read POOLSIZE from the environment), each taking turns at accept() and releasing the accept lock right after accept(), not when its client leaves"
    )
}

fn concurrent(ctx: &CheckCtx) -> Outcome {
    let size = pool_size(ctx);
    concurrency::concurrent(ctx, opts(size), size - 1, &serial(size))
}

fn isolation(ctx: &CheckCtx) -> Outcome {
    let size = pool_size(ctx);
    let advice = Advice {
        serial: &serial(size),
        shared: "each worker must serve the connection its own accept() returned, until that client leaves",
    };
    concurrency::isolation(ctx, opts(size), size, advice)
}

/// `bounded-threads`: 3xPOOLSIZE clients come in waves (as many as the backlog takes,
/// the oldest served leaving to make room) while the thread count is sampled; it may
/// never exceed POOLSIZE+1. Only the count is judged here: clients that are not served
/// are the business of the other checks.
fn bounded_threads(ctx: &CheckCtx) -> Outcome {
    let size = pool_size(ctx);
    let (mut server, addr, pid) = match inspect::start(ctx, opts(size)) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let sampler = ThreadSampler::start(pid);
    let total = 3 * size;
    let rolled = backlog::roll(pid, addr, total, 0, PATIENCE);
    let most = sampler.most();
    let limit = size + 1;
    if most > limit {
        return Outcome::fail(format!(
            "with POOLSIZE={size} and {total} clients coming, the server had {} at one point; a pool is POOLSIZE workers plus the main thread, {limit} in all, however many clients come: let the workers take turns at accept() and serve each client themselves, starting no thread per client",
            count(most, "thread")
        ));
    }
    let note = match rolled {
        Ok(()) => String::new(),
        Err(_) => format!(" (not every client was served{})", ending(&mut server)),
    };
    Outcome::pass(format!(
        "at most {} with POOLSIZE={size} and {total} clients coming{note}",
        count(most, "thread")
    ))
}

/// `queued-clients`: 2xPOOLSIZE+1 clients come; those beyond the pool wait (in the
/// backlog, or accepted and queued by the program) and must each be served once earlier
/// clients leave; none may be refused. The first POOLSIZE clients to leave do so with a
/// reset, the others with a normal close (in every run): a pool whose workers die on
/// `ConnectionResetError` has no worker left for the last clients.
fn queued_clients(ctx: &CheckCtx) -> Outcome {
    let size = pool_size(ctx);
    let (mut server, addr, pid) = match inspect::start(ctx, opts(size)) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let total = 2 * size + 1;
    const TURNS: &str = "a worker must go back to accept() (or take the next queued client) when its client leaves, also when recv() raised ConnectionResetError because the client left with a reset (catch it), so that the clients waiting are served in turn";
    let (what, advice) = match backlog::roll(pid, addr, total, size, PATIENCE) {
        Ok(()) => {
            return Outcome::pass(format!(
                "POOLSIZE={size}: all {total} clients were served, those beyond the pool once earlier ones left (the first {size} with a reset)"
            ))
        }
        Err(Stuck::Wrong(what)) => (what, ""),
        Err(Stuck::Refused(what)) => (what, ""),
        Err(Stuck::Closed(what)) => {
            // The server may be ending: let it, to tell how.
            server.program().wait_exit(Duration::from_secs(1));
            (what, TURNS)
        }
        Err(Stuck::Stalled(what)) => (what, TURNS),
    };
    let end = ending(&mut server);
    let advice = if advice.is_empty() {
        String::new()
    } else {
        format!(": {advice}")
    };
    Outcome::fail(format!(
        "POOLSIZE={size}, {total} clients: {what}{end}{advice}"
    ))
}
