//! Deadlines on a program that count the program's own time, not the wall clock alone, so
//! that a verdict never depends on how busy the machine is.
//!
//! A deadline of `bound` passes when the program has had `bound` of time in which it could
//! run: the wall-clock time since the deadline was set, minus the time the program spent
//! waiting for a CPU (runnable, but the machine was busy). The kernel counts that wait per
//! thread (`run_delay` in `/proc/PID/task/TID/schedstat`; it also counts the time a CPU
//! quota throttled the program). So:
//! - a program that sleeps, blocks on a socket or a pipe, or is stopped waits for no CPU:
//!   its deadline passes at `bound` on the clock, on any load (fast "it never happened");
//! - a program that works but gets little CPU because others run is given the time it lost
//!   (a correct program is never judged for the machine's load); so is the time it was
//!   seen in uninterruptible sleep (state `D`: waiting for the kernel, e.g. a fork held up
//!   by other programs' cgroup moves, memory reclaim, the disk), sampled as it is asked;
//! - whatever happens, a deadline passes at [`BACKSTOP`] times `bound` on the clock (a
//!   program spinning on a machine so loaded that it barely runs ends there).
//!
//! The waits are those of the program's main process (all its threads, sampled at least
//! every [`SAMPLE`] while someone asks, so threads that end are still counted); its
//! children's are not (what a deadline waits for, listening, printing, exiting, is the main
//! process's). A deadline may also be given [`Helpers`]: threads of the grader that the
//! program's progress passes through (the grader's server answering a client, the reader
//! of its stdout); their waits for a CPU count as lost too. Without `/proc` the deadline is
//! the wall clock's `bound`.
//!
//! The kernel adds a wait to `run_delay` only when it ends. A thread seen runnable whose
//! counters have not moved since a look has waited at least since that look; one whose
//! counters moved may have started its current wait any time after the look before, so
//! that earlier look is taken as the wait's start: the wait going on is over-counted by at
//! most a look's interval, never under-counted (a program barely given a CPU is never
//! judged early, however rarely it runs or the grader looks).

use super::Helpers;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// However the program was starved, its deadline passes at this many times its bound on
/// the clock.
pub const BACKSTOP: u32 = 6;

/// How often the program's waits are read while someone asks whether the deadline passed.
const SAMPLE: Duration = Duration::from_millis(10);

/// A deadline of `bound` of the program's time, set at [`Deadline::start`].
#[derive(Debug)]
pub struct Deadline {
    pid: Option<u32>,
    /// Threads of the grader whose waits count too.
    helpers: Vec<Helpers>,
    start: Instant,
    bound: Duration,
    backstop: Duration,
    /// What each thread looked like, by process and thread id.
    threads: HashMap<(u32, u32), Seen>,
    /// When the threads were last read.
    sampled: Option<Instant>,
    /// The program's completed waits for a CPU since the deadline was set, as last read,
    /// plus `in_kernel`.
    stalled: Duration,
    /// Time the program was seen in uninterruptible sleep (state `D`).
    in_kernel: Duration,
}

/// One thread's counters (`/proc/PID/task/TID/schedstat`, nanoseconds).
#[derive(Clone, Copy, Debug)]
struct Seen {
    /// Its wait for a CPU when the deadline first saw it (0 for a thread born later).
    first: u64,
    /// Its wait for a CPU, as last read (kept when the thread has ended).
    delay: u64,
    /// Its CPU time, as last read.
    cpu: u64,
    /// The look before the one that last saw either counter change (the thread's current
    /// wait, if any, started after it).
    changed: Instant,
}

impl Deadline {
    /// A deadline of `bound` of the time of process `pid` (its main process), from now.
    pub fn start(pid: u32, bound: Duration) -> Deadline {
        let mut d = Deadline::wall(bound);
        d.pid = Some(pid);
        d.sample();
        d
    }

    /// A deadline of `bound` on the wall clock, from now (no program to count time for).
    pub fn wall(bound: Duration) -> Deadline {
        Deadline {
            pid: None,
            helpers: Vec::new(),
            start: Instant::now(),
            bound,
            backstop: bound * BACKSTOP,
            threads: HashMap::new(),
            sampled: None,
            stalled: Duration::ZERO,
            in_kernel: Duration::ZERO,
        }
    }

    /// The same deadline, counting the waits of `helpers` (threads of the grader, as they
    /// enlist) as lost too; may be given several lists.
    pub fn with_helpers(mut self, helpers: &Helpers) -> Deadline {
        self.helpers.push(helpers.clone());
        self.sample();
        self
    }

