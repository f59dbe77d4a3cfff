//! The property engine: proptest's `TestRunner` driven at run time against a live
//! program. It is seeded from the run seed (so `--seed` reproduces a failure), runs
//! `--cases` cases, and on failure shrinks against the live program within a time cap,
//! reporting the smallest failing case it found. Deadlines are the checks' own (proptest's
//! fork and timeout need a test harness, which a binary does not have).

use crate::check::{CheckCtx, Outcome};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// Longest time spent shrinking one failure. Proptest's own cap prints to stderr when it
/// trips, so the budget is kept here: once it is spent, every further shrink candidate is
/// answered "passes" without running, and proptest reports the smallest failure so far.
const SHRINK_BUDGET: Duration = Duration::from_secs(3);

/// Runs `test` on `cases` values drawn from `strategy`. `show` renders a value for the
/// report. Passing says how many cases ran; failing gives the smallest case's message.
pub fn check<S: Strategy>(
    ctx: &CheckCtx,
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(&S::Value) -> Result<(), String>,
) -> Outcome {
    let config = Config {
        cases,
        max_shrink_time: 0,
        max_shrink_iters: u32::MAX - 1,
        failure_persistence: None,
        max_global_rejects: 64,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &ctx.rng_seed());
    let mut runner = TestRunner::new_with_rng(config, rng);
    let first_failure: Cell<Option<Instant>> = Cell::new(None);
    let result = runner.run(&strategy, |value| {
        if first_failure
            .get()
            .is_some_and(|t| t.elapsed() > SHRINK_BUDGET)
        {
            return Ok(());
        }
        test(&value).map_err(|message| {
            first_failure.set(first_failure.get().or_else(|| Some(Instant::now())));
            TestCaseError::fail(message)
        })
    });
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
