//! `counter` (SPEC sections 3 and 4): THREADS threads each add 1 to a shared counter
//! INCREMENTS times and the program prints `Obtained value: N`. `total` runs it as it is;
//! `race-free` runs it while the grader forces thread switches between bytecodes (CPython
//! 3.10+ almost never switches inside `a = a + 1` by itself, so a missing lock would go
//! unseen); `uses-threads` asks the interpreter which threads really ran.

mod value;

use crate::check::{CheckCtx, CheckDef, LaunchOpts, Outcome};
use crate::checks::threads::{self, NOT_INSTRUMENTED};
use crate::process::program::{describe, indent};
use crate::process::Program;
use crate::{escape, instrument, procfs, threadlog};
use proptest::prelude::RngExt;
use std::collections::BTreeSet;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// The checks of SPEC section 4, in order.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "total",
        summary: "prints Obtained value: THREADS x INCREMENTS for generated THREADS and INCREMENTS",
        run: total,
    },
    CheckDef {
        id: "race-free",
        summary: "no update is lost while the grader forces thread switches, over several runs",
        run: race_free,
    },
    CheckDef {
        id: "uses-threads",
        summary:
            "THREADS threads really run (recorded by the interpreter, not read from the output)",
        run: uses_threads,
    },
];

/// How long one run may take: generous, a correct program needs well under a second.
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs under forced preemption in `race-free` (plus one run without, for comparison).
const PREEMPTED_RUNS: usize = 3;

/// How often a running program is looked at (exit, and `/proc/PID/task` when sampling).
const POLL: Duration = Duration::from_millis(1);

/// One finished run.
struct Finished {
    threads: u64,
    increments: u64,
    pid: u32,
    status: ExitStatus,
    stdout: String,
    program: Program,
    took: Duration,
}

impl Finished {
    /// `THREADS=4, INCREMENTS=2000`
    fn settings(&self) -> String {
        format!("THREADS={}, INCREMENTS={}", self.threads, self.increments)
    }

    /// The printed value, or why there is none (a crash, no `Obtained value` line).
    fn value(&mut self) -> Result<u64, String> {
        if !self.status.success() {
            return Err(format!(
                "{}: {}",
                self.settings(),
                self.program.exit_story()
            ));
        }
        value::obtained(&self.stdout).ok_or_else(|| {
            let tail = escape::tail(self.stdout.as_bytes(), 6);
            format!(
                "{}: the program printed no `Obtained value: N` line{}",
                self.settings(),
                if tail.is_empty() {
                    " (its output was empty)".to_string()
                } else {
                    format!("; its output ended with:\n{}", indent(&tail))
                }
            )
        })
    }
}

/// Starts the program with `threads` and `increments` (and instrumentation `features`),
/// calls `watch(pid)` every millisecond while it runs, and returns it finished; a program
/// that does not finish within [`DEADLINE`] is a failing outcome.
fn run(
    ctx: &CheckCtx,
    threads: u64,
    increments: u64,
    features: Vec<(String, String)>,
    mut watch: impl FnMut(u32),
) -> Result<Finished, Outcome> {
    let opts = LaunchOpts {
        env: vec![
            ("THREADS".into(), threads.to_string()),
            ("INCREMENTS".into(), increments.to_string()),
        ],
        features,
        ..LaunchOpts::default()
    };
    let mut program = ctx
        .launch(&opts)
        .map_err(|e| Outcome::error(format!("could not start the program: {e}")))?;
    let pid = program.pid();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = program.status() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            program.kill();
            return Err(Outcome::fail(format!(
                "THREADS={threads}, INCREMENTS={increments}: the program did not finish within {} s (a thread that never ends, or a join() that waits forever?); {}",
                DEADLINE.as_secs(),
                program.exit_story()
            )));
        }
        watch(pid);
        std::thread::sleep(POLL);
    };
    let took = started.elapsed();
    program.stdout.wait_closed(Duration::from_secs(5));
    let stdout = String::from_utf8_lossy(&program.stdout.bytes()).into_owned();
    Ok(Finished {
        threads,
        increments,
        pid,
        status,
        stdout,
        program,
        took,
    })
}

