//! Running a submission: every selected check of every present task, in parallel on a
//! fixed number of workers, the longest jobs first. A check runs against its own program
//! processes, except the checks of a task's shared group, which are one job that runs
//! them in order on one server process ([`crate::shared`]) and keeps only their passes
//! (any other outcome is judged again alone). The runner emits [`Event`]s as each check
//! finishes and returns the [`Report`] in the table's order; it never prints. A check
//! that panics is reported as `error`, so a run always ends with a complete, valid report.

mod jobs;

use crate::check::{CheckCtx, CheckDef, Outcome, RunSettings, Status, Target};
use crate::contain::{self, netns, signals};
use crate::event::Event;
use crate::pool;
use crate::process::exits;
use crate::report::{CheckReport, Report, TaskReport, TaskStatus};
use crate::shared::SharedServer;
use crate::submission::{copy, hints, interpreter, Found, Submission, TaskEntry};
use crate::task::Kind;
use crate::tasks::ALL;
use jobs::{jobs, on_shared_server, Job};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Instant;

/// Which tasks and checks to run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    /// Task instance ids or kind ids; empty = all.
    pub tasks: Vec<String>,
    /// Check ids; empty = all.
    pub checks: Vec<String>,
}

impl Selection {
    /// True when the task instance is selected and has a selected check (`--check
    /// reuse-addr` alone runs only the tasks that have `reuse-addr`).
    fn task(&self, entry: &TaskEntry) -> bool {
        let named = self.tasks.is_empty()
            || self
                .tasks
                .iter()
                .any(|t| *t == entry.id || t == entry.kind.id);
        named && self.has_checks(entry.kind)
    }
    /// True when check `id` is selected.
    pub(crate) fn check(&self, id: &str) -> bool {
        self.checks.is_empty() || self.checks.iter().any(|c| c == id)
    }
    fn has_checks(&self, kind: Kind) -> bool {
        kind.checks.iter().any(|c| self.check(c.id))
    }
    /// The task kinds a run of this selection reports on, in the SPEC's order: named by
    /// `--task` (as a task id, or as an instance of a kind, e.g. `multiprint2`), or all,
    /// and having a selected check. Every student of a batch is scored over these.
    pub(crate) fn scope(&self) -> Vec<Kind> {
        ALL.iter()
            .copied()
            .filter(|k| {
                self.tasks.is_empty() || self.tasks.iter().any(|t| t == k.id || t.starts_with(k.id))
            })
            .filter(|k| self.has_checks(k))
            .collect()
    }
}

/// Everything a run needs.
pub(crate) struct Plan {
    /// What to grade.
    pub submission: Submission,
    /// What of it.
    pub selection: Selection,
    /// Seed, cases, instrumentation.
    pub settings: RunSettings,
    /// Python interpreter for `.py` files (`--python`).
    pub python: String,
    /// Checks running at once.
    pub jobs: usize,
}

/// A task ready to run: its target (with its private working copy) or why it cannot run.
struct Prepared {
    entry: TaskEntry,
    shown: Vec<String>,
    target: Result<Target, Unrunnable>,
    _workdir: Option<tempfile::TempDir>,
    /// The box uid that owns the working copy (root with boxes), held while it is used.
    _lease: Option<contain::boxuid::Lease>,
}

/// Why a present task cannot run at all. Each of its checks is then listed with this
/// status and reason (SPEC section 6), never left out.
#[derive(Clone, Debug)]
struct Unrunnable {
    /// `error` when the grader or the machine is at fault (no interpreter, no working
    /// copy), `fail` when the submission is (its `grader.toml` runs a file it lacks).
    status: Status,
    reason: String,
}

impl Unrunnable {
    fn grader(reason: String) -> Unrunnable {
        Unrunnable {
            status: Status::Error,
            reason,
        }
    }
}

/// The submission's own fault that stops a program from starting: a command that names
/// a file of the submission (`./server`, `bin/run`) which is missing or not executable.
fn unstartable(argv0: &str, workdir: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    if !argv0.contains('/') || argv0.starts_with('/') || argv0.contains('{') {
        return None;
    }
    match std::fs::metadata(workdir.join(argv0)) {
        Err(_) => Some(format!(
            "the command starts {argv0}, which is not in the submission: hand it in, or fix `run` in grader.toml"
        )),
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 == 0 => Some(format!(
            "the command starts {argv0}, which is not executable: chmod +x {argv0}, or run it through its interpreter in grader.toml"
        )),
        Ok(_) => None,
    }
}

