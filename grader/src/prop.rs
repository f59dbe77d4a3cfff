//! The property engine: proptest's `TestRunner` driven at run time against a live
//! program. It is seeded from the run seed (so `--seed` reproduces a failure), runs
//! `--cases` cases, and on failure shrinks against the live program for at most
//! [`SHRINK_STEPS`] runs, reporting the smallest failing case it found. Deadlines are the
//! checks' own (proptest's fork and timeout need a test harness, which a binary does not
//! have).
//!
//! A failure should cost little, as a class is mostly failing programs: the first case is
//! the strategy's simplest value ([`simplest`]), so a program that fails whatever it is
//! given fails there, on a case that is already the smallest, and is not shrunk; and a
//! wait for something that never happens (an answer, a close) is paid once: a failure
//! that waited out a deadline is not shrunk (each smaller case would wait again), and a
//! shrink stops after the first candidate that waited one out.
//!
//! A case ends in one of three ways, and the type says which ([`Case`]): it passes, the
//! program fails it ([`Failure::Program`]: a counterexample), or the grader could not run
//! it ([`Failure::Grader`]: no free port, no namespace, a relaunch that could not start).
//! A grader failure ends the whole check as `error`, whenever it happens (also while
//! shrinking), so `fail` only ever comes from the program.

use crate::check::{CheckCtx, Outcome, Status};
use proptest::strategy::{Strategy, ValueTree};
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

/// Steps charged for a slow run (one that waited out a deadline): the whole budget, so a
/// shrink waits out at most one deadline, and a program that never answers is not waited
/// on again and again. A first failure that waited one out is not shrunk at all.
pub(crate) const SLOW_RUN: u32 = SHRINK_STEPS;

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

/// What a run did that the shrink budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// Nothing special: 1 step.
    Plain,
    /// It started a program: [`START_RUN`] steps.
    Started,
    /// It waited out a deadline: [`SLOW_RUN`] steps.
    Waited,
}

impl Run {
    fn steps(self) -> u32 {
        match self {
            Run::Plain => 1,
            Run::Started => START_RUN,
            Run::Waited => SLOW_RUN,
        }
    }
}

