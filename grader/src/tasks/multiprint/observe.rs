//! The observation that `every-char-once`, `all-done`, `terminates` and `no-busy-wait`
//! judge: two programs at once, with the same generated THREADS, DELAY and lines, one
//! whose input ends with an empty line and one whose input ends with end of stdin (SPEC
//! section 3 makes them the same). Each is sent the first line (one character) alone; once
//! it is printed, the program's CPU use is measured over an idle second while it waits
//! for the next line; then the other lines and the end of the input are sent at once (so
//! a producer that does not wait for its consumers overwrites characters), and the program
//! is watched until it has printed them and exits (10 s from then at most; at once when it
//! can certainly never exit: every thread asleep for good, [`run::wait_exit`]).
//!
//! The observation is made once per task instance and shared ([`CheckCtx::shared`]):
//! the first of these checks to run makes it, the others wait for it and judge the same
//! runs. Its settings come from a generator shared by the four checks, so a check run
//! alone (`--check all-done`) makes exactly the same observation and reaches the same
//! verdict as among the others.

use super::idle::{self, IdleUse};
use super::judge;
use super::run::{self, quoted, text, Ending, Ran, Settings, SETTLE};
use crate::check::{CheckCtx, Outcome};
use crate::checks::threads;
use crate::procfs;
use proptest::test_runner::{RngAlgorithm, TestRng};
use std::time::{Duration, Instant};

/// How long the program has to exit after the empty line (SPEC section 4), counted from
/// when it has printed its input (or the deadline for that passed).
pub(super) const EXIT_AFTER_EMPTY_LINE: Duration = Duration::from_secs(10);


/// The name the shared generator's seed is derived from (instead of a check's id).
const SEED_NAME: &str = "observation";

/// The two runs, with the input both were given.
#[derive(Debug)]
pub(super) struct Observation {
    /// THREADS, DELAY and the lines (`ending` is that of the first run).
    pub settings: Settings,
    /// The run ended by an empty line, then the one ended by end of stdin; a run that
    /// could not start is its outcome (an error).
    pub runs: Vec<Result<Watched, Outcome>>,
}

/// One program of the observation.
#[derive(Debug)]
pub(super) struct Watched {
    /// How its input ended.
    pub ending: Ending,
    /// It printed the first line before the idle window.
    pub first_printed: bool,
    /// Its CPU use while it waited for the second line, or the outcome that stands for it
    /// (the program ended; no `/proc`).
    pub idle: Result<IdleUse, Outcome>,
    /// It ended before it was sent the rest of its input: how.
    pub ended_early: Option<String>,
    /// How long after the rest of its input (and its end) was sent it exited, when it did
    /// within [`EXIT_AFTER_EMPTY_LINE`] of having printed that input.
    pub exited_after: Option<Duration>,
    /// The threads it still had when it did not exit in time.
    pub alive: Option<usize>,
    /// It can never exit: what its threads wait in ("lock(), read()"), when that was
    /// certain before the deadline ([`run::wait_exit`]).
    pub frozen: Option<String>,
    /// What it printed, and how it ended.
    pub ran: Ran,
}

impl Watched {
    /// "input ended by an empty line" / "... by end of stdin (...)"
    pub(super) fn ended_by(&self) -> String {
        match self.ending {
            Ending::EmptyLine => "input ended by an empty line".to_string(),
            Ending::EndOfStdin => {
                "input ended by end of stdin (stdin closed, no empty line)".to_string()
            }
        }
    }
}

impl Observation {
    /// The whole input of the run ended by `ending`, for a counterexample: `THREADS=3,
    /// DELAY=0.02, input line "x" alone, then (once it was printed, after an idle second)
    /// lines "ab", "cd" and an empty line at once`.
    pub(super) fn fed_shown(&self, ending: Ending) -> String {
        let s = &self.settings;
        format!(
            "THREADS={}, DELAY={}, input line {} alone, then (once it was printed, after an idle second) lines {} and {} at once",
            s.threads,
            s.delay(),
            quoted(&s.lines[..1]),
            quoted(&s.lines[1..]),
            ending.name()
        )
    }
}

/// The observation of `ctx`'s target: made by the first check that asks, shared by all.
pub(super) fn observation(ctx: &CheckCtx) -> std::sync::Arc<Observation> {
    ctx.shared(|| observe(ctx))
}

/// Observations made by this process (a test counts them).
#[cfg(test)]
pub(super) static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Makes the observation (see the module's header).
pub(super) fn observe(ctx: &CheckCtx) -> Observation {
    #[cfg(test)]
    MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let settings = Settings::draw(&mut TestRng::from_seed(
        RngAlgorithm::ChaCha,
        &ctx.shared_seed(SEED_NAME),
    ));
    let endings = [Ending::EmptyLine, Ending::EndOfStdin];
    let runs = threads::parallel(endings.len(), |k| {
        watch(ctx, &settings.ended_by(endings[k]))
    });
    Observation { settings, runs }
}

/// One run of the observation.
fn watch(ctx: &CheckCtx, s: &Settings) -> Result<Watched, Outcome> {
    let mut program = run::start(ctx, s, vec![])?;
    let (first, rest) = s.lines.split_at(1);
    let _ = program.write_stdin(text(first).as_bytes());
    // Start-up costs CPU: the idle window begins once the first line has been printed.
    let alone = Settings {
        lines: first.to_vec(),
        ..s.clone()
    };
    let first_printed = run::wait_for(&program, alone.work() + Duration::from_secs(10), |p| {
        judge::all_printed(first, p)
    });
    let idle = idle::measure(&mut program);
    if let Some(status) = program.status() {
        program.stdout.wait_closed(SETTLE);
        let ran = Ran::of(&mut program, Some(status));
        return Ok(Watched {
            ending: s.ending,
            first_printed,
            idle,
            ended_early: Some(program.exit_story()),
            exited_after: None,
            alive: None,
            frozen: None,
            ran,
        });
    }
    let sent = Instant::now();
    // A program that stops reading early is judged by what it printed.
    let _ = program.write_stdin(text(rest).as_bytes());
    run::end_input(&mut program, s.ending);
    // A program that did not print the first line within its generous deadline is given
    // only a short while for the rest.
    let work = if first_printed {
        s.work() + Duration::from_secs(10)
    } else {
        SETTLE
    };
    // Once every consumer said goodbye nothing more is printed (a producer that lost
    // characters never prints them all).
    run::wait_for(&program, work, |p| {
        judge::all_printed(&s.lines, p) || judge::done_names(p).len() >= s.threads
    });
    // The grader sends nothing more: a program whose every thread waits for good (a
    // consumer in get() nobody feeds, a join() on it) can never exit, and is known at once.
    let (status, frozen) = match run::wait_exit(&mut program, EXIT_AFTER_EMPTY_LINE) {
        Ok(status) => (Some(status), None),
        Err(frozen) => (None, frozen),
    };
    let exited_after = status.map(|_| sent.elapsed());
    let alive = match status {
        Some(_) => {
            program.stdout.wait_closed(SETTLE);
            None
        }
        None => procfs::threads(program.pid()).ok(),
    };
    Ok(Watched {
        ending: s.ending,
        first_printed,
        idle,
        ended_early: None,
        exited_after,
        alive,
        frozen,
        ran: Ran::of(&mut program, status),
    })
}