fn prepare(plan: &Plan, entry: &TaskEntry) -> Prepared {
    let argv = match &entry.found {
        Found::Program(argv) => argv,
        other => {
            // A file refused by the safe reader (a link out of the submission, a FIFO)
            // is the submission's fault: each check fails, saying why.
            let target = match other {
                Found::Refused(why) => Err(Unrunnable {
                    status: Status::Fail,
                    reason: why.clone(),
                }),
                _ => Err(Unrunnable::grader(String::new())),
            };
            return Prepared {
                entry: entry.clone(),
                shown: vec![],
                target,
                _workdir: None,
                _lease: None,
            };
        }
    };
    let workdir = tempfile::Builder::new().prefix("grader-run-").tempdir();
    let result = workdir
        .map_err(|e| Unrunnable::grader(format!("could not make a working folder: {e}")))
        .and_then(|dir| {
            copy::copy_tree(&plan.submission.dir, dir.path())
                .map_err(|e| Unrunnable::grader(format!("could not copy the submission: {e}")))?;
            let boxed = contain::layers()
                .sandbox
                .as_ref()
                .is_ok_and(|sb| sb.own_uid);
            let lease = if boxed {
                // The working copy belongs to a uid of its own (mode 0700, as made).
                let lease = contain::boxuid::lease()
                    .map_err(|e| Unrunnable::grader(format!("could not lease a box uid: {e}")))?;
                contain::uid::hand_over_to(dir.path(), lease.uid).map_err(|e| {
                    Unrunnable::grader(format!("could not hand the working copy over: {e}"))
                })?;
                Some(lease)
            } else {
                if contain::layers().uid.is_ok() {
                    contain::uid::hand_over(dir.path()).map_err(|e| {
                        Unrunnable::grader(format!("could not hand the working copy over: {e}"))
                    })?;
                }
                None
            };
            if let Some(reason) = unstartable(&argv[0], dir.path()) {
                return Err(Unrunnable {
                    status: Status::Fail,
                    reason,
                });
            }
            let mut run = argv.clone();
            let python = interpreter::is_python(&run[0], &plan.python);
            if python {
                let found = interpreter::interpreter(&run[0]).map_err(Unrunnable::grader)?;
                run[0] = plan.settings.instrument.interpreter(&found);
            }
            let target = Target {
                id: entry.id.clone(),
                kind: entry.kind,
                shown: argv.clone(),
                argv: run,
                workdir: dir.path().to_path_buf(),
                python,
                shared: Default::default(),
            };
            Ok((target, dir, lease))
        });
    match result {
        Ok((target, dir, lease)) => Prepared {
            entry: entry.clone(),
            shown: argv.clone(),
            target: Ok(target),
            _workdir: Some(dir),
            _lease: lease,
        },
        Err(e) => Prepared {
            entry: entry.clone(),
            shown: argv.clone(),
            target: Err(e),
            _workdir: None,
            _lease: None,
        },
    }
}

