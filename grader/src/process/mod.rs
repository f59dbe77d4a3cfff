//! Programs under the grader's control: starting them in their own process group with
//! captured, capped output ([`program`]), knowing when a server is ready or why it never
//! became ready ([`ready`]), deadlines that count the program's own time so verdicts
//! never depend on load ([`deadline`]), and handing out ports ([`port`]). Scheduling lives elsewhere
//! (the [`crate::runner`]); this module only owns processes.

pub mod capture;
pub mod deadline;
pub mod exits;
pub mod helpers;
pub mod port;
pub mod program;
pub mod ready;

pub use deadline::Deadline;
pub use helpers::Helpers;
pub use program::{Launch, Program};
