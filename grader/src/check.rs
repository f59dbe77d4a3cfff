//! What a check is and what it gets: a [`CheckDef`] names a property of SPEC section 4 and
//! the function that judges it; the function gets a [`CheckCtx`] (the program to judge,
//! the run's seed and budget) and returns an [`Outcome`]. A failing program is an outcome,
//! never an `Err`: errors are for when the grader itself cannot judge. Checks that judge one
//! observation (the same program runs) share it through the target's [`Shared`] cache.

use crate::instrument::Instrument;
use crate::process::{Launch, Program};
use crate::task::Kind;
use serde::{Deserialize, Serialize};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// One check of a task.
pub struct CheckDef {
    /// Stable id (SPEC section 4).
    pub id: &'static str,
    /// What passing means, in one line.
    pub summary: &'static str,
    /// Judges the property.
    pub run: fn(&CheckCtx) -> Outcome,
}

/// Verdict of a check (SPEC section 4, "Check statuses").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The program has the property.
    Pass,
    /// The program breaks the contract.
    Fail,
    /// The grader or the machine could not judge.
    Error,
    /// Not applicable here.
    Skip,
}

/// What a check found.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The verdict.
    pub status: Status,
    /// What happened, for the student; empty when passing says it all.
    pub message: String,
    /// The smallest failing input, escaped, when the check generated inputs.
    pub counterexample: Option<String>,
}

impl Outcome {
    fn new(status: Status, message: impl Into<String>) -> Outcome {
        Outcome {
            status,
            message: message.into(),
            counterexample: None,
        }
    }
    /// The property holds.
    pub fn pass(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, message)
    }
    /// The program breaks the property.
    pub fn fail(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, message)
    }
    /// The grader could not judge.
    pub fn error(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Error, message)
    }
    /// The check does not apply here.
    pub fn skip(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Skip, message)
    }
    /// Adds the smallest failing case.
    pub fn with_counterexample(mut self, case: impl Into<String>) -> Outcome {
        self.counterexample = Some(case.into());
        self
    }
}

/// A program to judge: one task instance of a submission, ready to start.
#[derive(Clone, Debug)]
pub struct Target {
    /// Instance id (`tcp-upper`, `multiprint2`, ...).
    pub id: String,
    /// What kind of program it is.
    pub kind: Kind,
    /// The command as the student gave it (for reports).
    pub shown: Vec<String>,
    /// The command to run, interpreter resolved, placeholders left in.
    pub argv: Vec<String>,
    /// Private working directory (a copy of the submission).
    pub workdir: PathBuf,
    /// It runs on a Python interpreter, so the grader's instrumentation applies.
    pub python: bool,
    /// What several checks of this target observe together ([`CheckCtx::shared`]).
    pub shared: Shared,
}

/// Values computed once per target and shared by its checks, one per type: an
/// observation (program runs) that several checks judge. The first check to ask computes
/// it; a check that asks meanwhile waits for it and reads the same value. A check alone
/// computes it exactly as it would among others, so its verdict never depends on which
/// other checks ran. The values live as long as the target (one run of the grader).
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<HashMap<TypeId, Arc<Cell>>>>);

/// One shared value, set once.
type Cell = OnceLock<Arc<dyn Any + Send + Sync>>;

impl Shared {
    /// The value of type `T`, computed by `compute` if no check has computed it yet.
    /// If `compute` panics, the panic goes to its caller and the next to ask computes.
    pub fn get_or_compute<T: Any + Send + Sync>(&self, compute: impl FnOnce() -> T) -> Arc<T> {
        let cell = {
            let mut cells = self.0.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(cells.entry(TypeId::of::<T>()).or_default())
        };
        let value = cell.get_or_init(|| Arc::new(compute()) as Arc<dyn Any + Send + Sync>);
        Arc::clone(value)
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("a cell of a type holds a value of that type"))
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|c| c.len()).unwrap_or_default();
        write!(f, "Shared({n} values)")
    }
}

/// Settings shared by every check of a run.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// The run's seed (printed, reproducible).
    pub seed: u64,
    /// Generated cases per property check.
    pub cases: u32,
    /// Where the grader's `sitecustomize.py` lives.
    pub instrument: Instrument,
    /// The grader executable, for the `{grader}` placeholder of manifests.
    pub grader_exe: String,
}

/// Extra settings for one start of the program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaunchOpts {
    /// `PORT` (and `{port}`); `None` leaves it unset (clients get it from their peer).
    pub port: Option<u16>,
    /// Further environment variables (`POOLSIZE`, `THREADS`, ...).
    pub env: Vec<(String, String)>,
    /// Give the program a stdin pipe.
    pub stdin: bool,
    /// Instrumentation features to turn on (Python programs only).
    pub features: Vec<(String, String)>,
}

