//! `multiprint` (SPEC sections 3 and 4): a producer reads lines from stdin, THREADS
//! consumers print one character each (`<name>: <char>`) and sleep DELAY; an empty line or
//! end of stdin ends it all with every consumer's `I'm done!`. `every-char-once`,
//! `all-done`, `terminates` and `no-busy-wait` judge one shared observation: two programs
//! started once per task instance with generated THREADS, DELAY and input (characters
//! repeat), one input ended by the empty line and one by end of stdin (see
//! [`observe`]); each of these checks is a judgement of both runs. `race-free` starts its
//! own runs while the grader forces thread switches (Python), so a buffer taken outside
//! its lock is caught.

mod idle;
mod judge;
mod observe;
mod parse;
mod pieces;
mod run;

use crate::check::{CheckCtx, CheckDef, Outcome};
use crate::checks::threads::{self, NOT_INSTRUMENTED};
use crate::instrument;
use crate::task::TaskDef;
use observe::{observation, Observation, Watched, EXIT_AFTER_EMPTY_LINE};
use run::{feed_all, Ending, Settings};

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
        run: |ctx| every_char_once(&observation(ctx)),
    },
    &CheckDef {
        id: "all-done",
        summary: "each of the THREADS consumers prints I'm done!",
        run: |ctx| all_done(&observation(ctx)),
    },
    &CheckDef {
        id: "terminates",
        summary: "exits with status 0 within 10 s after the empty line or end of stdin",
        run: |ctx| terminates(&observation(ctx)),
    },
    &CheckDef {
        id: "no-busy-wait",
        summary: "uses under 20% of one core while waiting for input",
        run: |ctx| no_busy_wait(&observation(ctx)),
    },
    &CheckDef {
        id: "race-free",
        summary: "every character is printed exactly once while the grader forces thread switches, over several runs",
        run: race_free,
    },
];

/// Runs under forced preemption in `race-free`.
const RUNS: usize = 3;

/// THREADS in `race-free`.
const RACE_THREADS: std::ops::RangeInclusive<usize> = 4..=5;

/// The runs of the observation in order (the empty line's first), or the outcome of the
/// first that could not start.
fn watched(obs: &Observation) -> Result<Vec<&Watched>, Outcome> {
    obs.runs
        .iter()
        .map(|r| r.as_ref().map_err(Outcome::clone))
        .collect()
}

/// `every-char-once`: in both runs, the printed characters must be the input's, each once.
fn every_char_once(obs: &Observation) -> Outcome {
    let s = &obs.settings;
    let runs = match watched(obs) {
        Ok(r) => r,
        Err(o) => return o,
    };
    for w in runs {
        if let Err(why) = judge::every_char_once(&s.lines, &w.ran.prints) {
            return Outcome::fail(format!(
                "{}, {}: {}",
                s.shown(),
                w.ended_by(),
                w.ran.explain(&why.what, &hint(&why, &w.ran))
            ))
            .with_counterexample(obs.fed_shown(w.ending));
        }
    }
    Outcome::pass(format!(
        "{}: all {} characters printed once, with the input ended by an empty line and by end of stdin",
        s.shown(),
        s.chars()
    ))
}

/// `all-done`: in both runs, exactly THREADS distinct threads print `I'm done!`.
fn all_done(obs: &Observation) -> Outcome {
    let threads = obs.settings.threads;
    let runs = match watched(obs) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let mut said = Vec::new();
    for w in runs {
        let names = judge::done_names(&w.ran.prints);
        let n = names.len();
        let shown = shown_names(&names);
        if n == threads {
            said.push(shown);
            continue;
        }
        let after = w.ending.after();
        let message = if n > threads {
            format!(
                "THREADS={threads}, but {n} threads printed I'm done! {after} ({shown}): start THREADS consumer threads, read from the environment: THREADS = int(os.environ.get(\"THREADS\", 10))"
            )
        } else if n == 0 {
            format!(
                "THREADS={threads}, but no consumer printed I'm done! {after}: each consumer must learn that the input ended (a None in the queue for each of them, or a flag they check) and print <name>: I'm done!{}",
                w.ran.eof_hint()
            )
        } else {
            format!(
                "THREADS={threads}, but only {n} consumer(s) printed I'm done! {after} ({shown}): {} never did - each consumer needs its own stop signal (e.g. one None per consumer in the queue)",
                threads - n
            )
        };
        return Outcome::fail(format!("{message}{}", w.ran.trouble()))
            .with_counterexample(obs.fed_shown(w.ending));
    }
    Outcome::pass(format!(
        "THREADS={threads}: {} each printed I'm done! after the empty line, and {} after end of stdin",
        said[0], said[1]
    ))
}

