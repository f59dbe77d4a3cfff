//! A server under test across the cases of one check. It starts the program on a fresh
//! port, waits until it is bound, and keeps it for case after case. A `tcp-upper` server
//! may serve one client and exit (the lecture's `server1.py`, SPEC section 3): when a
//! process that served a case answers nothing to the next, the session starts a fresh
//! process, runs the case again, and from then on starts each case's process ahead of
//! time (a spare), so one-shot servers cost little more than others.
//!
//! In a private network namespace (see [`crate::contain::netns`]) every server listens on
//! port 4444, so two processes of one check must never share a namespace: each process
//! the session starts after the first gets a fresh namespace of its own, and the check's
//! thread (with its probes) moves there when that process becomes the current server. A
//! spare thus listens on 4444 while the current process still holds it, and a leftover of
//! an earlier process can never hold the port. `launch_on` (for `reuse-addr`) stays in the
//! same namespace on purpose: the old connection must still be there.

use crate::check::{CheckCtx, LaunchOpts, Outcome, HOST};
use crate::contain::netns::{self, NetNs};
use crate::process::ready;
use crate::process::{port, Program};
use crate::procfs::Proto;
use crate::prop::Failure;
use std::net::SocketAddr;
use std::time::Duration;

/// Why a case failed.
#[derive(Debug)]
pub(crate) struct CaseError {
    /// What went wrong, for the student.
    pub message: String,
    /// Whether the server answered anything at all (a one-shot server that already exited
    /// answers nothing; a server that answered and then failed is judged as it is).
    pub answered: bool,
}

impl CaseError {
    /// A failure after the server answered something.
    pub(crate) fn answered(message: impl Into<String>) -> CaseError {
        CaseError {
            message: message.into(),
            answered: true,
        }
    }
    /// A failure where nothing came back.
    pub(crate) fn silent(message: impl Into<String>) -> CaseError {
        CaseError {
            message: message.into(),
            answered: false,
        }
    }
}

fn free_port() -> Result<u16, Outcome> {
    port::for_server().map_err(|e| Outcome::error(format!("no free port: {e}")))
}

fn fresh_ns() -> Result<NetNs, Outcome> {
    NetNs::fresh()
        .map_err(|e| Outcome::error(format!("could not make a private network namespace: {e}")))
}

/// A process started ahead for the next case.
struct Spare {
    program: Program,
    port: u16,
    /// Its own namespace, when the check runs in private ones.
    ns: Option<NetNs>,
}

/// The server of one check.
pub(crate) struct Server<'a> {
    ctx: &'a CheckCtx<'a>,
    opts: LaunchOpts,
    proto: Proto,
    program: Option<Program>,
    port: u16,
    one_shot: bool,
    /// The current process has had a case.
    used: bool,
    /// For a one-shot server: the next process, already starting on its own port (or in
    /// its own namespace).
    spare: Option<Spare>,
    /// How many processes were started.
    pub starts: u32,
}

