//! State shared between a peer's threads and the check that watches it: every change
//! wakes the waiters, so a check sees "it happened" at once and "it never happened" at
//! its deadline.

use crate::process::Deadline;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A value behind a lock, with a condition variable signalled on every update.
#[derive(Debug, Default)]
pub(crate) struct Watch<T> {
    state: Mutex<T>,
    changed: Condvar,
}

impl<T> Watch<T> {
    /// Watches `value`.
    pub(crate) fn new(value: T) -> Watch<T> {
        Watch {
            state: Mutex::new(value),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, T> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the value and wakes every waiter.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let result = f(&mut self.lock());
        self.changed.notify_all();
        result
    }

    /// Looks at the value as it is now.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.lock())
    }

    /// Waits until `done` holds or `timeout` passes; returns whether it held.
    pub(crate) fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&T) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if done(&state) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until `done` holds or `deadline` passes (a deadline that counts a program's
    /// own time, see [`Deadline`]); returns whether it held.
    pub(crate) fn wait_for(
        &self,
        deadline: &mut Deadline,
        mut done: impl FnMut(&T) -> bool,
    ) -> bool {
        let mut state = self.lock();
        loop {
            if done(&state) {
                return true;
            }
            if deadline.passed() {
                return false;
            }
            let slice = deadline.remaining().max(Duration::from_millis(1));
            state = self
                .changed
                .wait_timeout(state, slice)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_waiter_wakes_on_the_update_and_times_out_without_one() {
        let watch = Arc::new(Watch::new(0u32));
        let theirs = Arc::clone(&watch);
        let t = std::thread::spawn(move || theirs.update(|v| *v = 7));
        assert!(watch.wait_until(Duration::from_secs(10), |v| *v == 7));
        t.join().unwrap();
        assert!(!watch.wait_until(Duration::from_millis(5), |v| *v == 8));
        assert_eq!(watch.read(|v| *v), 7);
        let theirs = Arc::clone(&watch);
        let t = std::thread::spawn(move || theirs.update(|v| *v = 9));
        assert!(watch.wait_for(&mut Deadline::wall(Duration::from_secs(10)), |v| *v == 9));
        t.join().unwrap();
        let start = Instant::now();
        let mut deadline = Deadline::wall(Duration::from_millis(30));
        assert!(!watch.wait_for(&mut deadline, |v| *v == 10));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
