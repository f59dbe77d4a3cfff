//! The property engine: proptest's `TestRunner` driven at run time against a live
//! program. It is seeded from the run seed (so `--seed` reproduces a failure), runs
//! `--cases` cases, and on failure shrinks against the live program for at most
//! [`SHRINK_STEPS`] runs, reporting the smallest failing case it found. Deadlines are the
//! checks' own (proptest's fork and timeout need a test harness, which a binary does not
//! have).
//!
//! A case ends in one of three ways, and the type says which ([`Case`]): it passes, the
//! program fails it ([`Failure::Program`]: a counterexample), or the grader could not run
//! it ([`Failure::Grader`]: no free port, no namespace, a relaunch that could not start).
//! A grader failure ends the whole check as `error`, whenever it happens (also while
//! shrinking), so `fail` only ever comes from the program.

use crate::check::{CheckCtx, Outcome, Status};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::{Cell, RefCell};

/// Shrink budget after the first failure, in steps: a candidate run costs 1 step,
/// [`START_RUN`] when it started a program, [`SLOW_RUN`] when it waited out one of its
/// deadlines ([`waited_out`]). A count of what the program did, never a time: the
/// smallest case shown is then a function of the seed and the program's behaviour, so
/// the reproduce line shows the same case on every run, on a quiet machine or a loaded
/// one (a run's duration made it vary with load). Once spent, every further candidate is
/// answered "passes" without running (proptest's own cap prints to stderr when it trips).
pub(crate) const SHRINK_STEPS: u32 = 24;

/// Steps charged for a slow run: at most 2 such runs per shrink, so a program that never
/// answers, or a case that moves megabytes, is not run dozens of times.
pub(crate) const SLOW_RUN: u32 = 12;

/// Steps charged for a run that started a program (a server that serves one client and
/// exits needs a process per case): at most 6 such runs per shrink. Whether a run starts
/// one is the program's behaviour, so the budget stays deterministic.
pub(crate) const START_RUN: u32 = 4;

/// A last bound on shrinking, in wall-clock time, for programs slow in ways no step count
/// foresees (every run just under a deadline); far above what the step budget costs a
/// correct grader on a loaded machine, so only such a pathological program may show
/// another case on another run.
const SHRINK_CAP: std::time::Duration = std::time::Duration::from_secs(15);

thread_local! {
    static WAITED: Cell<bool> = const { Cell::new(false) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Tells the property engine that the case running on this thread started a program.
pub(crate) fn started_program() {
    STARTED.with(|s| s.set(true));
}

/// Tells the property engine that the case running on this thread waited out one of its
/// deadlines (an answer, a close, a connection that never came). Whether it did is the
/// program's behaviour, not the machine's speed, so the shrink budget stays deterministic.
pub(crate) fn waited_out() {
    WAITED.with(|w| w.set(true));
}

/// Runs `test` and says what it cost in shrink steps: [`SLOW_RUN`] when it waited out a
/// deadline, [`START_RUN`] when it started a program, else 1.
fn timed<T>(test: impl FnOnce() -> T) -> (T, u32) {
    WAITED.with(|w| w.set(false));
    STARTED.with(|s| s.set(false));
    let out = test();
    let cost = if WAITED.with(|w| w.replace(false)) {
        SLOW_RUN
    } else if STARTED.with(|s| s.replace(false)) {
        START_RUN
    } else {
        1
    };
    (out, cost)
}

/// Why a case did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The program broke the property; the message is for the student.
    Program(String),
    /// The grader could not run the case; the message says why (for the TA).
    Grader(String),
}

impl Failure {
    /// The failure behind an outcome of the grader's own set-up (starting or relaunching
    /// the program): `error` outcomes are the grader's, the others the program's.
    pub(crate) fn from_outcome(outcome: Outcome) -> Failure {
        match outcome.status {
            Status::Error | Status::Skip => Failure::Grader(outcome.message),
            Status::Fail | Status::Pass => Failure::Program(outcome.message),
        }
    }

    /// The check's outcome for a single case that did not pass: `fail` with `context`
    /// before the program's message, or `error` with the grader's.
    pub(crate) fn into_outcome(self, context: &str) -> Outcome {
        match self {
            Failure::Program(m) => Outcome::fail(format!("{context}{m}")),
            Failure::Grader(m) => Outcome::error(m),
        }
    }
}

/// The result of one case: `Ok` when it passes.
pub(crate) type Case = Result<(), Failure>;

/// Runs `test` on `cases` values drawn from `strategy`. `show` renders a value for the
/// report. Passing says how many cases ran; a program failure gives the smallest case's
/// message; a grader failure makes the check `error`.
pub(crate) fn check<S: Strategy>(
    ctx: &CheckCtx,
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(&S::Value) -> Case,
) -> Outcome {
    run(&ctx.rng_seed(), cases, strategy, show, test)
}

/// The first `cases` values [`check`] would draw from `strategy` for this check (same
/// seed, same order), for a check that runs them otherwise than one case at a time.
pub(crate) fn draw<S: Strategy>(ctx: &CheckCtx, cases: u32, strategy: &S) -> Vec<S::Value> {
    draw_seeded(&ctx.rng_seed(), cases, strategy)
}

fn draw_seeded<S: Strategy>(seed: &[u8; 32], cases: u32, strategy: &S) -> Vec<S::Value> {
    // The runner itself draws them (a test that passes and keeps each value), so they are
    // the very cases a property run tests, whatever proptest's drawing does inside.
    let mut runner = TestRunner::new_with_rng(
        config(cases),
        TestRng::from_seed(RngAlgorithm::ChaCha, seed),
    );
    let drawn = RefCell::new(Vec::new());
    let _ = runner.run(strategy, |v| {
        drawn.borrow_mut().push(v);
        Ok(())
    });
    drawn.into_inner()
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        max_shrink_time: 0,
        max_shrink_iters: u32::MAX - 1,
        failure_persistence: None,
        max_global_rejects: 64,
        ..Config::default()
    }
}

