//! `uses-threads`: THREADS threads must really run. For Python the grader's
//! instrumentation records every thread that began running (printed names prove
//! nothing); for other programs `/proc/PID/task` is sampled while a long count runs, which
//! can prove that threads ran but never that they did not, so it passes or skips. Judged
//! on the shared run ([`super::observe`]).

use super::observe::{Observation, Ran, Threads};
use crate::check::Outcome;
use crate::escape;
use crate::threadlog::Tally;

/// `uses-threads`: THREADS threads must really start.
pub(super) fn uses_threads(obs: &Observation) -> Outcome {
    let ran = match &obs.ran {
        Ok(r) => r,
        Err(o) => return o.clone(),
    };
    match &ran.threads {
        Threads::Recorded(tally) => recorded_threads(obs.threads, ran, tally),
        Threads::Sampled(seen) => sampled_threads(obs, ran, *seen),
    }
}

fn recorded_threads(t: u64, ran: &Ran, tally: &Tally) -> Outcome {
    let started = tally.started.len() as u64;
    if started >= t {
        return Outcome::pass(format!(
            "THREADS={t}: {started} threads started ({})",
            names(&tally.started)
        ));
    }
    if started == 0 && tally.most_alive.is_none() {
        if !ran.status.success() {
            return Outcome::fail(format!(
                "THREADS={t}: no thread was started; {}",
                ran.story
            ));
        }
        return Outcome::error(
            "the grader's thread recorder did not run in this program (was site-customisation turned off, e.g. python -S or -I?)",
        );
    }
    let crashed = if ran.status.success() {
        String::new()
    } else {
        format!("; {}", ran.story)
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

fn sampled_threads(obs: &Observation, ran: &Ran, seen: Option<usize>) -> Outcome {
    let Some(others) = seen else {
        return Outcome::skip(
            "not a Python program, so the grader cannot record its threads, and this system has no /proc to watch them in",
        );
    };
    let others = others as u64;
    let how = ran.sampled_how(obs);
    if others >= obs.threads {
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
