//! `multiprint` (SPEC sections 3 and 4): a producer reads lines from stdin, THREADS
//! consumers print one character each (`<name>: <char>`) and sleep DELAY; an empty line or
//! end of stdin ends it all with every consumer's `I'm done!`. Each check starts its own
//! program with generated THREADS, DELAY and input (characters repeat); both endings are
//! used in every run (see each check); `race-free` runs it while the grader forces thread
//! switches (Python), so a buffer taken outside its lock is caught.

mod judge;
mod parse;
mod pieces;
mod run;

use crate::check::{CheckCtx, CheckDef, Outcome};
use crate::checks::threads::{self, NOT_INSTRUMENTED};
use crate::task::TaskDef;
use crate::{instrument, procfs};
use run::{feed_all, Ending, Settings};
use std::time::{Duration, Instant};

/// The task.
pub(crate) static TASK: TaskDef = TaskDef {
    id: "multiprint",
    title: "producer/consumer printing with threads",
    files: &[
        "multiprint.py",
        "multiprint1.py",
        "multiprint2.py",
        "multiprint3.py",
    ],
    checks: CHECKS,
    check_ms: 1100,
    ..TaskDef::PLAIN
};

/// The checks of SPEC section 4, in order.
pub(crate) const CHECKS: &[&CheckDef] = &[
    &CheckDef {
        id: "every-char-once",
        summary: "every character sent is printed exactly once",
        run: every_char_once,
    },
    &CheckDef {
        id: "all-done",
        summary: "each of the THREADS consumers prints I'm done!",
        run: all_done,
    },
    &CheckDef {
        id: "terminates",
        summary: "exits with status 0 within 10 s after the empty line or end of stdin",
        run: terminates,
    },
    &CheckDef {
        id: "no-busy-wait",
        summary: "uses under 20% of one core while waiting for input",
        run: no_busy_wait,
    },
    &CheckDef {
        id: "race-free",
        summary: "every character is printed exactly once while the grader forces thread switches, over several runs",
        run: race_free,
    },
];

/// How long the program has to exit after the empty line (SPEC section 4).
const EXIT_AFTER_EMPTY_LINE: Duration = Duration::from_secs(10);

/// How long consumers have to print `I'm done!` once every character has been printed
/// (they need only wake up: generous).
const GOODBYE: Duration = Duration::from_secs(5);

/// The idle window of `no-busy-wait`, and the most CPU a waiting program may use in it.
const IDLE_WINDOW: Duration = Duration::from_secs(1);
const IDLE_CPU_LIMIT: f64 = 0.20;
/// The limit never drops below this share of a core (a correct program that polls with
/// `time.sleep(0.1)`, as multiprint1.py does, uses about 1%).
const IDLE_CPU_FLOOR: f64 = 0.04;

/// Spins for `window` on a thread of its own and returns the share of a core it got:
/// about 1.0 on an idle machine, less when the cores are busy.
fn spinner_share(window: Duration) -> f64 {
    std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < window {
            std::hint::spin_loop();
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        let cpu = ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9;
        (cpu / start.elapsed().as_secs_f64()).clamp(0.0, 1.0)
    })
    .join()
    .unwrap_or(1.0)
}

/// Runs under forced preemption in `race-free`.
const RUNS: usize = 3;

fn settings(ctx: &CheckCtx) -> Settings {
    Settings::draw(&mut threads::rng(ctx))
}

/// `every-char-once`: all lines and the empty line at once; the printed characters must
/// be the input's, each once.
fn every_char_once(ctx: &CheckCtx) -> Outcome {
    let s = settings(ctx);
    let mut ran = match feed_all(ctx, &s, vec![], |p| judge::all_printed(&s.lines, p)) {
        Ok(r) => r,
        Err(o) => return o,
    };
    match judge::every_char_once(&s.lines, &ran.prints) {
        Ok(()) => Outcome::pass(format!(
            "{}: all {} characters printed once",
            s.shown(),
            s.chars()
        )),
        Err(why) => Outcome::fail(format!(
            "{}: {}",
            s.shown(),
            ran.explain(&why.what, &hint(&why, &ran))
        ))
        .with_counterexample(s.input_shown()),
    }
}

