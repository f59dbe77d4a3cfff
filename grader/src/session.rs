//! A server under test across the cases of one check. It starts the program on a fresh
//! port, waits until it is bound, and keeps it for case after case. A `tcp-upper` server
//! may serve one client and exit (the lecture's `server1.py`, SPEC section 3): when a
//! process that served a case answers nothing to the next, the session starts a fresh
//! process, runs the case again, and from then on starts each case's process ahead of
//! time (a spare), so one-shot servers cost little more than others. In a task's shared
//! group ([`crate::shared`]) the session adopts the task's running server instead of
//! starting one, never replaces it, and gives it back at the end of the check.
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
use crate::shared::SharedServer;
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
    /// Cases still to come, the running one included, when the check knows
    /// ([`Server::expect`]): no spare is started for a case that will never come.
    expected: Option<u32>,
    /// The process is the task's shared server ([`crate::shared`]), lent to this check:
    /// given back, not killed, and never replaced.
    lent: Option<&'a SharedServer>,
}

impl<'a> Server<'a> {
    /// Starts the server and waits until it is bound; a server that never gets there is
    /// the check's verdict (`fail`, or `error` when the grader could not start it at all).
    /// In a shared group ([`CheckCtx::shared`]) it adopts the task's running server
    /// instead.
    pub(crate) fn start(
        ctx: &'a CheckCtx<'a>,
        proto: Proto,
        opts: LaunchOpts,
    ) -> Result<Server<'a>, Outcome> {
        if let Some(shared) = ctx.shared {
            if proto != Proto::Tcp {
                return Err(shared.spoil("it serves TCP"));
            }
            let (program, port) = shared.lend(&opts)?;
            return Ok(Server {
                ctx,
                opts,
                proto,
                program: Some(program),
                port,
                one_shot: false,
                used: false,
                spare: None,
                starts: 0,
                expected: None,
                lent: Some(shared),
            });
        }
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
            expected: None,
            lent: None,
        };
        server.launch()?;
        Ok(server)
    }

    /// Starts a new process on a new port (the old one, if any, is ended first). A
    /// one-shot server's next process is started ahead, while the current case runs.
    pub(crate) fn launch(&mut self) -> Result<(), Outcome> {
        self.refuse_if_lent()?;
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
        if self.one_shot && self.expected.is_none_or(|n| n > 1) {
            self.spare = Some(self.start_spare(private)?);
        }
        Ok(())
    }

    /// Says how many cases will run from now on (`None`: unknown, as when shrinking), so
    /// that a one-shot server gets a spare process only when a case will need it. After
    /// that many cases, the count is unknown again.
    pub(crate) fn expect(&mut self, cases: Option<u32>) {
        self.expected = cases;
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
        self.refuse_if_lent()?;
        self.stop();
        let program = self.spawn(port)?;
        self.adopt(program, port)
    }

    /// A lent server is never replaced: a check that needs a new process (the lent one
    /// ended) ends with an `error`, which the runner throws away and judges again alone.
    fn refuse_if_lent(&self) -> Result<(), Outcome> {
        match self.lent {
            Some(shared) => Err(shared.spoil("a check needed a new process")),
            None => Ok(()),
        }
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
            if let Some(shared) = self.lent {
                shared.spoil("a check ended it");
            }
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
        case: impl FnMut(SocketAddr) -> Result<T, CaseError>,
    ) -> Result<T, Failure> {
        let result = self.run_one(case);
        self.expected = self.expected.filter(|n| *n > 1).map(|n| n - 1);
        result
    }

    /// [`Server::run_case`], before counting the case.
    fn run_one<T>(
        &mut self,
        mut case: impl FnMut(SocketAddr) -> Result<T, CaseError>,
    ) -> Result<T, Failure> {
        self.ensure_running().map_err(Failure::from_outcome)?;
        let result = self.talk(&mut case);
        let used = std::mem::replace(&mut self.used, true);
        match result {
            Ok(v) => Ok(v),
            Err(e) if !e.answered && used && !self.one_shot && one_shot_allowed(self.ctx) => {
                self.one_shot = true;
                self.launch().map_err(Failure::from_outcome)?;
                self.used = true;
                self.talk(&mut case)
                    .map_err(|e| Failure::Program(self.explain(e)))
            }
            Err(e) => Err(Failure::Program(self.explain(e))),
        }
    }

    /// Runs `case` on the current process, the probe's waits on it counting its time.
    /// When a silent answer would only make the case run again on a fresh process (a
    /// `tcp-upper` process that served a case, not yet known to be one-shot), the answer
    /// must begin within [`ONE_SHOT_SILENCE`] (see there).
    fn talk<T>(
        &mut self,
        case: &mut impl FnMut(SocketAddr) -> Result<T, CaseError>,
    ) -> Result<T, CaseError> {
        let pid = self.program.as_ref().map(Program::pid);
        let retried = self.used && !self.one_shot && one_shot_allowed(self.ctx);
        let first = retried.then_some(ONE_SHOT_SILENCE);
        crate::probe::tcp::talking_to(pid, || {
            crate::probe::tcp::first_byte_within(first, || case(self.addr()))
        })
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

/// How long (on the clock) a `tcp-upper` process that served a case may stay silent to
/// the next before it is taken for a one-shot server, gone or stuck with its last client:
/// SPEC `eof`'s close deadline (a server closes its client within 2 s of the client
/// leaving, and one that serves clients one after another then takes the next). This
/// decides only where the case runs, never its verdict: a silent case runs again on a
/// fresh process, with every deadline whole and counted in that process's time, and that
/// run is the verdict; a multi-client server slowed by a busy machine and taken for
/// one-shot only costs a process start per case.
const ONE_SHOT_SILENCE: Duration = crate::checks::stream::CLOSE;

/// Only a task marked one-shot (`tcp-upper`) may serve one client and exit (SPEC
/// section 3); the concurrent servers serve many clients, forever.
fn one_shot_allowed(ctx: &CheckCtx) -> bool {
    ctx.target.kind.one_shot
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        if let (Some(shared), Some(program)) = (self.lent, self.program.take()) {
            shared.give_back(program);
        }
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

    /// A `tcp-upper` target running `script` (as ./server1), with settings for `cases`.
    fn one_shot_script(script: &str, cases: u32) -> (tempfile::TempDir, Target, RunSettings) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server1");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
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
            cases,
            instrument: Instrument::install().unwrap(),
            grader_exe: "grader".into(),
        };
        (dir, target, run)
    }

    #[test]
    fn a_relaunch_the_grader_cannot_do_is_an_error_not_a_fail() {
        let (_dir, target, run) = one_shot_script(SELF_DELETING, 8);
        let ctx = CheckCtx {
            target: &target,
            check: "fragmented",
            run: &run,
            shared: None,
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

    /// The lecture's `server1.py`, still there a while after its one client (as a Python
    /// exit can be under load): the next case finds it running and is refused.
    const ONE_CLIENT_THEN_LINGER: &str = r#"#!/usr/bin/env python3
import os, socket, time
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
srv.close()
time.sleep(5)
"#;

    /// Starts of a one-shot server over two cases, when the check says (`expected`) how
    /// many cases come.
    fn starts_for_two_cases(expected: Option<u32>) -> u32 {
        let (_dir, target, run) = one_shot_script(ONE_CLIENT_THEN_LINGER, 2);
        let ctx = CheckCtx {
            target: &target,
            check: "fragmented",
            run: &run,
            shared: None,
        };
        let mut server = Server::start(&ctx, Proto::Tcp, LaunchOpts::default()).unwrap();
        server.expect(expected);
        let hello = [crate::probe::tcp::Fragment {
            pause: Duration::ZERO,
            data: b"hello".to_vec(),
        }];
        let reading = crate::probe::tcp::Reading::exact(5, Duration::from_secs(10));
        for _ in 0..2 {
            server
                .run_case(|addr| crate::checks::stream::roundtrip(addr, &hello, &reading))
                .unwrap();
        }
        server.starts
    }

    /// The second case finds the first process still there, gets no answer, and runs on a
    /// fresh one; a spare is started only when a third case may come.
    #[test]
    fn a_one_shot_server_gets_no_spare_that_no_case_will_use() {
        assert_eq!(starts_for_two_cases(Some(2)), 2);
        assert_eq!(starts_for_two_cases(None), 3);
    }
}
