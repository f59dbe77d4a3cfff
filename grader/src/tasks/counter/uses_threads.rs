//! `uses-threads`: THREADS threads must really run. For Python the grader's
//! instrumentation records every thread that began running (printed names prove
//! nothing); for other programs `/proc/PID/task` is sampled while a long count runs, which
//! can prove that threads ran but never that they did not, so it passes or skips.

use super::run::{run, POLL};
use crate::check::{CheckCtx, Outcome};
use crate::checks::threads;
use crate::process::program::describe;
use crate::{escape, instrument, procfs, threadlog};
use proptest::prelude::RngExt;
use std::collections::BTreeSet;

/// `uses-threads`: THREADS threads must really start. For Python, the instrumentation
/// records every thread that began running; for other programs `/proc/PID/task` is sampled
/// while a long count runs, which can prove threads ran but never that they did not.
pub(super) fn uses_threads(ctx: &CheckCtx) -> Outcome {
    let mut rng = threads::rng(ctx);
    let t = rng.random_range(3..=8u64);
    if ctx.target.python {
        recorded_threads(ctx, t, rng.random_range(500..=2_000u64))
    } else {
        sampled_threads(ctx, t, rng.random_range(1_000_000..=2_000_000u64))
    }
}

fn recorded_threads(ctx: &CheckCtx, t: u64, i: u64) -> Outcome {
    let dir = match tempfile::Builder::new().prefix("grader-threads-").tempdir() {
        Ok(d) => d,
        Err(e) => return Outcome::error(format!("could not make a temporary folder: {e}")),
    };
    let log = dir.path().join("threads.log");
    let mut finished = match run(ctx, t, i, vec![instrument::thread_log(&log)], |_| {}) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let tally = threadlog::read(&log, finished.pid);
    let started = tally.started.len() as u64;
    if started >= t {
        return Outcome::pass(format!(
            "THREADS={t}: {started} threads started ({})",
            names(&tally.started)
        ));
    }
    if started == 0 && tally.most_alive.is_none() {
        if !finished.status.success() {
            return Outcome::fail(format!(
                "THREADS={t}: no thread was started; {}",
                finished.program.exit_story()
            ));
        }
        return Outcome::error(
            "the grader's thread recorder did not run in this program (was site-customisation turned off, e.g. python -S or -I?)",
        );
    }
    let crashed = if finished.status.success() {
        String::new()
    } else {
        format!("; {}", finished.program.exit_story())
    };
    if started == 0 {
        return Outcome::fail(format!(
            "THREADS={t}, but no thread was started: the main thread did all the work{crashed}. Calling t.run() runs the code in the calling thread; call t.start() for each thread, then t.join()"
        ));
    }
    Outcome::fail(format!(
        "THREADS={t}, but only {started} thread(s) started ({}){crashed}: start THREADS threads, read from the environment",
        names(&tally.started)
    ))
}

fn sampled_threads(ctx: &CheckCtx, t: u64, i: u64) -> Outcome {
    if !procfs::available() {
        return Outcome::skip(
            "not a Python program, so the grader cannot record its threads, and this system has no /proc to watch them in",
        );
    }
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    let finished = match run(ctx, t, i, vec![], |pid| {
        if let Ok(ids) = procfs::thread_ids(pid) {
            seen.extend(ids.into_iter().filter(|&id| id != pid));
        }
    }) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let others = seen.len() as u64;
    let how = format!(
        "not a Python program, so its threads were counted by sampling /proc/PID/task every {} ms while it ran ({}, {:.2} s, {})",
        POLL.as_millis(),
        finished.settings(),
        finished.took.as_secs_f64(),
        describe(finished.status)
    );
    if others >= t {
        Outcome::pass(format!("{how}: saw {others} threads besides the main one"))
    } else {
        let saw = match others {
            0 => "saw no thread besides the main one".to_string(),
            n => format!("saw only {n} thread(s) besides the main one"),
        };
        Outcome::skip(format!(
            "{how}: {saw}. Threads that are not OS threads (goroutines, green threads) or that end between two samples go unseen, so this is no verdict"
        ))
    }
}

/// `Thread-1, Thread-2, ...` (at most five names shown).
fn names(started: &[String]) -> String {
    let mut shown: Vec<String> = started
        .iter()
        .take(5)
        .map(|n| escape::text(n.as_bytes()))
        .collect();
    if started.len() > 5 {
        shown.push(format!("and {} more", started.len() - 5));
    }
    shown.join(", ")
}
