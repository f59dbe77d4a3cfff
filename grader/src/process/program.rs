//! One student program under control: spawned in a process group of its own, with its
//! output captured and capped, its resource limits set, its cookie in its environment and
//! (as root) in a cgroup of its own; watched while it runs ([`crate::contain`]); killed as
//! a whole group when the grader is done with it (SIGTERM, a short grace, then SIGKILL),
//! also when the handle is dropped on any path, and then swept for escapees. Where the
//! machine allows it, the program runs in a box of its own ([`crate::contain::sandbox`]):
//! the process the grader waits for is then the box's keeper, and [`Program::pid`] the
//! program itself, as the host sees it.

use super::capture::Capture;
use super::deadline::Deadline;
use super::exits;
use crate::contain::{self, cgroup::ProgramCgroup, cookie, registry};
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bytes of stdout or stderr kept per program; the rest is read and counted, not kept.
pub const OUTPUT_CAP: usize = 4 * 1024 * 1024;

/// How long a program may take to die after SIGTERM before it gets SIGKILL.
const GRACE: Duration = Duration::from_millis(100);

/// Everything needed to start a program.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Program and arguments; `argv[0]` is resolved through `PATH` by the OS.
    pub argv: Vec<String>,
    /// Working directory (a private copy of the submission).
    pub cwd: PathBuf,
    /// The whole environment: the program inherits nothing else.
    pub env: Vec<(String, String)>,
    /// Give the program a pipe on stdin (otherwise `/dev/null`).
    pub stdin: bool,
}

/// A running (or finished) program.
pub struct Program {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Captured standard output.
    pub stdout: Capture,
    /// Captured standard error.
    pub stderr: Capture,
    status: Option<ExitStatus>,
    /// Its cookie tag (`GRADER_RUN`).
    tag: String,
    /// Why the grader killed it, when it did (set by the watcher).
    verdict: Arc<Mutex<Option<String>>>,
    /// Its key in the table of live programs, until it has been killed and swept.
    live: Option<u64>,
    /// Its cgroup (root).
    cgroup: Option<Arc<ProgramCgroup>>,
    /// Where it notes that it ended on its own (the check's journal).
    journal: Option<exits::Journal>,
    /// In a box: the program's host pid, as it reported it.
    host_pid: Option<u32>,
    /// In a box: its report pipe, and whether the box's scratch space was found full.
    report: Option<contain::pidns::Report>,
    full: Option<bool>,
    /// In a box whose working copy has no box uid: the uid leased for this program alone.
    _lease: Option<contain::boxuid::Lease>,
}