impl<'a> Server<'a> {
    /// Starts the server and waits until it is bound; a server that never gets there is
    /// the check's verdict (`fail`, or `error` when the grader could not start it at all).
    pub(crate) fn start(
        ctx: &'a CheckCtx<'a>,
        proto: Proto,
        opts: LaunchOpts,
    ) -> Result<Server<'a>, Outcome> {
        let mut server = Server {
            ctx,
            opts,
            proto,
            program: None,
            port: 0,
            one_shot: false,
            used: false,
            spare: None,
            starts: 0,
        };
        server.launch()?;
        Ok(server)
    }

    /// Starts a new process on a new port (the old one, if any, is ended first). A
    /// one-shot server's next process is started ahead, while the current case runs.
    pub(crate) fn launch(&mut self) -> Result<(), Outcome> {
        self.stop();
        let private = netns::private();
        match self.spare.take() {
            Some(spare) => {
                if let Some(ns) = &spare.ns {
                    ns.enter().map_err(|e| {
                        Outcome::error(format!("could not enter a network namespace: {e}"))
                    })?;
                }
                self.adopt(spare.program, spare.port)?
            }
            None => {
                if private && self.starts > 0 {
                    let ns = fresh_ns()?;
                    ns.enter().map_err(|e| {
                        Outcome::error(format!("could not enter a network namespace: {e}"))
                    })?;
                }
                let port = free_port()?;
                let program = self.spawn(port)?;
                self.adopt(program, port)?;
            }
        }
        if self.one_shot {
            self.spare = Some(self.start_spare(private)?);
        }
        Ok(())
    }

    /// Starts the next process ahead: in a fresh namespace of its own when the check runs
    /// in private ones, else on a free port.
    fn start_spare(&mut self, private: bool) -> Result<Spare, Outcome> {
        let port = free_port()?;
        if !private {
            return Ok(Spare {
                program: self.spawn(port)?,
                port,
                ns: None,
            });
        }
        let ns = fresh_ns()?;
        let program = ns
            .run_inside(|| self.spawn(port))
            .map_err(|e| Outcome::error(format!("could not enter a network namespace: {e}")))??;
        Ok(Spare {
            program,
            port,
            ns: Some(ns),
        })
    }

    /// Starts a new process on `port` (for `reuse-addr`: the same port again).
    pub(crate) fn launch_on(&mut self, port: u16) -> Result<(), Outcome> {
        self.stop();
        let program = self.spawn(port)?;
        self.adopt(program, port)
    }

    fn spawn(&mut self, port: u16) -> Result<Program, Outcome> {
        let mut opts = self.opts.clone();
        opts.port = Some(port);
        self.starts += 1;
        self.ctx.launch(&opts).map_err(|e| {
            Outcome::error(format!(
                "could not start {}: {e}",
                self.ctx.target.shown.join(" ")
            ))
        })
    }

    /// Waits until `program` is bound to `port` and makes it the current server.
    fn adopt(&mut self, mut program: Program, port: u16) -> Result<(), Outcome> {
        if let Err(why) = ready::wait_bound(&mut program, self.proto, port, ready::STARTUP) {
            return Err(Outcome::fail(why.message(self.proto, port)));
        }
        self.port = port;
        self.program = Some(program);
        self.used = false;
        Ok(())
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::new(HOST.parse().expect("valid host"), self.port)
    }

    /// The current port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Whether this task's server may serve one client and exit (SPEC section 3), so that
    /// each connection may cost a process start.
    pub(crate) fn may_be_one_shot(&self) -> bool {
        one_shot_allowed(self.ctx)
    }

    /// The running process.
    pub(crate) fn program(&mut self) -> &mut Program {
        self.program.as_mut().expect("server started")
    }

    /// Ends the current process, if any (a spare stays for the next launch).
    pub(crate) fn stop(&mut self) {
        if let Some(mut p) = self.program.take() {
            p.kill();
        }
    }

    /// Runs one case against a live server. For `tcp-upper`, a process that served an
    /// earlier case and answers nothing to this one is taken for a one-shot server (gone,
    /// or stuck with its last client): the case runs again on a fresh process, and from
    /// then on every case gets a fresh process. A case the program failed is
    /// [`Failure::Program`] (a message for the student); a (re)start the grader could not
    /// do is [`Failure::Grader`], so it can never read as the program's failure.
    pub(crate) fn run_case<T>(
        &mut self,
        mut case: impl FnMut(SocketAddr) -> Result<T, CaseError>,
    ) -> Result<T, Failure> {
        self.ensure_running().map_err(Failure::from_outcome)?;
        let result = case(self.addr());
        let used = std::mem::replace(&mut self.used, true);
        match result {
            Ok(v) => Ok(v),
            Err(e) if !e.answered && used && !self.one_shot && one_shot_allowed(self.ctx) => {
                self.one_shot = true;
                self.launch().map_err(Failure::from_outcome)?;
                self.used = true;
                case(self.addr()).map_err(|e| Failure::Program(self.explain(e)))
            }
            Err(e) => Err(Failure::Program(self.explain(e))),
        }
    }

    /// Starts a process when there is none, it ended, or (one-shot) it served a case.
    fn ensure_running(&mut self) -> Result<(), Outcome> {
        let ended = self.program.as_mut().is_none_or(|p| p.status().is_some());
        if ended || (self.one_shot && self.used) {
            self.launch()?;
        }
        Ok(())
    }

    /// The case's message, plus how the server ended if it did.
    fn explain(&mut self, e: CaseError) -> String {
        let program = self.program();
        if program.settle(Duration::from_millis(50)).is_some() {
            format!("{}; {}", e.message, program.exit_story())
        } else {
            e.message
        }
    }
}

/// Only a task marked one-shot (`tcp-upper`) may serve one client and exit (SPEC
/// section 3); the concurrent servers serve many clients, forever.
fn one_shot_allowed(ctx: &CheckCtx) -> bool {
    ctx.target.kind.one_shot
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        self.stop();
        self.spare = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{RunSettings, Status, Target};
    use crate::instrument::Instrument;
    use std::os::unix::fs::PermissionsExt;

    /// A one-shot `tcp-upper` server that deletes its own file as it starts: it serves
    /// the first case, then the relaunch for the next case cannot start it. That is the
    /// grader failing inside a property case, and it must end the check as `error`.
    const SELF_DELETING: &str = r#"#!/usr/bin/env python3
import os, socket, sys
os.remove(sys.argv[0])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(os.environ["PORT"])))
srv.listen(1)
conn, _ = srv.accept()
while True:
    data = conn.recv(1024)
    if not data:
        break
    conn.sendall(data.upper())
conn.close()
"#;

    #[test]
    fn a_relaunch_the_grader_cannot_do_is_an_error_not_a_fail() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("server1");
        std::fs::write(&script, SELF_DELETING).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let target = Target {
            id: "tcp-upper".into(),
            kind: &crate::tasks::tcp_upper::TASK,
            shown: vec!["./server1".into()],
            argv: vec!["./server1".into()],
            workdir: dir.path().to_path_buf(),
            python: false,
            shared: Default::default(),
        };
        let run = RunSettings {
            seed: 1,
            cases: 8,
            instrument: Instrument::install().unwrap(),
            grader_exe: "grader".into(),
        };
        let ctx = CheckCtx {
            target: &target,
            check: "fragmented",
            run: &run,
        };
        let outcome = crate::checks::stream::fragmented(&ctx, LaunchOpts::default());
        assert_eq!(outcome.status, Status::Error, "{outcome:?}");
        assert!(
            outcome.message.contains("could not start"),
            "{}",
            outcome.message
        );
        assert!(outcome.counterexample.is_none(), "{outcome:?}");
    }
}