/// What a check function gets.
pub struct CheckCtx<'a> {
    /// The program under test.
    pub target: &'a Target,
    /// The check's id.
    pub check: &'static str,
    /// Run-wide settings.
    pub run: &'a RunSettings,
    /// The task's server, already running, when this check runs in the task's shared
    /// group ([`crate::shared`]): [`crate::session::Server::start`] adopts it.
    pub(crate) shared: Option<&'a crate::shared::SharedServer>,
}

/// The command line that reproduces check `check` of task `task`.
pub(crate) fn reproduce_line(submission: &str, task: &str, check: &str, seed: u64) -> String {
    format!(
        "grader check {} --task {task} --check {check} --seed {seed}",
        crate::escape::shell_word(submission),
    )
}

/// The address programs bind and connect to (outside a network namespace).
pub(crate) const HOST: &str = "127.0.0.1";

impl CheckCtx<'_> {
    /// The seed of this check's generator: the run seed mixed with the check's name.
    pub fn rng_seed(&self) -> [u8; 32] {
        crate::seed::derive(self.run.seed, self.target.kind.id, self.check)
    }

    /// The seed for drawing how the program is started (`POOLSIZE`): the check's own,
    /// except for the checks of a task's shared group ([`TaskDef::shares_server`]), which
    /// all start the same server and so take the group's first check's seed, whether they
    /// run in the group or alone.
    ///
    /// [`TaskDef::shares_server`]: crate::task::TaskDef::shares_server
    pub fn launch_seed(&self) -> [u8; 32] {
        let group = self.target.kind.shares_server;
        match group.first() {
            Some(first) if group.contains(&self.check) => self.shared_seed(first),
            _ => self.rng_seed(),
        }
    }

    /// The seed of a generator shared by the checks of this task that judge one
    /// observation (`name` names it): the same for each of them, whichever runs.
    pub fn shared_seed(&self, name: &str) -> [u8; 32] {
        crate::seed::derive(self.run.seed, self.target.kind.id, name)
    }

    /// The value of type `T` that the checks of this target share ([`Shared`]): computed
    /// by `compute` for the first check that asks, read by the others.
    pub fn shared<T: Any + Send + Sync>(&self, compute: impl FnOnce() -> T) -> Arc<T> {
        self.target.shared.get_or_compute(compute)
    }

    /// The command line that reproduces this check.
    pub fn reproduce(&self, submission: &str) -> String {
        reproduce_line(submission, &self.target.id, self.check, self.run.seed)
    }

    /// The launch options of this check's task ([`crate::task::TaskDef::launch`]).
    pub fn task_launch(&self) -> LaunchOpts {
        (self.target.kind.launch)(self)
    }

    /// The full start description of the program with `opts` applied.
    pub fn launch_spec(&self, opts: &LaunchOpts) -> Launch {
        let port = opts.port.map(|p| p.to_string()).unwrap_or_default();
        let argv = self
            .target
            .argv
            .iter()
            .map(|a| {
                a.replace("{port}", &port)
                    .replace("{host}", HOST)
                    .replace("{grader}", &self.run.grader_exe)
            })
            .collect();
        let mut env: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
            ),
            ("HOME".into(), self.target.workdir.display().to_string()),
            ("LANG".into(), "C.UTF-8".into()),
            ("HOST".into(), HOST.into()),
        ];
        if let Some(p) = opts.port {
            env.push(("PORT".into(), p.to_string()));
        }
        if self.target.python {
            env.push(("PYTHONUNBUFFERED".into(), "1".into()));
            env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
            env.push((
                "PYTHONPATH".into(),
                self.run.instrument.dir().display().to_string(),
            ));
            env.extend(opts.features.iter().cloned());
        }
        env.extend(opts.env.iter().cloned());
        Launch {
            argv,
            cwd: self.target.workdir.clone(),
            env,
            stdin: opts.stdin,
        }
    }

    /// Starts the program (and tells the property engine that the running case started
    /// one: it costs more of the shrink budget, [`crate::prop::START_RUN`]).
    pub fn launch(&self, opts: &LaunchOpts) -> std::io::Result<Program> {
        crate::prop::started_program();
        Program::spawn(&self.launch_spec(opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_shared_value_is_computed_once_and_read_by_all() {
        let shared = Shared::default();
        let computed = AtomicUsize::new(0);
        let slow = || {
            computed.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(50));
            42u32
        };
        let got = crate::checks::threads::parallel(4, |_| *shared.get_or_compute(slow));
        assert_eq!(got, [42; 4]);
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        // Another type is another value; a clone of the target shares the same values.
        assert_eq!(*shared.clone().get_or_compute(|| "other"), "other");
        assert_eq!(*shared.clone().get_or_compute(|| 7u32), 42);
    }

    #[test]
    fn a_panicking_computation_leaves_it_to_the_next() {
        let shared = Shared::default();
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared.get_or_compute::<u8>(|| panic!("grader bug"))
        }));
        assert!(first.is_err());
        assert_eq!(*shared.get_or_compute(|| 5u8), 5);
    }
}