/// `all-done`: exactly THREADS distinct threads print `I'm done!`.
fn all_done(ctx: &CheckCtx) -> Outcome {
    let s = settings(ctx).ended_by(Ending::EndOfStdin);
    let all_said = |p: &[parse::Print]| judge::done_names(p).len() >= s.threads;
    // Once every character is printed, consumers only have to wake up and say goodbye.
    let mut ran = match feed_all(ctx, &s, vec![], |p| {
        all_said(p) || judge::all_printed(&s.lines, p)
    }) {
        Ok(r) => r,
        Err(o) => return o,
    };
    if ran.status.is_none() && !all_said(&ran.prints) {
        run::wait_for(&ran.program, GOODBYE, all_said);
        ran.status = ran.program.wait_exit(Duration::from_millis(100));
        ran.prints = run::prints(&ran.program);
    }
    let names = judge::done_names(&ran.prints);
    let n = names.len();
    let shown = shown_names(&names);
    if n == s.threads {
        return Outcome::pass(format!("THREADS={n}: {shown} each printed I'm done!"));
    }
    let message = if n > s.threads {
        format!(
            "THREADS={}, but {n} threads printed I'm done! ({shown}): start THREADS consumer threads, read from the environment: THREADS = int(os.environ.get(\"THREADS\", 10))",
            s.threads
        )
    } else if n == 0 {
        format!(
            "THREADS={}, but no consumer printed I'm done! {}: each consumer must learn that the input ended (a None in the queue for each of them, or a flag they check) and print <name>: I'm done!{}",
            s.threads,
            s.ending.after(),
            eof_hint(&mut ran.program)
        )
    } else {
        format!(
            "THREADS={}, but only {n} consumer(s) printed I'm done! ({shown}): {} never did - each consumer needs its own stop signal (e.g. one None per consumer in the queue)",
            s.threads,
            s.threads - n
        )
    };
    Outcome::fail(format!("{message}{}", ran.trouble())).with_counterexample(s.input_shown())
}

/// `terminates`: two programs at once, both given the lines first; once they are
/// printed, one gets the empty line and the other end of stdin (both in every run: SPEC
/// section 3 makes them the same); each must exit with status 0 within 10 s.
fn terminates(ctx: &CheckCtx) -> Outcome {
    let s = settings(ctx);
    let endings = [Ending::EmptyLine, Ending::EndOfStdin];
    let mut outcomes = threads::parallel(endings.len(), |k| {
        terminates_by(ctx, &s.ended_by(endings[k]))
    });
    match outcomes
        .iter()
        .position(|o| o.status != crate::check::Status::Pass)
    {
        Some(i) => outcomes.swap_remove(i),
        None => {
            let took: Vec<String> = outcomes.iter().map(|o| o.message.clone()).collect();
            Outcome::pass(format!(
                "{}: exited with status 0 {}",
                s.shown(),
                took.join(", and ")
            ))
        }
    }
}

/// One program of `terminates`, its input ended as `s.ending` says. Passing says how
/// long it took: "0.12 s after the empty line".
fn terminates_by(ctx: &CheckCtx, s: &Settings) -> Outcome {
    let mut program = match run::start(ctx, s, vec![]) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let _ = program.write_stdin(s.text().as_bytes());
    run::wait_for(&program, s.work(), |p| judge::all_printed(&s.lines, p));
    if program.status().is_some() {
        return Outcome::fail(format!(
            "{}: the program ended before its input did - it must keep reading lines until an empty one or end of stdin; {}",
            s.shown(),
            program.exit_story()
        ));
    }
    let sent = Instant::now();
    run::end_input(&mut program, s.ending);
    let after = s.ending.after();
    let Some(status) = program.wait_exit(EXIT_AFTER_EMPTY_LINE) else {
        let names = judge::done_names(&run::prints(&program));
        let alive = procfs::threads(program.pid())
            .map(|n| format!(" (the process still has {n} thread(s))"))
            .unwrap_or_default();
        let missing = s.threads.saturating_sub(names.len());
        let why = if missing > 0 {
            format!(
                "{missing} consumer thread(s) never printed I'm done! - each consumer needs its own stop signal (e.g. one None per consumer in the queue)"
            )
        } else {
            "every consumer printed I'm done!, so something else still waits: a join() on a thread that never ends, or a q.join() whose jobs did not all get q.task_done()".to_string()
        };
        return Outcome::fail(format!(
            "{}: {after} the program did not exit within {} s{alive}; {why}{}",
            s.shown(),
            EXIT_AFTER_EMPTY_LINE.as_secs(),
            eof_hint(&mut program)
        ))
        .with_counterexample(s.input_shown());
    };
    let took = sent.elapsed().as_secs_f64();
    if !status.success() {
        return Outcome::fail(format!("{}: {after} {}", s.shown(), program.exit_story()))
            .with_counterexample(s.input_shown());
    }
    Outcome::pass(format!("{took:.2} s {after}"))
}

