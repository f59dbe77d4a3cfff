//! The run that `total` and `uses-threads` judge, and `race-free` compares with: one start
//! of the program with generated THREADS and INCREMENTS and no forced thread switches,
//! its threads recorded while it runs (for Python by the instrumentation, which changes
//! nothing the program computes; otherwise by sampling `/proc/PID/task`).
//!
//! It is made once per task instance and shared ([`CheckCtx::shared`]): the first of
//! these checks to run makes it, the others wait for it and read it. THREADS and
//! INCREMENTS come from a generator shared by the three checks, so a check run alone
//! (`--check total`) makes exactly the same run and reaches the same verdict.

use super::run::{run, POLL};
use crate::check::{CheckCtx, Outcome};
use crate::process::program::describe;
use crate::{instrument, procfs, threadlog};
use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng};
use std::collections::BTreeSet;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

/// The name the shared generator's seed is derived from (instead of a check's id).
const SEED_NAME: &str = "observation";

/// The shared run.
#[derive(Debug)]
pub(super) struct Observation {
    /// `THREADS` it was given.
    pub threads: u64,
    /// `INCREMENTS` it was given.
    pub increments: u64,
    /// What it did, or the outcome that stands for it (it could not start, it never
    /// finished).
    pub ran: Result<Ran, Outcome>,
}

/// What the shared run did.
#[derive(Debug)]
pub(super) struct Ran {
    /// The printed value, or why there is none (a crash, no `Obtained value` line).
    pub value: Result<u64, String>,
    /// How it ended.
    pub status: ExitStatus,
    /// How it ended in words, with its stderr's tail.
    pub story: String,
    /// How long it ran.
    pub took: Duration,
    /// The threads it ran.
    pub threads: Threads,
}

/// The threads of the shared run, as far as the grader could see them.
#[derive(Debug)]
pub(super) enum Threads {
    /// Python: the instrumentation's record.
    Recorded(threadlog::Tally),
    /// Other programs: the thread ids besides the main one seen while sampling, when
    /// there is a `/proc` to sample.
    Sampled(Option<usize>),
}

impl Observation {
    /// `THREADS=4, INCREMENTS=2000`
    pub(super) fn settings(&self) -> String {
        format!("THREADS={}, INCREMENTS={}", self.threads, self.increments)
    }
}

/// The shared run of `ctx`'s target: made by the first check that asks, read by all.
pub(super) fn observation(ctx: &CheckCtx) -> Arc<Observation> {
    ctx.shared(|| observe(ctx))
}

/// THREADS and INCREMENTS of the shared run (and of `race-free`'s): 3-8 threads; for
/// Python 1,000-3,000 increments each (enough to see every thread; `race-free`'s forced
/// switches make each increment costly), for other programs 1-2 million (threads that end
/// between two samples go unseen, and only real parallelism can expose a race there).
pub(super) fn settings(ctx: &CheckCtx) -> (u64, u64) {
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &ctx.shared_seed(SEED_NAME));
    let t = rng.random_range(3..=8u64);
    let i = if ctx.target.python {
        rng.random_range(1_000..=3_000u64)
    } else {
        rng.random_range(1_000_000..=2_000_000u64)
    };
    (t, i)
}

/// Shared runs made by this process (a test counts them).
#[cfg(test)]
pub(super) static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Makes the shared run.
pub(super) fn observe(ctx: &CheckCtx) -> Observation {
    #[cfg(test)]
    MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (t, i) = settings(ctx);
    let python = ctx.target.python;
    let ran = if python {
        recorded(ctx, t, i)
    } else {
        sampled(ctx, t, i)
    };
    Observation {
        threads: t,
        increments: i,
        ran,
    }
}

fn recorded(ctx: &CheckCtx, t: u64, i: u64) -> Result<Ran, Outcome> {
    let dir = tempfile::Builder::new()
        .prefix("grader-threads-")
        .tempdir()
        .map_err(|e| Outcome::error(format!("could not make a temporary folder: {e}")))?;
    let log = dir.path().join("threads.log");
    let mut finished = run(ctx, t, i, vec![instrument::thread_log(&log)], |_| {})?;
    Ok(Ran {
        value: finished.value(),
        status: finished.status,
        story: finished.program.exit_story(),
        took: finished.took,
        threads: Threads::Recorded(threadlog::read(&log, finished.pid)),
    })
}

fn sampled(ctx: &CheckCtx, t: u64, i: u64) -> Result<Ran, Outcome> {
    let proc = procfs::available();
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    let mut finished = run(ctx, t, i, vec![], |pid| {
        if !proc {
            return;
        }
        if let Ok(ids) = procfs::thread_ids(pid) {
            seen.extend(ids.into_iter().filter(|&id| id != pid));
        }
    })?;
    // The cgroup's count of threads at once sees those that lived between two samples
    // (a loaded machine can hold the sampler off for longer than a thread lives).
    let at_once = finished.program.peak_tasks().map_or(0, |n| n.saturating_sub(1));
    Ok(Ran {
        value: finished.value(),
        status: finished.status,
        story: finished.program.exit_story(),
        took: finished.took,
        threads: Threads::Sampled(proc.then(|| seen.len().max(at_once as usize))),
    })
}

impl Ran {
    /// How the sampled run went, for messages: `THREADS=4, INCREMENTS=1500000, 0.12 s,
    /// exited with status 0`.
    pub(super) fn sampled_how(&self, obs: &Observation) -> String {
        format!(
            "not a Python program, so its threads were counted by sampling /proc/PID/task every {} ms while it ran, and by its cgroup where it has one ({}, {:.2} s, {})",
            POLL.as_millis(),
            obs.settings(),
            self.took.as_secs_f64(),
            describe(self.status)
        )
    }
}
