//! `no-busy-wait`'s measurement: a program's CPU use over an idle second while it waits
//! for input, looking every 25 ms whether a thread of the program is runnable. Most
//! programs wait by blocking and are measured by sleeping; only a program above the floor,
//! or one often found runnable (a spinner a loaded machine starves of CPU), is measured
//! again against a spinning thread of the grader, whose share scales the limit with the
//! load; a program runnable in nearly every look has no floor to hide under.

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

/// A program found running or waiting for a core in at least this share of the looks is
/// spinning, however little CPU a loaded machine gives it (a program that waits by
/// blocking is found so in well under half of them, even at a load average of 70 on 2
/// cores, where a spinning one still is in all of them): its limit scales with what the
/// grader's spinner got, with no floor.
const SPINNING: f64 = 0.8;

/// Starts spinning for `window` on a thread of its own; the thread returns the share of a
/// core it got: about 1.0 on an idle machine, less when the cores are busy.
fn spinner(window: Duration) -> std::thread::JoinHandle<f64> {
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
    /// Share of looks (every 25 ms) that found a thread of the program running or waiting
    /// to run: near 1 for a spinning program however little CPU a loaded machine gives
    /// it, near 0 for one that waits by blocking.
    pub runnable: f64,
}

impl IdleUse {
    /// Share of one core the program used.
    pub(super) fn share(&self) -> f64 {
        self.cpu / self.window
    }
    /// The most it may use: a fifth of what the spinner got, and never under the floor
    /// unless the program was spinning ([`SPINNING`]).
    pub(super) fn limit(&self) -> f64 {
        let scaled = IDLE_CPU_LIMIT * self.reachable;
        if self.spinning() {
            scaled
        } else {
            scaled.max(IDLE_CPU_FLOOR)
        }
    }
    /// It was found runnable in nearly every look.
    pub(super) fn spinning(&self) -> bool {
        self.runnable >= SPINNING
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
    // limit scales with it (never below IDLE_CPU_FLOOR unless the program spins).
    let spinning = spin.then(|| spinner(IDLE_WINDOW));
    let (mut looks, mut busy) = (0u32, 0u32);
    while start.elapsed() < IDLE_WINDOW {
        std::thread::sleep(Duration::from_millis(25));
        looks += 1;
        busy += u32::from(any_thread_runnable(pid));
    }
    let runnable = f64::from(busy) / f64::from(looks.max(1));
    let reachable = spinning.map_or(1.0, |s| s.join().unwrap_or(1.0));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn used(cpu: f64, reachable: f64, runnable: f64) -> IdleUse {
        IdleUse {
            cpu,
            window: 1.0,
            reachable,
            runnable,
        }
    }

    /// On a machine so loaded that a spinner gets 5% of a core, a spinning program gets
    /// about as much: under the floor, but runnable in every look, so it has no floor to
    /// hide under; a program that polls and sleeps keeps the floor.
    #[test]
    fn only_a_program_that_is_always_runnable_loses_the_floor() {
        let spinning = used(0.04, 0.05, 1.0);
        assert!(spinning.spinning());
        assert!(spinning.share() >= spinning.limit());
        let polling = used(0.01, 0.05, 0.25);
        assert!(!polling.spinning());
        assert!((polling.limit() - IDLE_CPU_FLOOR).abs() < 1e-9);
        assert!(polling.share() < polling.limit());
        // On an idle machine the limit is a fifth of a core either way.
        assert!((used(0.0, 1.0, 1.0).limit() - IDLE_CPU_LIMIT).abs() < 1e-9);
        assert!((used(0.0, 1.0, 0.0).limit() - IDLE_CPU_LIMIT).abs() < 1e-9);
    }
}