impl Program {
    /// Starts the program in a new process group, contained (see [`crate::contain`]).
    /// Refused once the grader has been interrupted.
    pub fn spawn(launch: &Launch) -> std::io::Result<Program> {
        if let Some(signal) = contain::signals::interrupted() {
            return Err(std::io::Error::other(format!(
                "the grader was interrupted ({})",
                contain::signals::name(signal)
            )));
        }
        let (exe, args) = launch.argv.split_first().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command")
        })?;
        let layers = contain::layers();
        let tag = cookie::next_tag(&layers.run_id);
        // Without its cgroup the program still runs, under the other layers.
        let cgroup = layers
            .cgroup
            .as_ref()
            .ok()
            .and_then(|run| run.program().ok())
            .map(Arc::new);
        let sandbox = layers.sandbox.as_ref().ok();
        let mut report = None;
        let mut lease = None;
        let boxed = match sandbox {
            Some(sb) => {
                let uid = if sb.own_uid {
                    Some(box_uid(&launch.cwd, &mut lease)?)
                } else {
                    None
                };
                if let Some(uid) = uid {
                    for (key, value) in &launch.env {
                        if key.starts_with("GRADER_") {
                            contain::uid::hand_over_parent_to(value, uid);
                        }
                    }
                }
                let pipe = contain::pidns::Report::new()?;
                let spec = sb.spec(&launch.cwd, &launch.argv, &launch.env, uid, pipe.write_fd());
                report = Some(pipe);
                Some((spec, uid.is_some()))
            }
            None => None,
        };
        let drop_uid = boxed.is_none() && layers.uid.is_ok();
        if drop_uid {
            // Paths handed to the program to write (instrumentation logs) become its own.
            for (key, value) in &launch.env {
                if key.starts_with("GRADER_") {
                    contain::uid::hand_over_parent(value);
                }
            }
        }
        let readonly = if boxed.is_none() && layers.readonly.is_ok() {
            contain::readonly::protected()
        } else {
            Vec::new()
        };
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .current_dir(&launch.cwd)
            .env_clear()
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .env(cookie::VAR, &tag)
            .stdin(if launch.stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: only async-signal-safe calls between fork and exec.
        if let Some((spec, own_uid)) = boxed {
            unsafe {
                cmd.pre_exec(move || {
                    contain::limits::apply(own_uid)?;
                    // The keeper dies with the grader; the box dies with the keeper.
                    #[cfg(target_os = "linux")]
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    contain::sandbox::apply(&spec)
                });
            }
        } else {
            unsafe {
                cmd.pre_exec(move || {
                    contain::limits::apply(drop_uid)?;
                    contain::readonly::apply(&readonly)?;
                    if drop_uid {
                        contain::uid::apply()?;
                    }
                    // If the grader dies, the program dies with it (Linux only).
                    #[cfg(target_os = "linux")]
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn()?;
        let host_pid = report.as_mut().and_then(|r| r.started());
        if let Some(cg) = &cgroup {
            contain::cgroup::adopt_later(Arc::clone(cg), host_pid.unwrap_or(child.id()));
        }
        let verdict = Arc::new(Mutex::new(None));
        let live = registry::add(registry::Entry {
            pgid: child.id(),
            tag: tag.clone(),
            verdict: Arc::clone(&verdict),
            cgroup: cgroup.clone(),
            tree: (report.is_some() && crate::procfs::children_listed()).then(|| child.id()),
        });
        let stdout = Capture::start(child.stdout.take().expect("piped stdout"), OUTPUT_CAP);
        let stderr = Capture::start(child.stderr.take().expect("piped stderr"), OUTPUT_CAP);
        Ok(Program {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            status: None,
            tag,
            verdict,
            live: Some(live),
            cgroup,
            journal: exits::current(),
            host_pid,
            report,
            full: None,
            _lease: lease,
        })
    }

    /// Its cookie tag, the value of `GRADER_RUN` in its environment.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Why the grader (or, as root, the kernel on the grader's behalf) killed it, in words
    /// that follow "the program": "was killed by the grader: it used more than 512 MiB".
    pub fn verdict(&self) -> Option<String> {
        if let Some(v) = self
            .verdict
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Some(v);
        }
        let events = self.cgroup.as_ref()?.events();
        contain::monitor::judge_events(events)
    }

    /// The program's process id as the host sees it (for `/proc` and `sock_diag`); in a
    /// box, the boxed program's, not its keeper's.
    pub fn pid(&self) -> u32 {
        self.host_pid.unwrap_or(self.child.id())
    }

    /// The pid the program sees as its own (`os.getpid()`, what it writes in the thread
    /// log): 2 in a box, else [`Program::pid`].
    pub fn own_pid(&self) -> u32 {
        if self.host_pid.is_some() {
            2
        } else {
            self.pid()
        }
    }

    /// Its process group id (the keeper's pid in a box).
    pub fn pgid(&self) -> u32 {
        self.child.id()
    }

    /// Whether, when the box ended, its scratch space (`/tmp`, `/var/tmp`, `/dev/shm`)
    /// was full. Known once the program has ended.
    pub fn scratch_full(&mut self) -> bool {
        if self.full.is_none() && self.status().is_some() {
            self.full = Some(self.report.as_ref().is_some_and(|r| r.full()));
        }
        self.full.unwrap_or(false)
    }

    /// The exit status if the program has ended, without waiting.
    pub fn status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// A deadline of `bound` of this program's own time, from now (see [`Deadline`]: the
    /// time it waited for a CPU on a busy machine is given back).
    pub fn deadline(&self, bound: Duration) -> Deadline {
        Deadline::start(self.pid(), bound)
    }

    /// Waits for the program to end, at most `timeout` of its own time ([`Program::deadline`]);
    /// polls fast at first, then slower.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if timeout.is_zero() {
            return self.status();
        }
        let mut deadline = self.deadline(timeout);
        self.wait_exit_until(&mut deadline)
    }

    /// Waits for the program to end until `deadline` passes.
    pub fn wait_exit_until(&mut self, deadline: &mut Deadline) -> Option<ExitStatus> {
        let mut pause = Duration::from_micros(200);
        loop {
            if let Some(status) = self.status() {
                return Some(status);
            }
            if deadline.passed() {
                return None;
            }
            std::thread::sleep(
                pause
                    .min(deadline.remaining())
                    .max(Duration::from_micros(100)),
            );
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Writes to the program's stdin; an error means the program closed it (or exited).
    pub fn write_stdin(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self.stdin.as_mut() {
            Some(pipe) => pipe.write_all(data).and_then(|_| pipe.flush()),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "stdin closed",
            )),
        }
    }

    /// Closes the program's stdin: it reads end of file.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Sends `signal` to the program's whole process group.
    pub fn signal_group(&self, signal: i32) {
        // SAFETY: kill(2) with a negative pid signals the process group; no memory involved.
        unsafe {
            libc::kill(-(self.pgid() as i32), signal);
        }
    }

    /// Ends the whole process group: SIGTERM, a short grace, SIGKILL. Returns the status.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        self.close_stdin();
        self.note_exit();
        if self.status().is_none() {
            // The grader's own clock: a program that ignores SIGTERM is not waited for.
            self.signal_group(libc::SIGTERM);
            if self.wait_exit_until(&mut Deadline::wall(GRACE)).is_none() {
                self.signal_group(libc::SIGKILL);
                self.wait_exit_until(&mut Deadline::wall(Duration::from_secs(5)));
            }
        }
        // Children left in the group (a fork server's) go too, and then whatever left the
        // group: everything in its cgroup, everything carrying its cookie. A box with a
        // PID namespace of its own needs no sweep: nothing started in it can leave it,
        // and the kernel kills all of it when its keeper's reaper ends; the sweep reads
        // every process's environment, on every program's end.
        self.signal_group(libc::SIGKILL);
        if let Some(key) = self.live.take() {
            if let Some(cg) = &self.cgroup {
                cg.kill_all();
            }
            if self.report.is_none() {
                cookie::sweep(cookie::Match::Tag(&self.tag));
            }
            registry::remove(key);
        }
        self.status
    }

    /// The exit status within `timeout`, or within a second when the program is dying:
    /// its stderr shows a Python traceback (it may close its sockets before it exits).
    pub fn settle(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.wait_exit(timeout).or_else(|| {
            let dying = String::from_utf8_lossy(&self.stderr.tail_bytes())
                .contains("Traceback (most recent call last)");
            if dying {
                self.wait_exit(Duration::from_secs(1))
            } else {
                None
            }
        })
    }

    /// Notes in the check's journal, once, that the program ended on its own (or was
    /// killed by the watcher) before the grader ended it.
    fn note_exit(&mut self) {
        let Some(journal) = self.journal.take() else {
            return;
        };
        let verdict = self.verdict();
        if let Some(status) = self.settle(Duration::ZERO) {
            journal.note(exits::Exit {
                success: status.success() && verdict.is_none(),
                story: self.exit_story(),
            });
        }
    }

    /// The tail of stderr, escaped, for messages (at most about 2000 bytes: a flood
    /// without newlines stays readable).
    pub fn stderr_tail(&self, lines: usize) -> String {
        let bytes = self.stderr.tail_bytes();
        let cut = bytes.len().saturating_sub(2000);
        crate::escape::tail(&bytes[cut..], lines)
    }

    /// "its stdout was truncated after 4 MiB (300 MiB in all)" for each stream that went
    /// over the cap; empty when none did.
    pub fn truncation_note(&self) -> String {
        let notes: Vec<String> = [("stdout", &self.stdout), ("stderr", &self.stderr)]
            .iter()
            .filter_map(|(name, cap)| {
                cap.with(|b| {
                    b.truncated().then(|| {
                        format!(
                            "its {name} was truncated after {} MiB ({} MiB in all)",
                            OUTPUT_CAP >> 20,
                            b.total >> 20
                        )
                    })
                })
            })
            .collect();
        notes.join("; ")
    }

    /// The most threads the program (all its processes) had at once, as its cgroup counted
    /// them (as root, where the kernel keeps `pids.peak`; from when it was moved in, soon
    /// after it started).
    pub fn peak_tasks(&self) -> Option<u64> {
        self.cgroup.as_ref()?.peak_tasks()
    }

    /// A sentence about how the program ended, with the tail of its stderr when it has one.
    pub fn exit_story(&mut self) -> String {
        let mut status = match (self.verdict(), self.status()) {
            (Some(why), _) => why,
            (None, Some(s)) => describe(s),
            (None, None) => "is still running".to_string(),
        };
        if self.status.is_some() {
            // The exit can be seen before the reader thread has drained the pipe: wait for
            // its end of file (bounded: an escaped child may hold the pipe open).
            self.stderr.wait_closed(Duration::from_secs(1));
        }
        let mut note = self.truncation_note();
        if self.scratch_full() {
            let copy = contain::layers()
                .sandbox
                .as_ref()
                .is_ok_and(|sb| sb.capped_copy);
            let full = format!(
                "it filled the {} MiB it may write in {}/tmp, /var/tmp and /dev/shm",
                contain::view::SCRATCH_BYTES >> 20,
                if copy { "its working copy, " } else { "" }
            );
            note = if note.is_empty() {
                full
            } else {
                format!("{note}; {full}")
            };
        }
        if !note.is_empty() {
            status = format!("{status} ({note})");
        }
        let tail = self.stderr_tail(6);
        if tail.is_empty() {
            format!("the program {status}")
        } else {
            format!(
                "the program {status}; the end of its stderr:\n{}",
                indent(&tail)
            )
        }
    }
}

