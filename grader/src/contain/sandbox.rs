//! The box around each program, put together: its PID and mount namespaces with the
//! grader's reaper as init ([`super::pidns`]), its private filesystem view
//! ([`super::view`]), its own uid and no capabilities ([`super::boxuid`]). [`probe`]
//! tries the whole sequence once at start-up; [`Spec`] is what one spawn needs.

use super::{boxuid, pidns, view};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

/// What the box layer can do here (when it works at all).
#[derive(Debug)]
pub struct Sandbox {
    /// The empty folder every box mounts its root on (in its own mount namespace).
    pub root: PathBuf,
    /// Boxes run under a uid of their own (root); otherwise under the grader's uid in its
    /// user namespace, without capabilities.
    pub own_uid: bool,
    /// The working copy is an overlay whose writes go to the box's capped scratch tmpfs
    /// (where overlayfs can be mounted); otherwise it is bound read-write, capped only
    /// per file.
    pub capped_copy: bool,
}

/// What one program's box needs, computed before the fork.
#[derive(Debug)]
pub struct Spec {
    plan: view::Plan,
    uid: Option<u32>,
    report: RawFd,
}

impl Sandbox {
    /// The box for a program with this command line, working copy and environment.
    /// `uid` is the box's uid (when [`Sandbox::own_uid`]); `report` the write end of its
    /// report pipe.
    pub fn spec(
        &self,
        cwd: &Path,
        argv: &[String],
        env: &[(String, String)],
        uid: Option<u32>,
        report: RawFd,
    ) -> Spec {
        Spec {
            plan: view::plan(&self.root, cwd, argv, env, self.capped_copy),
            uid: if self.own_uid { uid } else { None },
            report,
        }
    }

    /// Removes the root folder (at the end of the run).
    pub fn remove(&self) {
        let _ = std::fs::remove_dir(&self.root);
    }
}

/// In the child, between fork and exec: into the box. Returns only in the program.
/// Async-signal-safe.
pub fn apply(spec: &Spec) -> std::io::Result<()> {
    pidns::enter(spec.report, &spec.plan)?;
    view::enter(&spec.plan)?;
    boxuid::drop_to(spec.uid)
}

/// Sets the layer up and tries it on `/bin/sh` (pid 2 of its box, `/etc/shadow` empty,
/// the grader's folder absent, the uid switched). `root`: the grader runs as root.
pub fn probe(root: bool) -> Result<Sandbox, String> {
    let dir = tempfile::Builder::new()
        .prefix("grader-box-")
        .tempdir()
        .map_err(|e| format!("temporary folder: {e}"))?;
    let mut sandbox = Sandbox {
        root: dir.keep(),
        own_uid: root,
        capped_copy: true,
    };
    // A kernel without overlayfs (or one that refuses it here) still gets boxes, with the
    // working copy bound as it is.
    let mut result = try_once(&sandbox);
    if result.is_err() {
        sandbox.capped_copy = false;
        result = try_once(&sandbox);
    }
    if result.is_err() {
        sandbox.remove();
    }
    result.map(|_| sandbox)
}

fn try_once(sandbox: &Sandbox) -> Result<(), String> {
    let lease = if sandbox.own_uid {
        Some(boxuid::lease().map_err(|e| format!("box uid: {e}"))?)
    } else {
        None
    };
    let uid = lease.as_ref().map(|l| l.uid);
    let work = tempfile::Builder::new()
        .prefix("grader-probe-")
        .tempdir()
        .map_err(|e| format!("temporary folder: {e}"))?;
    if let Some(uid) = uid {
        super::uid::hand_over_to(work.path(), uid).map_err(|e| e.to_string())?;
    }
    let hidden = std::env::current_exe().unwrap_or_default();
    let script = format!(
        "[ $$ = 2 ] || exit 3; [ -s /etc/shadow ] && exit 4; [ -e '{}' ] && exit 5; [ \"$(id -u)\" = {} ] || exit 6; echo x > ok || exit 8; exit 7",
        hidden.display(),
        uid.map_or_else(|| current_uid().to_string(), |u| u.to_string()),
    );
    let mut report = pidns::Report::new().map_err(|e| e.to_string())?;
    let spec = sandbox.spec(
        work.path(),
        &["/bin/sh".into()],
        &[],
        uid,
        report.write_fd(),
    );
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(&script)
        .current_dir(work.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stderr(std::process::Stdio::null());
    // SAFETY: only async-signal-safe calls in the closure.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || apply(&spec));
    }
    let status = cmd.status().map_err(|e| format!("making a box: {e}"))?;
    let host_pid = report.started();
    match status.code() {
        Some(7) if host_pid.is_some() => Ok(()),
        Some(7) => Err("the boxed program did not report its pid".into()),
        Some(3) => Err("the program is not pid 2 of its box".into()),
        Some(4) => Err("/etc/shadow is readable in the box".into()),
        Some(5) => Err("the grader's folder is visible in the box".into()),
        Some(6) => Err("the uid was not switched".into()),
        Some(8) => Err("the working copy is not writable in the box".into()),
        _ => Err(format!("a test program in a box ended with {status}")),
    }
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}