/// `total`: generated THREADS and INCREMENTS, no instrumentation; the printed value must
/// be their product.
fn total(ctx: &CheckCtx) -> Outcome {
    let mut rng = threads::rng(ctx);
    let t = rng.random_range(2..=8u64);
    let i = rng.random_range(1_000..=20_000u64);
    let mut finished = match run(ctx, t, i, vec![], |_| {}) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let got = match finished.value() {
        Ok(v) => v,
        Err(why) => return Outcome::fail(why),
    };
    let expected = t * i;
    if got == expected {
        return Outcome::pass(format!(
            "THREADS={t}, INCREMENTS={i}: Obtained value: {got}"
        ));
    }
    let hint = value::explain(t, i, got)
        .map(|h| format!(": {h}"))
        .unwrap_or_default();
    Outcome::fail(format!(
        "THREADS={t}, INCREMENTS={i}: expected Obtained value: {expected}, got {got}{hint}"
    ))
}

/// `race-free`: several runs under forced preemption (Python), each must count every
/// update. A run without preemption is made alongside: a value that is wrong the same way
/// without forced switches is not a lost update (that is `total`'s business).
fn race_free(ctx: &CheckCtx) -> Outcome {
    let mut rng = threads::rng(ctx);
    let t = rng.random_range(3..=8u64);
    let python = ctx.target.python;
    // Without instrumentation only real parallelism can expose a race: count longer.
    let i = if python {
        rng.random_range(1_000..=3_000u64)
    } else {
        rng.random_range(100_000..=300_000u64)
    };
    let seeds = threads::preempt_seeds(&mut rng, PREEMPTED_RUNS);
    let runs = threads::parallel(PREEMPTED_RUNS + 1, |k| {
        let features = match seeds.get(k) {
            Some(&seed) if python => vec![instrument::preempt(seed)],
            _ => vec![],
        };
        run(ctx, t, i, features, |_| {}).map(|mut f| f.value())
    });
    let mut runs = runs.into_iter();
    let baseline = runs.next_back().and_then(|r| r.ok()?.ok());
    let expected = t * i;
    let mut values = Vec::with_capacity(PREEMPTED_RUNS);
    for (run, seed) in runs.zip(&seeds) {
        match run {
            Err(outcome) => return under_preemption(outcome, python, *seed),
            Ok(Err(why)) => {
                return under_preemption(Outcome::fail(why), python, *seed);
            }
            Ok(Ok(v)) => values.push((v, *seed)),
        }
    }
    let lost: Vec<_> = values
        .iter()
        .filter(|(v, _)| *v != expected && Some(*v) != baseline)
        .collect();
    let shown = values
        .iter()
        .map(|(v, s)| {
            if python {
                format!("{v} (seed {s})")
            } else {
                v.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let prefix = if python {
        String::new()
    } else {
        format!("{NOT_INSTRUMENTED}. ")
    };
    if let Some(&&(v, seed)) = lost.first() {
        let lock = if python {
            "protect `a = a + 1` with a Lock (acquire before reading the counter, release after writing it)"
        } else {
            "protect the shared counter with a lock (mutex) held across its read and its write"
        };
        let seed = if python {
            format!(" (preemption seed {seed})")
        } else {
            String::new()
        };
        return Outcome::fail(format!(
            "{prefix}lost updates: {t} threads x {i} increments gave {v}, not {expected}{seed} - {lock}. All {PREEMPTED_RUNS} runs gave: {shown}"
        ));
    }
    let how = if python {
        "under forced thread switches"
    } else {
        "in parallel"
    };
    match baseline {
        Some(b) if b != expected => Outcome::pass(format!(
            "{prefix}{t} threads x {i} increments gave {b} both {how} and without: no update lost (but the value itself is wrong: see `total`)"
        )),
        _ => Outcome::pass(format!(
            "{prefix}{PREEMPTED_RUNS} runs {how}, {t} threads x {i} increments: every run gave {expected}"
        )),
    }
}

/// Says that a failing run was one under forced preemption, with its seed.
fn under_preemption(outcome: Outcome, python: bool, seed: u64) -> Outcome {
    if !python || outcome.status != crate::check::Status::Fail {
        return outcome;
    }
    Outcome::fail(format!(
        "under forced thread switches (preemption seed {seed}): {}",
        outcome.message
    ))
}

/// `uses-threads`: THREADS threads must really start. For Python, the instrumentation
/// records every thread that began running; for other programs `/proc/PID/task` is sampled
/// while a long count runs, which can prove threads ran but never that they did not.
fn uses_threads(ctx: &CheckCtx) -> Outcome {
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
