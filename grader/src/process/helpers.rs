//! The grader's own threads that a program's progress passes through (the grader's server
//! answering a client, the thread that reads the program's stdout). While such a thread
//! waits for a CPU, the program waits for it, asleep: a [`Deadline`](super::Deadline) that
//! is given these threads counts their waits as lost too, so a program is never judged for
//! the grader's own share of a busy machine.

use std::sync::{Arc, Mutex};

/// A shared list of thread ids of the grader; threads add themselves as they start.
#[derive(Clone, Debug, Default)]
pub struct Helpers(Arc<Mutex<Vec<u32>>>);

impl Helpers {
    /// An empty list.
    pub fn new() -> Helpers {
        Helpers::default()
    }

    /// Adds the calling thread.
    pub fn enlist(&self) {
        let tid = current_tid();
        let mut tids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !tids.contains(&tid) {
            tids.push(tid);
        }
    }

    /// The thread ids enlisted so far.
    pub fn tids(&self) -> Vec<u32> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The kernel's id of the calling thread.
pub(crate) fn current_tid() -> u32 {
    // SAFETY: gettid(2) has no arguments and cannot fail.
    unsafe { libc::gettid() as u32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_enlist_themselves_once() {
        let helpers = Helpers::new();
        helpers.enlist();
        helpers.enlist();
        let theirs = helpers.clone();
        let tid = std::thread::spawn(move || {
            theirs.enlist();
            current_tid()
        })
        .join()
        .unwrap();
        assert_eq!(helpers.tids(), vec![current_tid(), tid]);
    }
}
