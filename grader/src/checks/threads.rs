//! What the two thread tasks (`counter`, `multiprint`) share: a seeded generator for the
//! values they choose (THREADS, INCREMENTS, DELAY, inputs), the seeds of forced
//! preemption, and running several starts of a program at once, since a race shows in
//! some runs and not in others and the runs are independent.

use crate::check::CheckCtx;
use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng};

/// Why a check could not force thread switches: said in every message of a non-Python run.
pub(crate) const NOT_INSTRUMENTED: &str =
    "not a Python program, so the grader cannot force thread switches in it (these runs were not instrumented)";

/// The check's generator, seeded from the run seed and the check's name.
pub(crate) fn rng(ctx: &CheckCtx) -> TestRng {
    TestRng::from_seed(RngAlgorithm::ChaCha, &ctx.rng_seed())
}

/// `n` distinct seeds for the preemption tracer, small enough to read in a message.
pub(crate) fn preempt_seeds(rng: &mut TestRng, n: usize) -> Vec<u64> {
    let mut seeds: Vec<u64> = Vec::with_capacity(n);
    while seeds.len() < n {
        let seed = rng.random_range(1..1_000_000u64);
        if !seeds.contains(&seed) {
            seeds.push(seed);
        }
    }
    seeds
}

/// Runs `f(0)`..`f(n-1)` at once, each on its own thread; the results in order.
pub(crate) fn parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let f = &f;
    std::thread::scope(|scope| {
        let running: Vec<_> = (0..n).map(|i| scope.spawn(move || f(i))).collect();
        running
            .into_iter()
            .map(|r| r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::RngAlgorithm;

    #[test]
    fn seeds_are_distinct_and_repeatable() {
        let seed = [7u8; 32];
        let a = preempt_seeds(&mut TestRng::from_seed(RngAlgorithm::ChaCha, &seed), 5);
        let b = preempt_seeds(&mut TestRng::from_seed(RngAlgorithm::ChaCha, &seed), 5);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        assert!(a.iter().all(|&s| (1..1_000_000).contains(&s)));
    }

    #[test]
    fn parallel_keeps_the_order() {
        assert_eq!(parallel(4, |i| i * 10), [0, 10, 20, 30]);
    }
}