/// When the program's stderr shows an `EOFError`, the sentence that explains it (with a
/// leading "; "); empty otherwise.
fn eof_hint(program: &mut crate::process::Program) -> String {
    let stderr = program.stderr.tail_bytes();
    if String::from_utf8_lossy(&stderr).contains("EOFError") {
        "; input() raised EOFError at end of stdin: end of stdin ends the input like an empty line (catch EOFError, or read with for line in sys.stdin)".to_string()
    } else {
        String::new()
    }
}

/// `no-busy-wait`: one line, printed; then, while the program waits for the next line,
/// its CPU time over a second must stay under 20% of what a spinning thread gets meanwhile
/// (20% of one core on an idle machine; see [`spinner_share`]).
fn no_busy_wait(ctx: &CheckCtx) -> Outcome {
    if !procfs::available() {
        return Outcome::skip("this system has no /proc to read the program's CPU time from");
    }
    let mut s = settings(ctx);
    s.lines.truncate(1);
    let mut program = match run::start(ctx, &s, vec![]) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let _ = program.write_stdin(s.text().as_bytes());
    // Start-up costs CPU: measure only once the first line has been printed.
    let printed = run::wait_for(&program, s.work() + Duration::from_secs(10), |p| {
        judge::all_printed(&s.lines, p)
    });
    // A first window without the spinner: a program under IDLE_CPU_FLOOR is under the
    // limit however busy the machine is. Only a program above it, or one whose threads
    // were often found runnable (a spinner that a loaded machine starves of CPU), costs a
    // second window, judged against the spinner as before (most programs wait by blocking).
    let mut measured = idle_window(&mut program, false);
    if matches!(measured, Ok(m) if m.share() >= IDLE_CPU_FLOOR || m.runnable >= 0.5) {
        measured = idle_window(&mut program, true);
    }
    let m = match measured {
        Ok(m) => m,
        Err(o) => return o,
    };
    let (cpu, window, share, limit, reachable) =
        (m.cpu, m.window, m.share(), m.limit(), m.reachable);
    let context = if printed {
        format!(
            "after printing its first line, while {} consumer(s) waited for the next",
            s.threads
        )
    } else {
        "while it should have been waiting for input (it had not printed the first line yet)"
            .to_string()
    };
    if share < limit {
        Outcome::pass(format!(
            "{context}, the program used {cpu:.2} s of CPU in {window:.1} s ({:.0}% of one core)",
            share * 100.0
        ))
    } else {
        Outcome::fail(format!(
            "{context}, the program used {cpu:.2} s of CPU in {window:.1} s ({:.0}% of one core; the limit is {:.0}%, a fifth of the {:.0}% a spinning thread got meanwhile): a thread is spinning in a loop. Wait by blocking instead: q.get(), Condition.wait(), or at least time.sleep() between two looks (as multiprint1.py does)",
            share * 100.0,
            limit * 100.0,
            reachable * 100.0
        ))
    }
}

/// The program's CPU use over one [`IDLE_WINDOW`], and what an always-runnable thread got
/// meanwhile (measured by a spinner when `spin`, else taken as a whole core).
#[derive(Clone, Copy, Debug)]
struct IdleUse {
    cpu: f64,
    window: f64,
    reachable: f64,
    /// Share of looks (first window only) that found a thread of the program running or
    /// waiting to run: near 1 for a spinning program however little CPU a loaded machine
    /// gives it, near 0 for one that waits by blocking.
    runnable: f64,
}

impl IdleUse {
    fn share(&self) -> f64 {
        self.cpu / self.window
    }
    fn limit(&self) -> f64 {
        (IDLE_CPU_LIMIT * self.reachable).max(IDLE_CPU_FLOOR)
    }
}