/// [`check`] with an explicit generator seed.
fn run<S: Strategy>(
    seed: &[u8; 32],
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(&S::Value) -> Case,
) -> Outcome {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, seed);
    let mut runner = TestRunner::new_with_rng(config(cases), rng);
    // Steps spent since the first failure (the shrink budget).
    let spent: Cell<Option<u32>> = Cell::new(None);
    let first_failure: Cell<Option<std::time::Instant>> = Cell::new(None);
    let grader_error: RefCell<Option<String>> = RefCell::new(None);
    let result = runner.run(&strategy, |value| {
        if grader_error.borrow().is_some()
            || spent.get().is_some_and(|n| n >= SHRINK_STEPS)
            || first_failure
                .get()
                .is_some_and(|t| t.elapsed() > SHRINK_CAP)
        {
            return Ok(());
        }
        let (verdict, cost) = timed(|| test(&value));
        if let Some(n) = spent.get() {
            spent.set(Some(n + cost));
        }
        match verdict {
            Ok(()) => Ok(()),
            Err(Failure::Program(message)) => {
                spent.set(spent.get().or(Some(0)));
                first_failure.set(
                    first_failure
                        .get()
                        .or_else(|| Some(std::time::Instant::now())),
                );
                Err(TestCaseError::fail(message))
            }
            Err(Failure::Grader(message)) => {
                *grader_error.borrow_mut() = Some(message);
                Ok(())
            }
        }
    });
    if let Some(message) = grader_error.into_inner() {
        return Outcome::error(message);
    }
    match result {
        Ok(()) => Outcome::pass(format!("{cases} generated cases passed")),
        Err(TestError::Fail(reason, value)) => {
            Outcome::fail(reason.message().to_string()).with_counterexample(show(&value))
        }
        Err(TestError::Abort(reason)) => {
            Outcome::error(format!("the property run stopped: {}", reason.message()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;

    const SEED: [u8; 32] = [7; 32];

    /// A "program" that fails on any byte over 0x7f, as a server that decodes UTF-8.
    fn decodes(data: &[u8]) -> Case {
        match data.iter().find(|&&b| b > 0x7f) {
            Some(b) => Err(Failure::Program(format!("crashed on {b:#x}"))),
            None => Ok(()),
        }
    }

    #[test]
    fn a_program_failure_is_a_fail_with_the_smallest_case() {
        let o = run(
            &SEED,
            32,
            vec(0u8..=255, 1..64),
            |v| format!("{v:?}"),
            |v| decodes(v),
        );
        assert_eq!(o.status, Status::Fail, "{}", o.message);
        assert!(o.message.starts_with("crashed on"), "{}", o.message);
        assert!(o.counterexample.is_some());
    }

    #[test]
    fn the_smallest_case_is_the_same_every_time() {
        let shown: Vec<Option<String>> = (0..3)
            .map(|_| {
                // Slow candidates must not change the result (a time budget did).
                run(
                    &SEED,
                    32,
                    vec(0u8..=255, 1..512),
                    |v| format!("{v:?}"),
                    |v| {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                        decodes(v)
                    },
                )
                .counterexample
            })
            .collect();
        assert!(shown[0].is_some());
        assert!(shown.iter().all(|s| *s == shown[0]), "{shown:?}");
    }

    #[test]
    fn shrinking_runs_at_most_the_budget() {
        let runs = Cell::new(0u32);
        let failed_once = Cell::new(false);
        let o = run(
            &SEED,
            8,
            vec(0u8..=255, 200..400),
            |v| format!("{v:?}"),
            |_| {
                runs.set(runs.get() + 1);
                failed_once.set(true);
                Err(Failure::Program("always".into()))
            },
        );
        assert_eq!(o.status, Status::Fail);
        assert!(failed_once.get());
        assert_eq!(runs.get(), 1 + SHRINK_STEPS);
    }

    /// A run that waited out a deadline, or started a program, costs more of the budget.
    #[rstest::rstest]
    #[case::waited_out(waited_out as fn(), SLOW_RUN)]
    #[case::started_a_program(started_program as fn(), START_RUN)]
    fn marked_runs_cost_more(#[case] mark: fn(), #[case] cost: u32) {
        let runs = Cell::new(0u32);
        let o = run(
            &SEED,
            8,
            vec(0u8..=255, 200..400),
            |v| format!("{v:?}"),
            |_| {
                runs.set(runs.get() + 1);
                mark();
                Err(Failure::Program("no answer within 5 s".into()))
            },
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(runs.get(), 1 + SHRINK_STEPS.div_ceil(cost));
    }

    #[test]
    fn a_grader_failure_in_a_case_is_an_error_never_a_fail() {
        let n = Cell::new(0);
        let o = run(
            &SEED,
            16,
            0u32..1000,
            |v| v.to_string(),
            |_| {
                n.set(n.get() + 1);
                if n.get() == 3 {
                    Err(Failure::Grader("no free port: injected".into()))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(o.status, Status::Error);
        assert_eq!(o.message, "no free port: injected");
        assert!(o.counterexample.is_none());
        assert_eq!(n.get(), 3, "no case runs after a grader failure");
    }

    #[test]
    fn a_grader_failure_while_shrinking_is_an_error_too() {
        // The first failure is the program's; the relaunch for a shrink candidate fails.
        let failed = Cell::new(false);
        let o = run(
            &SEED,
            16,
            vec(0u8..=255, 1..64),
            |v| format!("{v:?}"),
            |v| {
                if failed.get() {
                    return Err(Failure::Grader(
                        "could not make a private network namespace: injected".into(),
                    ));
                }
                decodes(v).inspect_err(|_| failed.set(true))
            },
        );
        assert_eq!(o.status, Status::Error, "{}", o.message);
        assert!(o.counterexample.is_none());
    }

    #[test]
    fn draw_gives_the_cases_the_property_run_tests() {
        let seen = RefCell::new(Vec::new());
        let o = run(
            &SEED,
            12,
            vec(0u8..=255, 1..64),
            |v| format!("{v:?}"),
            |v| {
                seen.borrow_mut().push(v.clone());
                Ok(())
            },
        );
        assert_eq!(o.status, Status::Pass);
        let drawn = draw_seeded(&SEED, 12, &vec(0u8..=255, 1..64));
        assert_eq!(drawn.len(), 12);
        assert_eq!(drawn, seen.into_inner());
    }

    #[test]
    fn outcomes_map_by_who_failed() {
        assert_eq!(
            Failure::from_outcome(Outcome::error("no port")),
            Failure::Grader("no port".into())
        );
        assert_eq!(
            Failure::from_outcome(Outcome::fail("never listened")),
            Failure::Program("never listened".into())
        );
        let o = Failure::Program("x".into()).into_outcome("sent y: ");
        assert_eq!((o.status, o.message.as_str()), (Status::Fail, "sent y: x"));
        let o = Failure::Grader("no port".into()).into_outcome("sent y: ");
        assert_eq!((o.status, o.message.as_str()), (Status::Error, "no port"));
    }
}