/// Runs the plan; `on_event` sees progress as it happens.
pub(crate) fn run(plan: &Plan, on_event: &(dyn Fn(&Event) + Sync)) -> Report {
    let _readonly = contain::readonly::protect(&plan.submission.dir);
    let prepared: Vec<Prepared> = plan
        .submission
        .tasks
        .iter()
        .filter(|t| plan.selection.task(t))
        .map(|t| prepare(plan, t))
        .collect();
    // Every selected check of every task that can run, in the report's order.
    let slots: Vec<(usize, &'static CheckDef)> = prepared
        .iter()
        .enumerate()
        .filter(|(_, p)| p.target.is_ok())
        .flat_map(|(i, p)| {
            p.entry
                .kind
                .checks
                .iter()
                .filter(|c| plan.selection.check(c.id))
                .map(move |c| (i, *c))
        })
        .collect();
    let jobs = jobs(&prepared, &slots);
    on_event(&Event::Started {
        checks: slots.len(),
    });
    let results: Mutex<Vec<Option<CheckReport>>> = Mutex::new(vec![None; slots.len()]);
    let submission = plan.submission.dir.display().to_string();
    pool::run_queue(jobs, plan.jobs, &AtomicBool::new(false), |job, queue| {
        let Ok(target) = &prepared[slots[job.slots[0]].0].target else {
            return;
        };
        let done = |slot: usize, report: CheckReport| {
            on_event(&Event::CheckFinished {
                task: &target.id,
                check: &report,
            });
            results.lock().unwrap_or_else(|e| e.into_inner())[slot] = Some(report);
        };
        match job.slots.as_slice() {
            [slot] => {
                let mut report =
                    run_check(target, slots[*slot].1, &plan.settings, &submission, None);
                report.duration_ms += job.spent;
                done(*slot, report);
            }
            group => {
                let checks: Vec<(usize, &CheckDef)> =
                    group.iter().map(|&s| (s, slots[s].1)).collect();
                let (kept, spent) =
                    on_shared_server(target, &checks, &plan.settings, &submission, &done);
                // The others are judged alone, each a job of its own, as without sharing.
                for (k, &slot) in group.iter().enumerate().skip(kept).rev() {
                    let spent = if k == kept { spent } else { 0 };
                    queue.push_front(Job {
                        slots: vec![slot],
                        spent,
                    });
                }
            }
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let missing: Vec<_> = prepared
        .iter()
        .filter(|p| matches!(p.entry.found, Found::Missing(_)))
        .map(|p| p.entry.kind)
        .collect();
    let hints = hints::suggest(&plan.submission.dir, &missing);
    let tasks = prepared
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let checks = match &p.target {
                Err(why) => unrunnable_checks(p, why, plan, &submission),
                Ok(_) => slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.0 == i)
                    .filter_map(|(n, _)| results[n].take())
                    .collect(),
            };
            let mut task = task_report(p, checks);
            if let (Some(message), Some(hint)) = (
                task.message
                    .as_mut()
                    .filter(|_| task.status == TaskStatus::Missing),
                hints.iter().find(|h| h.kind == p.entry.kind),
            ) {
                message.push('\n');
                message.push_str(&hint.line());
            }
            task
        })
        .collect::<Vec<_>>();
    let score = tasks.iter().map(|t| t.score).sum();
    let max_score = tasks.iter().map(|t| t.max_score).sum();
    // Whatever escaped is swept per program as it ends; the run-wide sweep and cgroup
    // removal belong to the command (`contain::finish`), since a batch runs several
    // submissions at once in one run.
    let layers = contain::layers();
    Report {
        submission,
        seed: plan.settings.seed,
        score,
        max_score,
        tasks,
        run_id: layers.run_id.clone(),
        isolation: layers.names().iter().map(|s| s.to_string()).collect(),
        interrupted: signals::interrupted().map(|s| signals::name(s).to_string()),
        problem: None,
        fingerprint: String::new(),
    }
}

/// Every selected check of a present task that cannot run, with the reason (none for a
/// missing task: it is reported as missing).
fn unrunnable_checks(
    p: &Prepared,
    why: &Unrunnable,
    plan: &Plan,
    submission: &str,
) -> Vec<CheckReport> {
    if !matches!(p.entry.found, Found::Program(_) | Found::Refused(_)) {
        return Vec::new();
    }
    p.entry
        .kind
        .checks
        .iter()
        .filter(|c| plan.selection.check(c.id))
        .map(|def| CheckReport {
            id: def.id.to_string(),
            status: why.status,
            score: 0.0,
            max_score: 1.0,
            message: format!("the program could not be run: {}", why.reason),
            counterexample: None,
            seed: plan.settings.seed,
            duration_ms: 0,
            summary: def.summary.to_string(),
            reproduce: Some(crate::check::reproduce_line(
                submission,
                &p.entry.id,
                def.id,
                plan.settings.seed,
            )),
            hidden: false,
        })
        .collect()
}

fn task_report(p: &Prepared, checks: Vec<CheckReport>) -> TaskReport {
    let mut task = TaskReport {
        id: p.entry.id.clone(),
        kind: p.entry.kind.id.to_string(),
        command: p.shown.clone(),
        status: TaskStatus::Pass,
        score: 0.0,
        max_score: 0.0,
        message: None,
        checks,
    };
    match (&p.entry.found, &p.target) {
        (Found::Missing(files), _) => {
            task.status = TaskStatus::Missing;
            task.max_score = p.entry.kind.checks.len() as f64;
            task.message = Some(format!("missing: {} not found", files.join(" / ")));
        }
        (_, Err(e)) => {
            task.message = Some(e.reason.clone());
            task.settle();
        }
        _ => task.settle(),
    }
    task
}

/// Runs one check, timing it and turning a panic into an `error`: on a server of its own
/// (in a private network namespace of its own when the run uses them), or on the task's
/// `shared` server (in the group's namespace).
fn run_check(
    target: &Target,
    def: &CheckDef,
    settings: &RunSettings,
    submission: &str,
    shared: Option<&SharedServer>,
) -> CheckReport {
    let ctx = CheckCtx {
        target,
        check: def.id,
        run: settings,
        shared,
    };
    let start = Instant::now();
    let journal = exits::Journal::default();
    let outcome = if signals::interrupted().is_some() {
        interrupted("before this check ran")
    } else {
        let outcome = {
            let _scope = exits::Scope::enter(&journal);
            contained(&ctx, def)
        };
        let outcome = with_exits(outcome, &journal, target, def.id);
        if signals::interrupted().is_some() {
            interrupted("while this check ran")
        } else {
            outcome
        }
    };
    let (score, max_score) = match outcome.status {
        Status::Pass => (1.0, 1.0),
        Status::Skip => (0.0, 0.0),
        Status::Fail | Status::Error => (0.0, 1.0),
    };
    CheckReport {
        id: def.id.to_string(),
        status: outcome.status,
        score,
        max_score,
        message: outcome.message,
        counterexample: outcome.counterexample,
        seed: settings.seed,
        duration_ms: start.elapsed().as_millis() as u64,
        summary: def.summary.to_string(),
        reproduce: Some(ctx.reproduce(submission)),
        hidden: false,
    }
}

/// A failing outcome says, when its message does not already, that a program of the check
/// ended on its own (status and stderr tail): that is evidence a student needs, whatever
/// case the check was judging when it noticed.
fn with_exits(
    mut outcome: Outcome,
    journal: &exits::Journal,
    target: &Target,
    check: &str,
) -> Outcome {
    if outcome.status != Status::Fail {
        return outcome;
    }
    let must_serve = target.kind.must_serve(check);
    if let Some(told) = exits::tell(&outcome.message, &journal.exits(), must_serve) {
        outcome.message = told;
    }
    outcome
}

/// Runs the check, in a private network namespace when the run uses them (the worker
/// thread moves in for the check and back afterwards; a check on the shared server stays
/// in the group's), turning a panic into an `error`.
fn contained(ctx: &CheckCtx, def: &CheckDef) -> Outcome {
    let _scope = if ctx.shared.is_none() && contain::layers().namespaces() {
        match netns::Scope::enter() {
            Ok(scope) => Some(scope),
            Err(e) => {
                return Outcome::error(format!(
                    "could not make a private network namespace for this check: {e}"
                ))
            }
        }
    } else {
        None
    };
    std::panic::catch_unwind(AssertUnwindSafe(|| (def.run)(ctx))).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Outcome::error(format!(
            "the grader failed inside this check ({what}); please report it"
        ))
    })
}