/// Runs `test` and says what it did ([`Run`]): waiting out a deadline counts over
/// starting a program.
fn timed<T>(test: impl FnOnce() -> T) -> (T, Run) {
    WAITED.with(|w| w.set(false));
    STARTED.with(|s| s.set(false));
    let out = test();
    let run = if WAITED.with(|w| w.replace(false)) {
        Run::Waited
    } else if STARTED.with(|s| s.replace(false)) {
        Run::Started
    } else {
        Run::Plain
    };
    (out, run)
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

/// Runs `test` on `cases` values of `strategy`: its simplest value first, then values
/// drawn at random. `show` renders a value for the report. Passing says how many cases
/// ran; a program failure gives the smallest case's message; a grader failure makes the
/// check `error`.
pub(crate) fn check<S: Strategy>(
    ctx: &CheckCtx,
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(&S::Value) -> Case,
) -> Outcome {
    run(
        &ctx.rng_seed(),
        cases,
        First::Simplest,
        strategy,
        show,
        test,
    )
}

/// [`check`] with every case drawn at random, for a strategy whose simplest value is not
/// a cheap case (`large`'s is a megabyte written one byte at a time).
pub(crate) fn check_drawn<S: Strategy>(
    ctx: &CheckCtx,
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(&S::Value) -> Case,
) -> Outcome {
    run(&ctx.rng_seed(), cases, First::Drawn, strategy, show, test)
}

/// The first `cases` values [`check`] would run for this check (same seed, same order:
/// the simplest value, then the drawn ones), for a check that runs them otherwise than
/// one case at a time. When the first of them fails alone, it is the smallest failing
/// case ([`simplest`]), as [`check`] would report it.
pub(crate) fn draw<S: Strategy>(ctx: &CheckCtx, cases: u32, strategy: &S) -> Vec<S::Value> {
    cases_of(&ctx.rng_seed(), cases, strategy)
}

/// The simplest value of `strategy`, then drawn ones: `cases` in all.
fn cases_of<S: Strategy>(seed: &[u8; 32], cases: u32, strategy: &S) -> Vec<S::Value> {
    let mut values: Vec<S::Value> = simplest(seed, strategy)
        .into_iter()
        .take(cases as usize)
        .collect();
    let drawn = cases.saturating_sub(values.len() as u32);
    values.extend(draw_seeded(seed, drawn, strategy));
    values
}

/// Most simplifications tried for [`simplest`] (a bound for strategies that shrink
/// slowly; the text and fragment strategies need a few dozen).
const SIMPLIFY_STEPS: u32 = 100_000;

/// The simplest value of `strategy`: a value drawn with `seed`, simplified as far as its
/// shrinker goes (each step taken as if the simpler value still failed). No program runs,
/// so it is a function of the seed alone. A program that fails it fails on a case that no
/// shrinking could make smaller (one fragment of one byte, the fewest clients writing
/// once), so it needs no shrinking; `None` when the strategy could not draw a value.
fn simplest<S: Strategy>(seed: &[u8; 32], strategy: &S) -> Option<S::Value> {
    let mut runner =
        TestRunner::new_with_rng(config(1), TestRng::from_seed(RngAlgorithm::ChaCha, seed));
    let mut tree = strategy.new_tree(&mut runner).ok()?;
    for _ in 0..SIMPLIFY_STEPS {
        if !tree.simplify() {
            break;
        }
    }
    Some(tree.current())
}

/// Which case a property run starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum First {
    /// The strategy's simplest value, then `cases - 1` drawn ones.
    Simplest,
    /// `cases` drawn values.
    Drawn,
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
    first: First,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(&S::Value) -> Case,
) -> Outcome {
    let passed = Outcome::pass(format!("{cases} generated cases passed"));
    let mut drawn = cases;
    if let (First::Simplest, Some(value)) = (first, simplest(seed, &strategy)) {
        if cases == 0 {
            return passed;
        }
        match timed(|| test(&value)).0 {
            Ok(()) => drawn -= 1,
            // Already the smallest case: nothing to shrink.
            Err(Failure::Program(message)) => {
                return Outcome::fail(message).with_counterexample(show(&value))
            }
            Err(Failure::Grader(message)) => return Outcome::error(message),
        }
        if drawn == 0 {
            return passed;
        }
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, seed);
    let mut runner = TestRunner::new_with_rng(config(drawn), rng);
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
        let (verdict, ran) = timed(|| test(&value));
        if let Some(n) = spent.get() {
            spent.set(Some(n + ran.steps()));
        }
        match verdict {
            Ok(()) => Ok(()),
            Err(Failure::Program(message)) => {
                // A first failure that waited out a deadline is shown as found: each
                // smaller candidate would wait it out again.
                let spent_already = if ran == Run::Waited { SHRINK_STEPS } else { 0 };
                spent.set(spent.get().or(Some(spent_already)));
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
        Ok(()) => passed,
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
            First::Simplest,
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
                    First::Simplest,
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
        let o = run(
            &SEED,
            8,
            First::Drawn,
            vec(0u8..=255, 200..400),
            |v| format!("{v:?}"),
            |_| {
                runs.set(runs.get() + 1);
                Err(Failure::Program("always".into()))
            },
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(runs.get(), 1 + SHRINK_STEPS);
    }

    /// A shrink candidate that started a program costs more of the budget.
    #[test]
    fn runs_that_start_a_program_cost_more() {
        let runs = Cell::new(0u32);
        let o = run(
            &SEED,
            8,
            First::Drawn,
            vec(0u8..=255, 200..400),
            |v| format!("{v:?}"),
            |_| {
                runs.set(runs.get() + 1);
                started_program();
                Err(Failure::Program("wrong answer".into()))
            },
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(runs.get(), 1 + SHRINK_STEPS.div_ceil(START_RUN));
    }

    /// A wait for something that never happens is paid once: a first failure that waited
    /// out a deadline is not shrunk, and is shown as found.
    #[test]
    fn a_failure_that_waited_is_not_shrunk() {
        let runs = Cell::new(0u32);
        let first = RefCell::new(None);
        let o = run(
            &SEED,
            8,
            First::Drawn,
            vec(0u8..=255, 200..400),
            |v| format!("{v:?}"),
            |v| {
                runs.set(runs.get() + 1);
                first.borrow_mut().get_or_insert_with(|| format!("{v:?}"));
                waited_out();
                Err(Failure::Program("no answer within 5 s".into()))
            },
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(runs.get(), 1);
        assert_eq!(o.counterexample, first.into_inner());
    }

    /// A shrink after a quick failure waits out at most one deadline: the first candidate
    /// that waits one out spends the budget.
    #[test]
    fn a_shrink_waits_out_at_most_one_deadline() {
        let (runs, waits) = (Cell::new(0u32), Cell::new(0u32));
        let o = run(
            &SEED,
            8,
            First::Drawn,
            vec(0u8..=255, 200..400),
            |v| format!("{v:?}"),
            |_| {
                runs.set(runs.get() + 1);
                if runs.get() > 1 {
                    waits.set(waits.get() + 1);
                    waited_out();
                }
                Err(Failure::Program("no answer".into()))
            },
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!((runs.get(), waits.get()), (2, 1));
    }

    /// The first case is the strategy's simplest value: a program that fails whatever it
    /// gets fails there, once, on a case no shrinking could make smaller.
    #[test]
    fn a_program_that_fails_everything_fails_once_on_the_simplest_case() {
        let runs = Cell::new(0u32);
        let o = run(
            &SEED,
            16,
            First::Simplest,
            vec(0u8..=255, 1..64),
            |v| format!("{v:?}"),
            |_| {
                runs.set(runs.get() + 1);
                waited_out();
                Err(Failure::Program("never closed".into()))
            },
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(runs.get(), 1);
        assert_eq!(o.counterexample.as_deref(), Some("[0]"));
        assert_eq!(o.message, "never closed");
    }

    /// A property run of `cases` byte vectors that all pass, and the values it tested.
    fn a_passing_run(cases: u32) -> (Outcome, Vec<Vec<u8>>) {
        let seen = RefCell::new(Vec::new());
        let o = run(
            &SEED,
            cases,
            First::Simplest,
            vec(0u8..=255, 1..64),
            |v| format!("{v:?}"),
            |v| {
                seen.borrow_mut().push(v.clone());
                Ok(())
            },
        );
        (o, seen.into_inner())
    }

    /// The simplest value is one of the `cases` cases, not one more.
    #[test]
    fn a_passing_program_runs_exactly_the_cases() {
        let (o, seen) = a_passing_run(12);
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.message, "12 generated cases passed");
        assert_eq!(seen.len(), 12);
        assert_eq!(seen[0], vec![0]);
    }

    #[test]
    fn the_simplest_value_is_the_bottom_of_the_shrinker() {
        let fragments = simplest(&SEED, &crate::gen::text_fragments()).unwrap();
        assert_eq!(fragments.len(), 1, "{fragments:?}");
        assert_eq!(fragments[0].data, b"a");
        // Another seed, the same bottom.
        assert_eq!(
            simplest(&[9; 32], &crate::gen::text_fragments()),
            Some(fragments)
        );
    }

    #[test]
    fn a_grader_failure_in_a_case_is_an_error_never_a_fail() {
        let n = Cell::new(0);
        let o = run(
            &SEED,
            16,
            First::Drawn,
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
            First::Drawn,
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
        let (o, seen) = a_passing_run(12);
        assert_eq!(o.status, Status::Pass);
        let drawn = cases_of(&SEED, 12, &vec(0u8..=255, 1..64));
        assert_eq!(drawn.len(), 12);
        assert_eq!(drawn, seen);
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