    /// The same deadline with another wall-clock backstop (tests).
    pub fn with_backstop(mut self, backstop: Duration) -> Deadline {
        self.backstop = backstop.max(self.bound);
        self
    }

    /// The bound it was set with (for messages: "within 10 s").
    pub fn bound(&self) -> Duration {
        self.bound
    }

    /// How long the program waited for a CPU since the deadline was set, as last read.
    pub fn stalled(&self) -> Duration {
        self.stalled
    }

    /// True once the program has had `bound` of its own time, or the backstop is reached.
    pub fn passed(&mut self) -> bool {
        let elapsed = self.start.elapsed();
        if elapsed >= self.backstop {
            return true;
        }
        let due = self.sampled.is_none_or(|at| at.elapsed() >= SAMPLE);
        if due {
            self.sample();
        }
        let own = elapsed.saturating_sub(self.stalled);
        // Judged on fresh counters only (at most SAMPLE late), so a caller that polls
        // every millisecond does not read `/proc` every millisecond. The kernel adds a
        // wait to `run_delay` when it ends: a thread waiting right now (runnable, its
        // counters still since they last moved) has waited that long more.
        own >= self.bound && due && own.saturating_sub(self.waiting_now()) >= self.bound
    }

    /// The clock time left at least before the deadline can pass (it may stretch further):
    /// how long a wait may sleep before asking [`Deadline::passed`] again. Never more than
    /// [`SAMPLE`] while a program's time is counted, so its threads are sampled.
    pub fn remaining(&mut self) -> Duration {
        let elapsed = self.start.elapsed();
        let end = (self.bound + self.stalled).min(self.backstop);
        let left = end.saturating_sub(elapsed);
        if self.pid.is_some() || !self.helpers.is_empty() {
            left.min(SAMPLE)
        } else {
            left
        }
    }

    /// Reads the counters of the program's threads and the helpers'; a thread seen before
    /// keeps its last values when it has ended.
    fn sample(&mut self) {
        if self.pid.is_none() && self.helpers.is_empty() {
            return;
        }
        let now = Instant::now();
        let before = self.sampled.unwrap_or(self.start);
        let since = now - before;
        self.sampled = Some(now);
        let mut in_kernel = false;
        let mut tasks: Vec<(u32, u32, bool)> = Vec::new();
        if let Some(pid) = self.pid {
            // The program's threads there at the first look count from now; later ones
            // from their birth.
            let first_look = !self.threads.keys().any(|(p, _)| *p == pid);
            for tid in crate::procfs::thread_ids(pid).unwrap_or_default() {
                tasks.push((pid, tid, !first_look));
            }
        }
        let me = std::process::id();
        for helpers in &self.helpers {
            tasks.extend(helpers.tids().into_iter().map(|tid| (me, tid, false)));
        }
        for (pid, tid, born_later) in tasks {
            let Some((cpu, delay)) = schedstat(pid, tid) else {
                continue;
            };
            if Some(pid) == self.pid {
                in_kernel |= state(pid, tid) == Some('D');
            }
            let seen = self.threads.entry((pid, tid)).or_insert(Seen {
                first: if born_later { 0 } else { delay },
                delay,
                cpu,
                changed: before,
            });
            if (cpu, delay) != (seen.cpu, seen.delay) {
                seen.changed = before;
            }
            seen.cpu = seen.cpu.max(cpu);
            seen.delay = seen.delay.max(delay);
        }
        // A thread in uninterruptible sleep waits for the kernel (a lock shared with other
        // programs' forks, memory reclaim, the disk), not on anything the program chose:
        // the time since the last look counts as lost, up to a few looks' worth.
        if in_kernel {
            self.in_kernel += since.min(SAMPLE * 4);
        }
        let ns: u64 = self
            .threads
            .values()
            .map(|t| t.delay.saturating_sub(t.first))
            .sum();
        // Several threads may wait at once; the program cannot lose more than the clock.
        self.stalled = self
            .stalled
            .max((Duration::from_nanos(ns) + self.in_kernel).min(self.start.elapsed()));
    }

    /// The longest wait for a CPU going on now, at most: a thread that is runnable (`R`)
    /// has waited since the look before the last one that saw its counters move.
    fn waiting_now(&self) -> Duration {
        self.threads
            .iter()
            .filter(|((pid, tid), _)| runnable(*pid, *tid))
            .map(|(_, t)| t.changed.elapsed())
            .max()
            .unwrap_or_default()
    }
}

