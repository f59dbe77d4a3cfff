//! `no-busy-wait`'s measurement: a program's CPU use over an idle second while it waits
//! for input. Most programs wait by blocking and are measured by sleeping (looking every
//! 25 ms whether a thread of the program is runnable); only a program above the floor, or
//! one often found runnable (a spinner a loaded machine starves of CPU), is measured again
//! against a spinning thread of the grader, whose share scales the limit with the load.

use crate::check::Outcome;
use crate::process::Program;
use crate::procfs;
use std::time::{Duration, Instant};

/// The idle window of `no-busy-wait`, and the most CPU a waiting program may use in it.
pub(super) const IDLE_WINDOW: Duration = Duration::from_secs(1);
pub(super) const IDLE_CPU_LIMIT: f64 = 0.20;
/// The limit never drops below this share of a core (a correct program that polls with
/// `time.sleep(0.1)`, as multiprint1.py does, uses about 1%).
pub(super) const IDLE_CPU_FLOOR: f64 = 0.04;

/// Spins for `window` on a thread of its own and returns the share of a core it got:
/// about 1.0 on an idle machine, less when the cores are busy.
fn spinner_share(window: Duration) -> f64 {
    std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < window {
            std::hint::spin_loop();
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        let cpu = ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9;
        (cpu / start.elapsed().as_secs_f64()).clamp(0.0, 1.0)
    })
    .join()
    .unwrap_or(1.0)
}

/// The program's CPU use over one [`IDLE_WINDOW`], and what an always-runnable thread got
/// meanwhile (measured by a spinner when `spin`, else taken as a whole core).
#[derive(Clone, Copy, Debug)]
pub(super) struct IdleUse {
    /// CPU seconds the program used.
    pub cpu: f64,
    /// Seconds the window lasted.
    pub window: f64,
    /// Share of a core an always-runnable thread got meanwhile.
    pub reachable: f64,
    /// Share of looks (first window only) that found a thread of the program running or
    /// waiting to run: near 1 for a spinning program however little CPU a loaded machine
    /// gives it, near 0 for one that waits by blocking.
    pub runnable: f64,
}

impl IdleUse {
    /// Share of one core the program used.
    pub(super) fn share(&self) -> f64 {
        self.cpu / self.window
    }
    /// The most it may use.
    pub(super) fn limit(&self) -> f64 {
        (IDLE_CPU_LIMIT * self.reachable).max(IDLE_CPU_FLOOR)
    }
}

/// Measures one idle window of `program`; a program that ended, or whose CPU time cannot
/// be read, is the check's outcome.
fn idle_window(program: &mut Program, spin: bool) -> Result<IdleUse, Outcome> {
    let pid = program.pid();
    let (Ok(before), start) = (procfs::cpu_ticks(pid), Instant::now()) else {
        return Err(Outcome::fail(format!(
            "the program ended before it was sent the empty line - it must keep reading lines until an empty one; {}",
            program.exit_story()
        )));
    };
    // A spinning thread of the grader's own measures what an always-runnable thread gets
    // here and now: on a loaded machine a spinning program gets less than a core, and the
    // limit scales with it (never below IDLE_CPU_FLOOR).
    let (reachable, runnable) = if spin {
        (spinner_share(IDLE_WINDOW), 1.0)
    } else {
        let (mut looks, mut busy) = (0u32, 0u32);
        while start.elapsed() < IDLE_WINDOW {
            std::thread::sleep(Duration::from_millis(25));
            looks += 1;
            busy += u32::from(any_thread_runnable(pid));
        }
        (1.0, f64::from(busy) / f64::from(looks.max(1)))
    };
    let after = procfs::cpu_ticks(pid);
    let window = start.elapsed().as_secs_f64();
    if program.status().is_some() {
        return Err(Outcome::fail(format!(
            "while waiting for more input, the program ended - it must keep reading lines until an empty one; {}",
            program.exit_story()
        )));
    }
    let Ok(after) = after else {
        return Err(Outcome::error(
            "could not read the program's CPU time from /proc",
        ));
    };
    let cpu = after.saturating_sub(before) as f64 / procfs::ticks_per_second() as f64;
    Ok(IdleUse {
        cpu,
        window,
        reachable,
        runnable,
    })
}

/// Whether a thread of `pid` is running or waiting for a core (state `R` in
/// `/proc/PID/task/TID/stat`).
fn any_thread_runnable(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        std::fs::read_to_string(t.path().join("stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .map(|(_, rest)| rest.trim_start().starts_with('R'))
            })
            .unwrap_or(false)
    })
}

/// The program's CPU use over an idle window ([`IDLE_WINDOW`], a second one against the
/// spinner when the first is above [`IDLE_CPU_FLOOR`] or often found the program
/// runnable). A program that ended, or whose CPU time cannot be read, is the check's
/// outcome; without `/proc` it is a skip (after waiting the window all the same, so the
/// program sees the same pause).
pub(super) fn measure(program: &mut Program) -> Result<IdleUse, Outcome> {
    if !procfs::available() {
        std::thread::sleep(IDLE_WINDOW);
        return Err(Outcome::skip(
            "this system has no /proc to read the program's CPU time from",
        ));
    }
    let mut measured = idle_window(program, false);
    if matches!(measured, Ok(m) if m.share() >= IDLE_CPU_FLOOR || m.runnable >= 0.5) {
        measured = idle_window(program, true);
    }
    measured
}
