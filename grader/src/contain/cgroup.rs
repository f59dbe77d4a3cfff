//! As root: a cgroup for the run and one per program inside it, with the kernel's hard
//! limits (`pids.max`, a memory limit), so a fork bomb or a memory hog is stopped by the
//! kernel itself and everything a program started, escapees included, can be found and
//! killed from `cgroup.procs`. The cgroups are made under the grader's own cgroup (so the
//! limits of whatever runs the grader still apply) and removed at the end.
//!
//! A program is moved into its cgroup just after it started, by one mover thread, not
//! between fork and exec: each move takes the kernel's cgroup threadgroup lock for
//! writing, which waits for an RCU grace period (10-40 ms measured here) unless moves
//! follow each other closely, and that wait would add to every program start. Processes a
//! program forks before it is moved stay outside its cgroup; the watcher and the cookie
//! still cover them.
//!
//! cgroup v1 (`/sys/fs/cgroup/{pids,memory}`) is used when mounted; cgroup v2 only when
//! the grader's own cgroup already delegates `pids` and `memory` to its children (the
//! "no internal processes" rule forbids the grader to enable them for itself).

use super::limits;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Which files a cgroup directory has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// v1 `pids` hierarchy.
    Pids,
    /// v1 `memory` hierarchy.
    Memory,
    /// v2: both in one directory.
    Unified,
}

/// The run's cgroup directories (one per hierarchy).
#[derive(Debug)]
pub struct RunCgroup {
    dirs: Vec<(Kind, PathBuf)>,
    next: AtomicU64,
}

/// One program's cgroup: its directories and open `cgroup.procs` files to move it in.
#[derive(Debug)]
pub struct ProgramCgroup {
    dirs: Vec<(Kind, PathBuf)>,
    procs: Vec<OwnedFd>,
}

/// The grader's own cgroup path in the hierarchy with `controller` (`""` for v2).
fn own_path(table: &str, controller: &str) -> Option<String> {
    table.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        let hit = if controller.is_empty() {
            ctrls.is_empty()
        } else {
            ctrls.split(',').any(|c| c == controller)
        };
        hit.then(|| path.to_string())
    })
}

impl RunCgroup {
    /// Makes the run's cgroup, or says why it cannot.
    pub fn create(run_id: &str) -> Result<RunCgroup, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("needs root".into());
        }
        let table = fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
        let name = format!("grader-{run_id}");
        let v1 = Self::v1(&table, &name);
        if v1.is_ok() {
            return v1;
        }
        Self::v2(&table, &name).map_err(|e2| format!("{}; {e2}", v1.unwrap_err()))
    }

    fn v1(table: &str, name: &str) -> Result<RunCgroup, String> {
        let mut dirs = Vec::new();
        for (kind, ctrl) in [(Kind::Pids, "pids"), (Kind::Memory, "memory")] {
            let mount = Path::new("/sys/fs/cgroup").join(ctrl);
            let own = own_path(table, ctrl)
                .filter(|_| mount.join("cgroup.procs").exists())
                .ok_or_else(|| {
                    format!(
                        "cgroup v1: no {ctrl} hierarchy mounted at {}",
                        mount.display()
                    )
                })?;
            dirs.push((kind, mount.join(own.trim_start_matches('/')).join(name)));
        }
        make(dirs)
    }

    fn v2(table: &str, name: &str) -> Result<RunCgroup, String> {
        let own = own_path(table, "").ok_or("cgroup v2: not in a unified hierarchy")?;
        let mount = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
            .into_iter()
            .map(Path::new)
            .find(|m| m.join("cgroup.subtree_control").exists())
            .ok_or("cgroup v2: not mounted")?;
        let base = mount.join(own.trim_start_matches('/'));
        let delegated = fs::read_to_string(base.join("cgroup.subtree_control")).unwrap_or_default();
        if !(delegated.contains("pids") && delegated.contains("memory")) {
            return Err(format!(
                "cgroup v2: {} does not delegate the pids and memory controllers",
                base.display()
            ));
        }
        make(vec![(Kind::Unified, base.join(name))])
    }

    /// A cgroup for one more program, limits set.
    pub fn program(&self) -> io::Result<ProgramCgroup> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut dirs = Vec::new();
        let mut procs = Vec::new();
        for (kind, run) in &self.dirs {
            let dir = run.join(format!("p{n}"));
            fs::create_dir(&dir)?;
            dirs.push((*kind, dir.clone()));
            if matches!(kind, Kind::Pids | Kind::Unified) {
                fs::write(dir.join("pids.max"), limits::PROCESSES.to_string())?;
            }
            match kind {
                Kind::Memory => {
                    fs::write(
                        dir.join("memory.limit_in_bytes"),
                        limits::MEMORY.to_string(),
                    )?;
                    // With swap, the limit on memory plus swap (absent without swap accounting).
                    let _ = fs::write(
                        dir.join("memory.memsw.limit_in_bytes"),
                        limits::MEMORY.to_string(),
                    );
                }
                Kind::Unified => {
                    fs::write(dir.join("memory.max"), limits::MEMORY.to_string())?;
                    let _ = fs::write(dir.join("memory.swap.max"), "0");
                }
                Kind::Pids => {}
            }
            procs.push(
                fs::OpenOptions::new()
                    .write(true)
                    .open(dir.join("cgroup.procs"))?
                    .into(),
            );
        }
        Ok(ProgramCgroup { dirs, procs })
    }

    /// Removes the run's cgroups (after killing anything left in them).
    pub fn remove(&self) {
        for (_, dir) in &self.dirs {
            if let Ok(entries) = fs::read_dir(dir) {
                for e in entries.flatten().filter(|e| e.path().is_dir()) {
                    remove_dir(&e.path());
                }
            }
            remove_dir(dir);
        }
    }
}

