//! One student program under control: spawned in a process group of its own, with its
//! output captured and capped, killed as a whole group when the grader is done with it
//! (SIGTERM, a short grace, then SIGKILL), also when the handle is dropped on any path.

use super::capture::Capture;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
    started: Instant,
}

impl Program {
    /// Starts the program in a new process group.
    pub fn spawn(launch: &Launch) -> std::io::Result<Program> {
        let (exe, args) = launch.argv.split_first().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command")
        })?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .current_dir(&launch.cwd)
            .env_clear()
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(if launch.stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // If the grader dies, the program dies with it (Linux only).
                #[cfg(target_os = "linux")]
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        let stdout = Capture::start(child.stdout.take().expect("piped stdout"), OUTPUT_CAP);
        let stderr = Capture::start(child.stderr.take().expect("piped stderr"), OUTPUT_CAP);
        Ok(Program {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            status: None,
            started: Instant::now(),
        })
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Time since the program was started.
    pub fn age(&self) -> Duration {
        self.started.elapsed()
    }

    /// The exit status if the program has ended, without waiting.
    pub fn status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits for the program to end, at most `timeout`; polls fast at first, then slower.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_micros(200);
        loop {
            if let Some(status) = self.status() {
                return Some(status);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::sleep(pause.min(deadline - now));
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
            libc::kill(-(self.child.id() as i32), signal);
        }
    }

    /// Ends the whole process group: SIGTERM, a short grace, SIGKILL. Returns the status.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        self.close_stdin();
        if self.status().is_none() {
            self.signal_group(libc::SIGTERM);
            if self.wait_exit(GRACE).is_none() {
                self.signal_group(libc::SIGKILL);
                self.wait_exit(Duration::from_secs(5));
            }
        }
        // Children left in the group (a fork server's) go too.
        self.signal_group(libc::SIGKILL);
        self.status
    }

    /// The tail of stderr, escaped, for messages.
    pub fn stderr_tail(&self, lines: usize) -> String {
        crate::escape::tail(&self.stderr.tail_bytes(), lines)
    }

    /// A sentence about how the program ended, with the tail of its stderr when it has one.
    pub fn exit_story(&mut self) -> String {
        let status = match self.status() {
            Some(s) => describe(s),
            None => "is still running".to_string(),
        };
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