/// The CPU time of thread `tid` of `pid` and the time it has waited for a CPU, in
/// nanoseconds.
fn schedstat(pid: u32, tid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat")).ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse().ok());
    Some((fields.next()??, fields.next()??))
}

/// True when thread `tid` of `pid` is runnable (state `R`).
fn runnable(pid: u32, tid: u32) -> bool {
    state(pid, tid) == Some('R')
}

/// The state letter of thread `tid` of `pid`.
fn state(pid: u32, tid: u32) -> Option<char> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat"))
        .ok()
        .and_then(|text| crate::procfs::parse_stat(&text))
        .map(|s| s.state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command, Stdio};

    /// A child that is killed when the test ends, however it ends.
    struct Kid(Child);

    impl Drop for Kid {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn sh(script: &str) -> Kid {
        Kid(Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap())
    }

    /// Waits until `pid` runs `sleep` and sleeps (its start, which may wait for a CPU on a
    /// busy machine, is over).
    fn asleep(pid: u32) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.contains("(sleep) S") {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("{pid} never slept");
    }

    /// Polls `deadline` as the grader's waits do; returns when it passed.
    fn wait_out(deadline: &mut Deadline) -> Duration {
        let start = deadline.start;
        while !deadline.passed() {
            std::thread::sleep(deadline.remaining().max(Duration::from_millis(1)));
        }
        start.elapsed()
    }

    /// A cgroup v1 `cpu` directory (or v2 one) that gives its members 1% of a CPU.
    struct Throttle(std::path::PathBuf);

    impl Throttle {
        /// 1 ms of CPU every 100 ms.
        fn new() -> Option<Throttle> {
            Throttle::with("1000", "100000", "a")
        }

        /// `quota` microseconds of CPU every `period`; `name` tells the tests' apart.
        fn with(quota: &str, period: &str, name: &str) -> Option<Throttle> {
            let name = format!("grader-deadline-test-{}-{name}", std::process::id());
            let v1 = std::path::Path::new("/sys/fs/cgroup/cpu").join(&name);
            if std::fs::create_dir(&v1).is_ok() {
                let ok = std::fs::write(v1.join("cpu.cfs_period_us"), period).is_ok()
                    && std::fs::write(v1.join("cpu.cfs_quota_us"), quota).is_ok();
                let t = Throttle(v1);
                return ok.then_some(t);
            }
            let v2 = std::path::Path::new("/sys/fs/cgroup").join(&name);
            std::fs::create_dir(&v2).ok()?;
            let t = Throttle(v2);
            std::fs::write(t.0.join("cpu.max"), format!("{quota} {period}")).ok()?;
            Some(t)
        }

        fn adopt(&self, pid: u32) -> bool {
            std::fs::write(self.0.join("cgroup.procs"), pid.to_string()).is_ok()
        }
    }

    impl Drop for Throttle {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }

    #[test]
    fn a_sleeping_program_is_judged_at_the_bound() {
        let kid = sh("exec sleep 60");
        asleep(kid.0.id());
        let bound = Duration::from_millis(300);
        let backstop = Duration::from_secs(20);
        let mut deadline = Deadline::start(kid.0.id(), bound).with_backstop(backstop);
        let took = wait_out(&mut deadline);
        // Sleeping is no wait for a CPU: the deadline is the clock's, however loaded the
        // machine is (the margin up to half the backstop is the test's own wake-ups).
        assert!(
            took >= bound && took < backstop / 2,
            "passed after {took:?}"
        );
        assert!(deadline.stalled() < Duration::from_millis(100));
    }

    #[test]
    fn a_stopped_program_is_judged_at_the_bound() {
        let kid = sh("exec sleep 60");
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(kid.0.id() as i32, libc::SIGSTOP) };
        let bound = Duration::from_millis(300);
        let backstop = Duration::from_secs(20);
        let took = wait_out(&mut Deadline::start(kid.0.id(), bound).with_backstop(backstop));
        assert!(
            took >= bound && took < backstop / 2,
            "passed after {took:?}"
        );
    }

    #[test]
    fn a_starved_program_is_not_judged_before_the_backstop() {
        let Some(throttle) = Throttle::new() else {
            eprintln!("no cgroup cpu controller to throttle a program with (needs root)");
            return;
        };
        // It spins from the start; moved into the throttled cgroup, it gets 1% of a CPU
        // and waits for one the rest of the time, like a program on a very busy machine.
        let kid = sh("while :; do :; done");
        assert!(throttle.adopt(kid.0.id()));
        let bound = Duration::from_millis(200);
        let backstop = Duration::from_secs(2);
        let mut deadline = Deadline::start(kid.0.id(), bound).with_backstop(backstop);
        let took = wait_out(&mut deadline);
        assert!(took >= backstop, "passed after {took:?}");
        // Its waits were seen: those the kernel has counted, and the one going on.
        let waited = deadline.stalled() + deadline.waiting_now();
        assert!(waited > backstop / 2, "waited {waited:?} for a CPU");
        drop(kid);
    }

    #[test]
    fn a_starved_program_looked_at_rarely_is_not_judged_early() {
        // Regression: the grader's thread, itself starved on a loaded machine, looks at
        // the deadline rarely. A program that ran (briefly) between two looks and waits
        // again has a wait the kernel has not counted yet; taking it as starting at the
        // look that saw the program move judged the program after its CPU time plus that
        // wait (a unit test failed so at load 82). 5 ms of CPU every 300 ms, looked at
        // every 250 ms: every look sees it moved, and it must still reach the backstop.
        let Some(throttle) = Throttle::with("5000", "300000", "b") else {
            eprintln!("no cgroup cpu controller to throttle a program with (needs root)");
            return;
        };
        let kid = sh("while :; do :; done");
        assert!(throttle.adopt(kid.0.id()));
        let bound = Duration::from_millis(200);
        let backstop = Duration::from_millis(1500);
        let mut deadline = Deadline::start(kid.0.id(), bound).with_backstop(backstop);
        let start = deadline.start;
        while !deadline.passed() {
            std::thread::sleep(Duration::from_millis(250));
        }
        let took = start.elapsed();
        assert!(took >= backstop, "passed after {took:?}");
        drop(kid);
    }

    #[test]
    fn a_helper_starved_of_cpu_stretches_the_deadline() {
        // The program sleeps (its own time runs at the clock's pace) while a helper thread
        // of the grader, throttled, waits for a CPU: the helper's waits count as lost.
        let Some(throttle) = Throttle::with("1000", "100000", "c") else {
            eprintln!("no cgroup cpu controller to throttle a thread with (needs root)");
            return;
        };
        let kid = sh("exec sleep 60");
        asleep(kid.0.id());
        let helpers = Helpers::new();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spinner = {
            let (helpers, stop) = (helpers.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                helpers.enlist();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        };
        while helpers.tids().is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        // cgroup v1 takes a thread id in `tasks`; v2 threaded groups are not set up here.
        let moved = std::fs::write(throttle.0.join("tasks"), helpers.tids()[0].to_string());
        if moved.is_err() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            spinner.join().unwrap();
            eprintln!("cannot move a thread into a cgroup here");
            return;
        }
        let bound = Duration::from_millis(300);
        let backstop = Duration::from_millis(1500);
        let mut deadline = Deadline::start(kid.0.id(), bound)
            .with_helpers(&helpers)
            .with_backstop(backstop);
        let took = wait_out(&mut deadline);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        spinner.join().unwrap();
        assert!(took >= backstop, "passed after {took:?}");
        // Without the helper, the same program is judged at the bound.
        let took = wait_out(&mut Deadline::start(kid.0.id(), bound).with_backstop(backstop));
        assert!(took < backstop, "passed after {took:?}");
    }

    #[test]
    fn threads_that_end_still_count() {
        let mut d = Deadline::wall(Duration::from_secs(1));
        d.pid = Some(u32::MAX);
        let seen = |first, delay| Seen {
            first,
            delay,
            cpu: 0,
            changed: Instant::now(),
        };
        d.threads.insert((u32::MAX, 7), seen(100, 2_000_000_100));
        d.threads.insert((u32::MAX, 8), seen(0, 500_000_000));
        std::thread::sleep(Duration::from_millis(20));
        d.sample();
        // Threads 7 and 8 are gone (there is no such process): their waits stay, capped
        // by the clock.
        assert!(d.stalled() >= Duration::from_millis(20));
        assert!(d.stalled() <= d.start.elapsed());
    }

    #[test]
    fn without_a_program_it_is_the_wall_clock() {
        let bound = Duration::from_millis(50);
        let mut d = Deadline::wall(bound);
        assert!(!d.passed());
        let took = wait_out(&mut d);
        assert!(took >= bound && took < Duration::from_secs(5), "{took:?}");
    }
}