/// Measures one idle window of `program`; a program that ended, or whose CPU time cannot
/// be read, is the check's outcome.
fn idle_window(program: &mut crate::process::Program, spin: bool) -> Result<IdleUse, Outcome> {
    let pid = program.pid();
    let (Ok(before), start) = (procfs::cpu_ticks(pid), Instant::now()) else {
        return Err(Outcome::fail(format!(
            "the program ended before it was sent the empty line - it must keep reading lines until an empty one; {}",
            program.exit_story()
        )));
    };
    // A spinning thread of the grader's own measures what an always-runnable thread gets
    // here and now: on a loaded machine a spinning program gets less than a core, and the
    // limit scales with it (never below IDLE_CPU_FLOOR).
    let (reachable, runnable) = if spin {
        (spinner_share(IDLE_WINDOW), 1.0)
    } else {
        let (mut looks, mut busy) = (0u32, 0u32);
        while start.elapsed() < IDLE_WINDOW {
            std::thread::sleep(Duration::from_millis(25));
            looks += 1;
            busy += u32::from(any_thread_runnable(pid));
        }
        (1.0, f64::from(busy) / f64::from(looks.max(1)))
    };
    let after = procfs::cpu_ticks(pid);
    let window = start.elapsed().as_secs_f64();
    if program.status().is_some() {
        return Err(Outcome::fail(format!(
            "while waiting for more input, the program ended - it must keep reading lines until an empty one; {}",
            program.exit_story()
        )));
    }
    let Ok(after) = after else {
        return Err(Outcome::error(
            "could not read the program's CPU time from /proc",
        ));
    };
    let cpu = after.saturating_sub(before) as f64 / procfs::ticks_per_second() as f64;
    Ok(IdleUse {
        cpu,
        window,
        reachable,
        runnable,
    })
}

/// Whether a thread of `pid` is running or waiting for a core (state `R` in
/// `/proc/PID/task/TID/stat`).
fn any_thread_runnable(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        std::fs::read_to_string(t.path().join("stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .map(|(_, rest)| rest.trim_start().starts_with('R'))
            })
            .unwrap_or(false)
    })
}

/// `race-free`: `every-char-once` in several runs at once, each under forced preemption
/// with its own seed (Python); without instrumentation otherwise, and said so.
fn race_free(ctx: &CheckCtx) -> Outcome {
    let mut rng = threads::rng(ctx);
    let s = Settings::draw(&mut rng);
    let seeds = threads::preempt_seeds(&mut rng, RUNS);
    let python = ctx.target.python;
    // Odd runs end their input with end of stdin, even ones with an empty line.
    let ended = [s.clone(), s.ended_by(Ending::EndOfStdin)];
    let runs = threads::parallel(RUNS, |k| {
        let features = if python {
            vec![instrument::preempt(seeds[k])]
        } else {
            vec![]
        };
        feed_all(ctx, &ended[k % 2], features, |p| {
            judge::all_printed(&s.lines, p)
        })
    });
    let prefix = if python {
        String::new()
    } else {
        format!("{NOT_INSTRUMENTED}. ")
    };
    for (k, (ran, seed)) in runs.into_iter().zip(&seeds).enumerate() {
        let s = &ended[k % 2];
        let mut ran = match ran {
            Ok(r) => r,
            Err(o) => return o,
        };
        if let Err(why) = judge::every_char_once(&s.lines, &ran.prints) {
            let when = if python {
                format!("under forced thread switches (preemption seed {seed})")
            } else {
                "in one of the runs".to_string()
            };
            return Outcome::fail(format!(
                "{prefix}{}, {when}: {}",
                s.shown(),
                ran.explain(&why.what, &hint(&why, &ran))
            ))
            .with_counterexample(s.input_shown());
        }
    }
    let how = if python {
        format!(
            "under forced thread switches (preemption seeds {})",
            seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        "at once".to_string()
    };
    Outcome::pass(format!(
        "{prefix}{}: {RUNS} runs {how}, every character printed once in each",
        s.shown()
    ))
}

/// What to say after a mismatch: the output lines no whole print accounts for, when there
/// are such lines (they are where the characters went), else the mismatch's usual cause.
fn hint(why: &judge::Mismatch, ran: &run::Ran) -> String {
    match pieces::unread(&String::from_utf8_lossy(&ran.program.stdout.bytes())) {
        Some(unread) => unread.explain(),
        None => why.hint().to_string(),
    }
}

/// Thread names for a message, at most five.
fn shown_names(names: &[String]) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(5)
        .map(|n| crate::escape::text(n.as_bytes()))
        .collect();
    if names.len() > 5 {
        shown.push(format!("and {} more", names.len() - 5));
    }
    shown.join(", ")
}