/// The uid of a box whose program works in `cwd`: the working copy's owner when it is a
/// box uid (the runner leased it), else one leased for this program alone (kept in
/// `lease`).
fn box_uid(
    cwd: &std::path::Path,
    lease: &mut Option<contain::boxuid::Lease>,
) -> std::io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(cwd)?.uid();
    if contain::boxuid::is_box(owner) {
        return Ok(owner);
    }
    let l = contain::boxuid::lease()?;
    let uid = l.uid;
    *lease = Some(l);
    Ok(uid)
}

/// "exited with status 1", "was killed by signal 9".
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "ended".to_string(),
    }
}

/// Indents every line of `text` by four spaces (quoted program output inside a message).
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Drop for Program {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn sh(script: &str) -> Launch {
        Launch {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: std::env::temp_dir(),
            env: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            stdin: true,
        }
    }

    #[test]
    fn captures_output_and_status() {
        let mut p = Program::spawn(&sh("echo out; echo err >&2; exit 3")).unwrap();
        assert_eq!(
            p.wait_exit(Duration::from_secs(10)).unwrap().code(),
            Some(3)
        );
        assert!(p.stdout.wait_closed(Duration::from_secs(5)));
        assert_eq!(p.stdout.bytes(), b"out\n");
        assert!(p.exit_story().contains("status 3"));
    }

    #[test]
    fn kill_ends_the_whole_group() {
        let mut p = Program::spawn(&sh("trap '' TERM; sleep 60 & sleep 60")).unwrap();
        let pid = p.pid() as i32;
        p.kill();
        // The background sleep is reaped by init after the kill; wait for that, with a deadline.
        let deadline = Instant::now() + Duration::from_secs(10);
        // SAFETY: signal 0 only probes whether the group still exists.
        while unsafe { libc::kill(-pid, 0) } == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            crate::procfs::group_members(pid as u32)
                .unwrap_or_default()
                .is_empty(),
            "process group {pid} survived"
        );
    }
}
