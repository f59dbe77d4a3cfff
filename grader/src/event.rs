//! What the runner tells the outside world while it works. The runner never prints: it
//! hands each event to a callback, and front ends (a progress line, a batch progress bar)
//! decide what to show.

use crate::report::CheckReport;

/// One step of a run.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// The run starts with this many checks to do.
    Started {
        /// Checks that will run.
        checks: usize,
    },
    /// One check finished.
    CheckFinished {
        /// Instance id of the task.
        task: &'a str,
        /// The check's result.
        check: &'a CheckReport,
    },
}
