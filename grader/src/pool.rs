//! A fixed number of worker threads taking numbered jobs in order: the runner runs checks
//! with it, the batch grades students, selftest fixture folders.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Calls `job(i)` for every `i` in `0..count` on at most `workers` threads. When `stop` is
/// raised, no new job starts; running ones finish. Returns when all workers are done.
pub(crate) fn run(count: usize, workers: usize, stop: &AtomicBool, job: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1).min(count) {
            scope.spawn(|| loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= count {
                    return;
                }
                job(i);
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn every_job_runs_once_and_stop_stops_new_ones() {
        let seen = Mutex::new(Vec::new());
        run(50, 4, &AtomicBool::new(false), |i| {
            seen.lock().unwrap().push(i)
        });
        let mut v = seen.into_inner().unwrap();
        v.sort();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
        let stop = AtomicBool::new(false);
        let count = AtomicUsize::new(0);
        run(50, 1, &stop, |_| {
            if count.fetch_add(1, Ordering::SeqCst) == 2 {
                stop.store(true, Ordering::SeqCst);
            }
        });
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }
}