fn make(dirs: Vec<(Kind, PathBuf)>) -> Result<RunCgroup, String> {
    for (i, (_, dir)) in dirs.iter().enumerate() {
        if let Err(e) = fs::create_dir(dir) {
            for (_, made) in &dirs[..i] {
                let _ = fs::remove_dir(made);
            }
            return Err(format!("cannot make {}: {e}", dir.display()));
        }
    }
    Ok(RunCgroup {
        dirs,
        next: AtomicU64::new(1),
    })
}

/// Kills every process in `dir` and removes it (a cgroup with processes, zombies
/// included, cannot be removed: retried for a moment).
fn remove_dir(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        kill_members(dir);
        if fs::remove_dir(dir).is_ok() || !dir.exists() || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn kill_members(dir: &Path) -> usize {
    let pids = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    let mut n = 0;
    for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        // SAFETY: kill(2) on a process listed in the cgroup; no memory involved.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        n += 1;
    }
    n
}

/// Counters of one program's cgroup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// Forks refused because `pids.max` was reached.
    pub pids_refused: u64,
    /// Processes killed by the kernel for going over the memory limit.
    pub oom_kills: u64,
}

/// The number after `key` in a `key value` file.
fn counter(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or(0)
}

impl ProgramCgroup {
    /// Moves process `pid` (all its threads) into the cgroup.
    fn adopt(&self, pid: u32) -> io::Result<()> {
        let text = pid.to_string();
        for fd in &self.procs {
            // SAFETY: writes our buffer to a descriptor we own.
            let n = unsafe {
                libc::write(
                    fd.as_raw_fd(),
                    text.as_ptr() as *const libc::c_void,
                    text.len(),
                )
            };
            if n != text.len() as isize {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// What the kernel refused or killed so far.
    pub fn events(&self) -> Events {
        let mut ev = Events::default();
        for (kind, dir) in &self.dirs {
            let read = |f: &str| fs::read_to_string(dir.join(f)).unwrap_or_default();
            if matches!(kind, Kind::Pids | Kind::Unified) {
                ev.pids_refused = counter(&read("pids.events"), "max ");
            }
            match kind {
                Kind::Memory => ev.oom_kills = counter(&read("memory.oom_control"), "oom_kill "),
                Kind::Unified => ev.oom_kills = counter(&read("memory.events"), "oom_kill "),
                Kind::Pids => {}
            }
        }
        ev
    }

    /// The most tasks (threads of all its processes) the cgroup held at once since the
    /// program was moved in (`pids.peak`), where the kernel keeps it.
    pub fn peak_tasks(&self) -> Option<u64> {
        self.dirs
            .iter()
            .filter(|(kind, _)| matches!(kind, Kind::Pids | Kind::Unified))
            .find_map(|(_, dir)| {
                fs::read_to_string(dir.join("pids.peak"))
                    .ok()?
                    .trim()
                    .parse()
                    .ok()
            })
    }

    /// Kills every process in the cgroup, escapees included; returns how many it found.
    pub fn kill_all(&self) -> usize {
        let mut total = 0;
        for _ in 0..100 {
            let n: usize = self.dirs.iter().map(|(_, d)| kill_members(d)).sum();
            total += n;
            if n == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        total
    }
}

impl Drop for ProgramCgroup {
    fn drop(&mut self) {
        self.procs.clear();
        for (_, dir) in &self.dirs {
            remove_dir(dir);
        }
    }
}

/// A process to move, held by a pidfd (so a reused pid is never moved), and its cgroup.
struct Move {
    pid: u32,
    pidfd: Option<OwnedFd>,
    cgroup: Arc<ProgramCgroup>,
}

/// Moves `pid` into `cgroup` soon, on the mover thread. Call while `pid` is a child not
/// yet waited for, so that the pidfd taken here is that child's.
pub fn adopt_later(cgroup: Arc<ProgramCgroup>, pid: u32) {
    static MOVER: OnceLock<Mutex<Sender<Move>>> = OnceLock::new();
    // SAFETY: pidfd_open takes a pid and flags; the result is checked.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_int, 0) } as i32;
    // SAFETY: a fresh descriptor nobody else owns.
    let pidfd =
        (raw >= 0).then(|| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
    let sender = MOVER.get_or_init(|| {
        let (tx, rx) = channel::<Move>();
        let _ = std::thread::Builder::new()
            .name("grader-cgroups".into())
            .spawn(move || {
                for m in rx {
                    if alive(&m) {
                        let _ = m.cgroup.adopt(m.pid);
                    }
                }
            });
        Mutex::new(tx)
    });
    let _ = sender
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(Move { pid, pidfd, cgroup });
}

/// Whether the process of a move still runs (checked through its pidfd when there is one).
fn alive(m: &Move) -> bool {
    match &m.pidfd {
        // SAFETY: signal 0 through our pidfd only checks; no siginfo is passed.
        Some(fd) => unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd.as_raw_fd(),
                0,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            ) == 0
        },
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_own_paths_and_counters() {
        let table =
            "9:name=systemd:/\n8:pids:/a\n4:memory:/process_api/x\n2:cpu,cpuacct:/c\n0::/u\n";
        assert_eq!(own_path(table, "memory").as_deref(), Some("/process_api/x"));
        assert_eq!(own_path(table, "cpuacct").as_deref(), Some("/c"));
        assert_eq!(own_path(table, "").as_deref(), Some("/u"));
        assert_eq!(
            counter("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill "),
            3
        );
        assert_eq!(counter("max 12\n", "max "), 12);
    }

    /// The peak counts the threads a program had at once, also after they ended (where
    /// the machine gives the grader cgroups: as root).
    #[test]
    fn the_peak_counts_threads_that_already_ended() {
        let Ok(run) = RunCgroup::create(&crate::contain::cookie::fresh_run_id()) else {
            return;
        };
        let cg = run.program().unwrap();
        let mut child = std::process::Command::new("python3")
            .args(["-c", "import sys, threading, time\nsys.stdin.readline()\nts = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(5)]\n[t.start() for t in ts]\n[t.join() for t in ts]\nprint('joined', flush=True)\nsys.stdin.readline()"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        cg.adopt(child.id()).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, b"go\n").unwrap();
        // The threads have all ended once it says so.
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line, "joined\n");
        let peak = cg.peak_tasks();
        std::io::Write::write_all(&mut stdin, b"end\n").unwrap();
        child.wait().unwrap();
        drop(cg);
        run.remove();
        if let Some(peak) = peak {
            assert!(peak >= 6, "peak {peak}");
        }
    }
}