/// `terminates`: each run (one ended by the empty line, one by end of stdin) must exit
/// with status 0 within 10 s of having printed its input.
fn terminates(obs: &Observation) -> Outcome {
    let s = &obs.settings;
    let runs = match watched(obs) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let mut took = Vec::new();
    for w in runs {
        let after = w.ending.after();
        if let Some(story) = &w.ended_early {
            return Outcome::fail(format!(
                "{}: the program ended before its input did - it must keep reading lines until an empty one or end of stdin; {story}",
                s.shown()
            ))
            .with_counterexample(obs.fed_shown(w.ending));
        }
        let Some(exited_after) = w.exited_after else {
            let names = judge::done_names(&w.ran.prints);
            let alive = w
                .alive
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
            let never = match &w.frozen {
                Some(waits) => format!(
                    " and never will: every thread of it waits for something else, with nothing to wake it (in {waits})"
                ),
                None => format!(" within {} s", EXIT_AFTER_EMPTY_LINE.as_secs()),
            };
            return Outcome::fail(format!(
                "{}: {after} the program did not exit{never}{alive}; {why}{}",
                s.shown(),
                w.ran.eof_hint()
            ))
            .with_counterexample(obs.fed_shown(w.ending));
        };
        if let Some(crash) = &w.ran.crash {
            return Outcome::fail(format!("{}: {after} {crash}", s.shown()))
                .with_counterexample(obs.fed_shown(w.ending));
        }
        took.push(format!(
            "{:.2} s after the last lines and {} were sent",
            exited_after.as_secs_f64(),
            w.ending.name()
        ));
    }
    Outcome::pass(format!(
        "{}: exited with status 0 {}",
        s.shown(),
        took.join(", and ")
    ))
}

/// `no-busy-wait`: in both runs, once the first line is printed and while the program
/// waits for the next, its CPU time over a second must stay under 20% of what a spinning
/// thread gets meanwhile (20% of one core on an idle machine; see [`idle`]).
fn no_busy_wait(obs: &Observation) -> Outcome {
    let runs = match watched(obs) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let mut most: Option<(idle::IdleUse, &Watched)> = None;
    for w in runs {
        let m = match &w.idle {
            Ok(m) => *m,
            Err(o) => return o.clone(),
        };
        let context = idle_context(w, obs.settings.threads);
        let (cpu, window, share, limit) = (m.cpu, m.window, m.share(), m.limit());
        if share >= limit {
            let runnable = if m.spinning() {
                format!(
                    "; a thread of it was running or waiting for a core in {:.0}% of the looks every 25 ms",
                    m.runnable * 100.0
                )
            } else {
                String::new()
            };
            return Outcome::fail(format!(
                "{context}, the program used {cpu:.2} s of CPU in {window:.1} s ({:.0}% of one core; the limit is {:.0}%, a fifth of the {:.0}% a spinning thread got meanwhile{runnable}): a thread is spinning in a loop. Wait by blocking instead: q.get(), Condition.wait(), or at least time.sleep() between two looks (as multiprint1.py does)",
                share * 100.0,
                limit * 100.0,
                m.reachable * 100.0
            ));
        }
        if most.is_none_or(|(b, _)| share > b.share()) {
            most = Some((m, w));
        }
    }
    let Some((m, w)) = most else {
        return Outcome::error("the observation has no run");
    };
    Outcome::pass(format!(
        "{}, the program used {:.2} s of CPU in {:.1} s ({:.0}% of one core; the more of two runs)",
        idle_context(w, obs.settings.threads),
        m.cpu,
        m.window,
        m.share() * 100.0
    ))
}

/// When the idle window was, for `no-busy-wait`'s messages.
fn idle_context(w: &Watched, threads: usize) -> String {
    if w.first_printed {
        format!("after printing its first line, while {threads} consumer(s) waited for the next")
    } else {
        "while it should have been waiting for input (it had not printed the first line yet)"
            .to_string()
    }
}

/// `race-free`: `every-char-once` in several runs at once, each under forced preemption
/// with its own seed (Python); without instrumentation otherwise, and said so. With 4-5
/// consumers: a consumer that takes its character after releasing the lock races only
/// with another that wakes in the same instant, which two polling consumers missed in one
/// suite run of ten (bad/multiprint-take-outside-lock, THREADS=2).
fn race_free(ctx: &CheckCtx) -> Outcome {
    let mut rng = threads::rng(ctx);
    let s = Settings::draw_with(&mut rng, RACE_THREADS);
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
        let ran = match ran {
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
    match pieces::unread(&String::from_utf8_lossy(&ran.stdout)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use std::sync::atomic::Ordering;

    /// Grades the lecture's multiprint3.py with `checks`; the messages by check id.
    fn grade(checks: &[&str]) -> Vec<(String, Status, String)> {
        crate::runner::grade_lecture_file("multiprint3.py", "multiprint.py", "multiprint", checks, 11, 4)
    }

    /// The four checks that judge the observation make it once between them, and a check
    /// alone makes the same one: the same settings, the same verdict, the same message.
    #[test]
    fn the_observation_is_made_once_and_the_same_for_a_check_alone() {
        let four = ["every-char-once", "all-done", "terminates", "no-busy-wait"];
        let before = observe::MADE.load(Ordering::SeqCst);
        let together = grade(&four);
        assert_eq!(observe::MADE.load(Ordering::SeqCst) - before, 1);
        assert_eq!(together.len(), 4, "{together:?}");
        assert!(together.iter().all(|c| c.1 == Status::Pass), "{together:?}");
        for id in ["every-char-once", "all-done"] {
            let before = observe::MADE.load(Ordering::SeqCst);
            let alone = grade(&[id]);
            assert_eq!(observe::MADE.load(Ordering::SeqCst) - before, 1);
            let among = together.iter().find(|c| c.0 == id).unwrap();
            // The settings are in the message up to the colon (after it, all-done names
            // the threads in the order they said goodbye, which is the scheduler's).
            let settings = |m: &str| m.split(':').next().unwrap().to_string();
            assert_eq!((alone[0].1, settings(&alone[0].2)), (among.1, settings(&among.2)));
        }
    }
}
