//! A fixed number of worker threads taking numbered jobs in order: the runner runs checks
//! with it, the batch grades students, selftest fixture folders. [`run_queue`] lets a job
//! add jobs (the runner's shared group hands back the checks to judge alone).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

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

/// The jobs waiting and how many are running, for [`run_queue`].
pub(crate) struct Queue<T> {
    state: Mutex<(VecDeque<T>, usize)>,
    changed: Condvar,
}

impl<T> Queue<T> {
    /// Adds a job, to be taken next.
    pub(crate) fn push_front(&self, item: T) {
        self.lock().0.push_front(item);
        self.changed.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (VecDeque<T>, usize)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next job, waiting while none is queued but some still run (they may add
    /// one); `None` when everything is done or `stop` is raised.
    fn take(&self, stop: &AtomicBool) -> Option<T> {
        let mut state = self.lock();
        loop {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            if let Some(item) = state.0.pop_front() {
                state.1 += 1;
                return Some(item);
            }
            if state.1 == 0 {
                return None;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn finished(&self) {
        self.lock().1 -= 1;
        self.changed.notify_all();
    }
}

/// A job taken from a [`Queue`]; counted as finished when dropped (also by a panic).
struct Running<'a, T>(&'a Queue<T>);

impl<T> Drop for Running<'_, T> {
    fn drop(&mut self) {
        self.0.finished();
    }
}

/// Calls `job` on every item of `items`, in order, and on every item a job adds to the
/// queue it is given, on at most `workers` threads. When `stop` is raised, no new job
/// starts; running ones finish. Returns when all workers are done.
pub(crate) fn run_queue<T: Send>(
    items: Vec<T>,
    workers: usize,
    stop: &AtomicBool,
    job: impl Fn(T, &Queue<T>) + Sync,
) {
    let queue = Queue {
        state: Mutex::new((items.into_iter().collect(), 0)),
        changed: Condvar::new(),
    };
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                while let Some(item) = queue.take(stop) {
                    let _running = Running(&queue);
                    job(item, &queue);
                }
                // Wake the others: the queue may be done.
                queue.changed.notify_all();
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

    #[test]
    fn jobs_added_by_jobs_run_too() {
        let seen = Mutex::new(Vec::new());
        run_queue(vec![1u32, 2, 3], 2, &AtomicBool::new(false), |i, queue| {
            if i < 100 {
                queue.push_front(i * 100);
            }
            seen.lock().unwrap().push(i);
        });
        let mut v = seen.into_inner().unwrap();
        v.sort();
        assert_eq!(v, [1, 2, 3, 100, 200, 300]);
    }
}
