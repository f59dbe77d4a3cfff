//! Reference implementations of the lecture's programs, in Rust, one module per task of
//! the grading contract (`SPEC.md`, section 3).
//!
//! They exist so that the grader can grade something known to be correct: `grader
//! selftest` runs them and expects every check to pass. Each does exactly what the
//! contract asks of a student's program, reading its settings from the environment
//! ([`mod@env`]). Servers take an already-bound socket (`serve`), clients take an address and
//! generic input/output (`talk`), so each can be tested without fixed ports or stdio;
//! each module's `run` wires it to the environment.
//!
//! [`run`] never returns for the concurrent servers (they run until a signal ends the
//! process), and `fork-server` installs a process-wide `SIGCHLD` handler that reaps every
//! child: run tasks in a process of their own, as the `reference` binary does.

#![warn(missing_docs, unreachable_pub)]

pub mod counter;
pub mod env;
pub mod fork_server;
pub mod input;
pub mod multiprint;
pub mod net;
pub mod pool_server;
pub mod select_server;
pub mod tcp_client;
pub mod tcp_upper;
pub mod thread_server;
pub mod udp_client;
pub mod udp_upper;
pub mod upper;

use std::io;

/// A reference program: runs with the environment, stdin and stdout of this process.
pub type Program = fn() -> io::Result<()>;

/// Every task of the contract, in the order of its task table: its id and its program.
pub const TASKS: &[(&str, Program)] = &[
    ("tcp-upper", tcp_upper::run),
    ("tcp-client", tcp_client::run),
    ("udp-upper", udp_upper::run),
    ("udp-client", udp_client::run),
    ("fork-server", fork_server::run),
    ("select-server", select_server::run),
    ("thread-server", thread_server::run),
    ("pool-server", pool_server::run),
    ("counter", counter::run),
    ("multiprint", multiprint::run),
];

/// The task ids of [`TASKS`], in order.
pub fn ids() -> Vec<&'static str> {
    TASKS.iter().map(|(id, _)| *id).collect()
}

/// Runs task `task` with the environment, stdin and stdout of this process, and returns
/// its exit status (0: it did its job). An unknown task id is an
/// [`io::ErrorKind::InvalidInput`] error; so is a malformed environment variable.
pub fn run(task: &str) -> io::Result<i32> {
    let Some((_, program)) = TASKS.iter().find(|(id, _)| *id == task) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown task {task:?} (known: {})", ids().join(", ")),
        ));
    };
    program().map(|()| 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_task_is_invalid_input() {
        let err = run("tcp-uper").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("tcp-upper"), "{err}");
    }
}