/// The outcome of a check the grader's SIGINT/SIGTERM cut short.
fn interrupted(when: &str) -> Outcome {
    let signal = signals::interrupted()
        .map(signals::name)
        .unwrap_or("a signal");
    Outcome::error(format!(
        "interrupted: the grader received {signal} {when}; run it again for a verdict"
    ))
}

/// Test support: grades a copy of one lecture program (`fixtures/good/lecture/<file>`,
/// saved as `name`) with the given task and checks: (id, status, message) of each check.
#[cfg(test)]
pub(crate) fn grade_lecture_file(
    file: &str,
    name: &str,
    task: &str,
    checks: &[&str],
    seed: u64,
    jobs: usize,
) -> Vec<(String, Status, String)> {
    use crate::instrument::Instrument;
    let dir = tempfile::tempdir().unwrap();
    let lecture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/good/lecture")
        .join(file);
    std::fs::copy(lecture, dir.path().join(name)).unwrap();
    let plan = Plan {
        submission: Submission::discover_among(dir.path(), "python3", ALL).unwrap(),
        selection: Selection {
            tasks: vec![task.into()],
            checks: checks.iter().map(|c| c.to_string()).collect(),
        },
        settings: RunSettings {
            seed,
            cases: 4,
            instrument: Instrument::install().unwrap(),
            grader_exe: "grader".into(),
        },
        python: "python3".into(),
        jobs,
    };
    let report = run(&plan, &|_| {});
    report.tasks[0]
        .checks
        .iter()
        .map(|c| (c.id.clone(), c.status, c.message.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::Instrument;
    use crate::procfs::Proto;
    use crate::session::Server;
    use crate::task::{Kind, TaskDef};
    use std::io::{BufRead, BufReader};
    use std::net::TcpStream;

    /// A server that tells each client how many clients it has accepted (its first gets
    /// `1`), then closes the connection once the client has closed its side.
    const COUNTING: &str = r#"import os, socket, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(os.environ["PORT"])))
srv.listen(8)
n = 0
def serve(conn, k):
    conn.sendall(b"%d\n" % k)
    while conn.recv(1024):
        pass
    conn.close()
while True:
    conn, _ = srv.accept()
    n += 1
    threading.Thread(target=serve, args=(conn, n), daemon=True).start()
"#;

    /// Which server process (pid) each check of [`COUNTING_TASK`] was given, in order.
    static GIVEN: Mutex<Vec<(&str, u32)>> = Mutex::new(Vec::new());

    /// Connects to the server the check is given, notes its pid, and returns its count.
    fn client_number(ctx: &CheckCtx) -> Result<u32, Outcome> {
        let mut server = Server::start(ctx, Proto::Tcp, ctx.task_launch())?;
        let pid = server.program().pid();
        GIVEN.lock().unwrap().push((ctx.check, pid));
        let stream =
            TcpStream::connect(server.addr()).map_err(|e| Outcome::error(e.to_string()))?;
        let mut line = String::new();
        BufReader::new(&stream)
            .read_line(&mut line)
            .map_err(|e| Outcome::error(e.to_string()))?;
        line.trim()
            .parse()
            .map_err(|_| Outcome::error(line.clone()))
    }

    fn where_(ctx: &CheckCtx) -> &'static str {
        if ctx.shared.is_some() {
            "on the shared server"
        } else {
            "alone"
        }
    }

    /// `any` passes on any server; `first-client` only as a server's first client (so it
    /// fails on the shared server, after `any`); `never` always fails, saying where.
    static COUNTING_TASK: TaskDef = TaskDef {
        id: "counting",
        title: "a server that counts its clients",
        files: &["counting.py"],
        checks: &[
            &CheckDef {
                id: "any",
                summary: "passes on any server",
                run: |ctx| match client_number(ctx) {
                    Ok(n) => Outcome::pass(format!("client {n}")),
                    Err(o) => o,
                },
            },
            &CheckDef {
                id: "first-client",
                summary: "passes as a server's first client",
                run: |ctx| match client_number(ctx) {
                    Ok(1) => Outcome::pass(where_(ctx)),
                    Ok(n) => Outcome::fail(format!("client {n}, {}", where_(ctx))),
                    Err(o) => o,
                },
            },
            &CheckDef {
                id: "never",
                summary: "always fails",
                run: |ctx| match client_number(ctx) {
                    Ok(_) => Outcome::fail(format!("failed {}", where_(ctx))),
                    Err(o) => o,
                },
            },
            &CheckDef {
                id: "last",
                summary: "passes on any server",
                run: |ctx| match client_number(ctx) {
                    Ok(n) => Outcome::pass(format!("client {n}")),
                    Err(o) => o,
                },
            },
        ],
        shares_server: &["any", "first-client", "never", "last"],
        ..TaskDef::SERVER
    };

    fn grade(checks: &[&str]) -> (Report, Vec<(&'static str, u32)>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("counting.py"), COUNTING).unwrap();
        let table: &[Kind] = &[&COUNTING_TASK];
        let plan = Plan {
            submission: Submission::discover_among(dir.path(), "python3", table).unwrap(),
            selection: Selection {
                tasks: vec![],
                checks: checks.iter().map(|c| c.to_string()).collect(),
            },
            settings: RunSettings {
                seed: 1,
                cases: 4,
                instrument: Instrument::install().unwrap(),
                grader_exe: "grader".into(),
            },
            python: "python3".into(),
            jobs: 2,
        };
        let report = run(&plan, &|_| {});
        (report, std::mem::take(&mut *GIVEN.lock().unwrap()))
    }

    fn pids(given: &[(&str, u32)], check: &str) -> Vec<u32> {
        given.iter().filter(|g| g.0 == check).map(|g| g.1).collect()
    }

    /// One test, as the checks note their servers in one static.
    #[test]
    fn a_pass_on_the_shared_server_stands_and_anything_else_is_judged_alone() {
        let (report, given) = grade(&[]);
        let checks = &report.tasks[0].checks;
        let status: Vec<(&str, Status, &str)> = checks
            .iter()
            .map(|c| (c.id.as_str(), c.status, c.message.as_str()))
            .collect();
        assert_eq!(
            status,
            [
                ("any", Status::Pass, "client 1"),
                // It failed on the shared server (its 2nd client); alone it passes.
                ("first-client", Status::Pass, "alone"),
                // After a check that did not pass there, the others run alone.
                ("never", Status::Fail, "failed alone"),
                ("last", Status::Pass, "client 1"),
            ]
        );
        let shared = pids(&given, "any");
        assert_eq!(
            shared.len(),
            1,
            "a pass on the shared server is not run again"
        );
        let first = pids(&given, "first-client");
        assert_eq!(first.len(), 2, "{given:?}");
        assert_eq!(first[0], shared[0], "it ran on the shared server first");
        assert_ne!(first[1], shared[0], "then on a server of its own");
        let (never, last) = (pids(&given, "never"), pids(&given, "last"));
        assert_eq!((never.len(), last.len()), (1, 1), "{given:?}");
        let mut all: Vec<u32> = given.iter().map(|g| g.1).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 4, "four server processes in all: {given:?}");
        // The report's reproduce line is the check's own.
        assert!(checks[1]
            .reproduce
            .as_deref()
            .unwrap()
            .ends_with("--task counting --check first-client --seed 1"));

        // One check selected: nothing is shared.
        let (report, given) = grade(&["first-client"]);
        assert_eq!(report.tasks[0].checks[0].status, Status::Pass);
        assert_eq!(report.tasks[0].checks[0].message, "alone");
        assert_eq!(pids(&given, "first-client").len(), 1);
    }

    fn trivial(_: &CheckCtx) -> Outcome {
        Outcome::pass("")
    }

    static QUICK: TaskDef = TaskDef {
        id: "quick",
        files: &["quick.py"],
        checks: &[
            &CheckDef {
                id: "a",
                summary: "",
                run: trivial,
            },
            &CheckDef {
                id: "b",
                summary: "",
                run: trivial,
            },
        ],
        check_ms: 10,
        ..TaskDef::PLAIN
    };

    static SLOW: TaskDef = TaskDef {
        id: "slow",
        files: &["slow.py"],
        checks: &[&CheckDef {
            id: "c",
            summary: "",
            run: trivial,
        }],
        check_ms: 1000,
        ..TaskDef::PLAIN
    };

    /// On one worker, the longest job (by the tasks' estimates) runs first, and the
    /// report keeps the table's order.
    #[test]
    fn the_longest_jobs_start_first_and_the_report_keeps_its_order() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["quick.py", "slow.py"] {
            std::fs::write(dir.path().join(file), "pass\n").unwrap();
        }
        let table: &[Kind] = &[&QUICK, &SLOW];
        let plan = Plan {
            submission: Submission::discover_among(dir.path(), "python3", table).unwrap(),
            selection: Selection::default(),
            settings: RunSettings {
                seed: 1,
                cases: 1,
                instrument: Instrument::install().unwrap(),
                grader_exe: "grader".into(),
            },
            python: "python3".into(),
            jobs: 1,
        };
        let ran = Mutex::new(Vec::new());
        let report = run(&plan, &|e| {
            if let Event::CheckFinished { task, check } = e {
                ran.lock().unwrap().push(format!("{task}/{}", check.id));
            }
        });
        assert_eq!(ran.into_inner().unwrap(), ["slow/c", "quick/a", "quick/b"]);
        let reported: Vec<String> = report
            .tasks
            .iter()
            .flat_map(|t| t.checks.iter().map(move |c| format!("{}/{}", t.id, c.id)))
            .collect();
        assert_eq!(reported, ["quick/a", "quick/b", "slow/c"]);
    }
}
