//! One server process lent to several checks of a concurrent server task, one check after
//! another (the runner's shared group): each check's [`Server::start`] adopts it instead
//! of starting a process, and gives it back instead of killing it. Starting a Python
//! server costs more CPU than most checks spend judging it, so this is where a full
//! submission's time goes.
//!
//! A check may use it only while it behaves: a check that would start another process
//! (the lent one ended) gets an `error` instead and spoils the server, and between two
//! checks the server must have closed every connection of the previous one, so that each
//! check runs alone on it (a `select` loop that only moves when some other socket has an
//! event must not pass thanks to a neighbour's traffic). What the runner does with an
//! outcome (only a pass is kept; anything else is judged again on a server of its own)
//! is in [`crate::runner`].
//!
//! [`Server::start`]: crate::session::Server::start

use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::process::{port, ready, Program};
use crate::procfs::Proto;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How long the server may take to close the connections of the previous check before
/// the next one would run on it; a server still holding one is not lent again (the
/// checks left run on servers of their own, so this bounds only the time, never a
/// verdict).
const QUIET: Duration = Duration::from_secs(1);

/// A running server lent to checks one at a time.
pub(crate) struct SharedServer {
    /// The process, while no check holds it.
    program: Mutex<Option<Program>>,
    /// Where it listens.
    port: u16,
    /// What it was started with: a check asking for other options cannot use it.
    opts: LaunchOpts,
    /// A check saw it end, or asked for something it could not give.
    spoiled: AtomicBool,
}

impl SharedServer {
    /// Starts the task's server with `opts` and waits until it listens. `None` when it
    /// did not (the checks then start their own servers and say why).
    pub(crate) fn start(ctx: &CheckCtx, opts: LaunchOpts) -> Option<SharedServer> {
        let port = port::for_server().ok()?;
        let mut launch = opts.clone();
        launch.port = Some(port);
        let mut program = ctx.launch(&launch).ok()?;
        ready::wait_bound(&mut program, Proto::Tcp, port, ready::STARTUP).ok()?;
        Some(SharedServer {
            program: Mutex::new(Some(program)),
            port,
            opts,
            spoiled: AtomicBool::new(false),
        })
    }

    /// Lends the process to a check that would start one with `opts`; `Err` (an `error`
    /// outcome, which the runner never keeps) when it cannot.
    pub(crate) fn lend(&self, opts: &LaunchOpts) -> Result<(Program, u16), Outcome> {
        if *opts != self.opts {
            return Err(self.spoil("the check asked for other launch options"));
        }
        match self.slot().take() {
            Some(program) if !self.spoiled.load(Ordering::SeqCst) => Ok((program, self.port)),
            Some(program) => {
                *self.slot() = Some(program);
                Err(self.spoil("it was spoiled"))
            }
            None => Err(self.spoil("a check holds it")),
        }
    }

    /// Takes the process back from a check.
    pub(crate) fn give_back(&self, program: Program) {
        *self.slot() = Some(program);
    }

    /// Marks the server unusable: `why` a check could not (or can no longer) run on it.
    pub(crate) fn spoil(&self, why: &str) -> Outcome {
        self.spoiled.store(true, Ordering::SeqCst);
        Outcome::error(format!("the shared server cannot be used: {why}"))
    }

    /// True when the server may be lent to the next check, or a check's pass on it kept:
    /// nothing spoiled it and it still runs.
    pub(crate) fn sound(&self) -> bool {
        !self.spoiled.load(Ordering::SeqCst)
            && self.slot().as_mut().is_some_and(|p| p.status().is_none())
    }

    /// Waits until the server holds no connection (the previous check's clients have
    /// all gone, and it closed its side of each); false when it still holds one after
    /// [`QUIET`] or the socket table cannot be read.
    pub(crate) fn quiet(&self) -> bool {
        let Some(pid) = self.slot().as_ref().map(|p| p.pid()) else {
            return false;
        };
        crate::checks::inspect::poll_until(QUIET, || {
            crate::procfs::connections_held(pid, self.port)
                .ok()
                .filter(|n| *n == 0)
        })
        .is_some()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Program>> {
        self.program.lock().unwrap_or_else(|e| e.into_inner())
    }
}
