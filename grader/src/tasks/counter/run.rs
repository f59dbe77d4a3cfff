//! One start of a counter program: THREADS and INCREMENTS through the environment,
//! instrumentation features as a check asks, watched until it exits (within a generous
//! deadline), with its printed value read tolerantly.

use super::value;
use crate::check::{CheckCtx, LaunchOpts, Outcome};
use crate::escape;
use crate::process::program::indent;
use crate::process::Program;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// How long one run may take, in the program's own time ([`crate::process::Deadline`]):
/// generous, a correct program needs well under a second.
const DEADLINE: Duration = Duration::from_secs(20);

/// How often a running program is looked at (exit, and `/proc/PID/task` when sampling).
pub(super) const POLL: Duration = Duration::from_millis(1);

/// One finished run.
pub(super) struct Finished {
    /// `THREADS` it was given.
    pub threads: u64,
    /// `INCREMENTS` it was given.
    pub increments: u64,
    /// Its process id (the thread record is keyed by it).
    pub pid: u32,
    /// How it ended.
    pub status: ExitStatus,
    /// Everything it printed.
    pub stdout: String,
    /// The ended program, for its stderr.
    pub program: Program,
    /// How long it ran.
    pub took: Duration,
}

impl Finished {
    /// `THREADS=4, INCREMENTS=2000`
    pub(super) fn settings(&self) -> String {
        format!("THREADS={}, INCREMENTS={}", self.threads, self.increments)
    }

    /// The printed value, or why there is none (a crash, no `Obtained value` line).
    pub(super) fn value(&mut self) -> Result<u64, String> {
        if !self.status.success() {
            return Err(format!(
                "{}: {}",
                self.settings(),
                self.program.exit_story()
            ));
        }
        value::obtained(&self.stdout).ok_or_else(|| {
            let tail = escape::tail(self.stdout.as_bytes(), 6);
            format!(
                "{}: the program printed no `Obtained value: N` line{}",
                self.settings(),
                if tail.is_empty() {
                    " (its output was empty)".to_string()
                } else {
                    format!("; its output ended with:\n{}", indent(&tail))
                }
            )
        })
    }
}

/// Starts the program with `threads` and `increments` (and instrumentation `features`),
/// calls `watch(pid)` every millisecond while it runs, and returns it finished; a program
/// that does not finish within [`DEADLINE`] is a failing outcome.
pub(super) fn run(
    ctx: &CheckCtx,
    threads: u64,
    increments: u64,
    features: Vec<(String, String)>,
    mut watch: impl FnMut(u32),
) -> Result<Finished, Outcome> {
    let opts = LaunchOpts {
        env: vec![
            ("THREADS".into(), threads.to_string()),
            ("INCREMENTS".into(), increments.to_string()),
        ],
        features,
        ..LaunchOpts::default()
    };
    let mut program = ctx
        .launch(&opts)
        .map_err(|e| Outcome::error(format!("could not start the program: {e}")))?;
    let pid = program.pid();
    let started = Instant::now();
    let mut deadline = program.deadline(DEADLINE);
    let status = loop {
        if let Some(status) = program.status() {
            break status;
        }
        if deadline.passed() {
            program.kill();
            return Err(Outcome::fail(format!(
                "THREADS={threads}, INCREMENTS={increments}: the program did not finish within {} s (a thread that never ends, or a join() that waits forever?); {}",
                DEADLINE.as_secs(),
                program.exit_story()
            )));
        }
        watch(pid);
        std::thread::sleep(POLL);
    };
    let took = started.elapsed();
    program.stdout.wait_closed(Duration::from_secs(5));
    let stdout = String::from_utf8_lossy(&program.stdout.bytes()).into_owned();
    Ok(Finished {
        threads,
        increments,
        pid: program.own_pid(),
        status,
        stdout,
        program,
        took,
    })
}
