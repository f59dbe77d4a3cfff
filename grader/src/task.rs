//! What a task *is*: a [`TaskDef`] holds the facts of one lecture program (its id, title,
//! default file names, how the grader runs it, its checks), one `static` per task file in
//! [`crate::tasks`]. Reports, rubrics, submission discovery and the runner work on a
//! [`Kind`] (a `&'static TaskDef`) and never match on a particular task, so a new task is
//! its own file plus one line in the table [`crate::tasks::ALL`].

use crate::check::{CheckCtx, CheckDef, LaunchOpts};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// One lecture task (SPEC section 1) and the facts the grader needs about it.
pub struct TaskDef {
    /// The task id of SPEC section 1 (`tcp-upper`).
    pub id: &'static str,
    /// The lecture program this task asks for, for `grader list`.
    pub title: &'static str,
    /// Default file names, each an instance of its own when present (`multiprint1.py`
    /// is the instance `multiprint1`).
    pub files: &'static [&'static str],
    /// Another name the lecture gives the program, and how a hint says so (`thread1.py`
    /// is the lecture's program that `counter.py` fixes).
    pub lecture_name: Option<(&'static str, &'static str)>,
    /// It may serve one client and exit (SPEC section 3): the grader starts it again for
    /// the next case instead of judging the exit.
    pub one_shot: bool,
    /// It serves until it is killed, so an exit of its own while a check runs is news
    /// that a failing verdict tells; except in the checks named in `may_end_in`, whose
    /// subject is how it ends.
    pub serves_until_killed: bool,
    /// The checks in which a server that serves until killed may end on its own.
    pub may_end_in: &'static [&'static str],
    /// The options of every start of the program by a shared check of
    /// [`crate::checks::served`] (`POOLSIZE` for the pool server, drawn from the check's
    /// seed).
    pub launch: fn(&CheckCtx) -> LaunchOpts,
    /// For a concurrent server: how the shared concurrency checks judge it and what
    /// they tell its student.
    pub concurrency: Option<Concurrency>,
    /// Its checks, in the SPEC's order (section 4): shared ones (see
    /// [`crate::checks::served`]) by reference, and its own.
    pub checks: &'static [&'static CheckDef],
    /// The checks that run one after another on one server process, started once per
    /// task instance ([`crate::shared`]), in this order; empty when each check starts
    /// its own.
    pub shares_server: &'static [&'static str],
    /// About how long one of its checks takes on an idle machine, in milliseconds, sleeps
    /// included: the runner starts the longest jobs first, so that the run does not end
    /// on a long one with the other cores idle. An estimate for scheduling only.
    pub check_ms: u32,
}

/// What the shared `concurrent` and `isolation` checks need of a concurrent server.
#[derive(Clone, Copy, Debug)]
pub struct Concurrency {
    /// Idle clients connected while `concurrent` asks for one more to be served.
    pub idle: usize,
    /// What to do when clients are served one at a time.
    pub serial: &'static str,
    /// What to do when clients get each other's answers.
    pub shared: &'static str,
}

/// A task kind: a handle on its static definition. Kinds compare equal by id and sort in
/// the order of [`crate::tasks::ALL`] (the SPEC's, that of reports and CSV columns).
pub(crate) type Kind = &'static TaskDef;

impl Concurrency {
    /// `idle` clients for `concurrent`, and the advice for serial and shared serving.
    pub const fn new(idle: usize, serial: &'static str, shared: &'static str) -> Concurrency {
        Concurrency {
            idle,
            serial,
            shared,
        }
    }
}

impl TaskDef {
    /// The facts most tasks share; a task file fills in the rest and ends with
    /// `..TaskDef::PLAIN` (or `..TaskDef::SERVER`). Not a task (its id is empty).
    pub const PLAIN: TaskDef = TaskDef {
        id: "",
        title: "",
        files: &[],
        lecture_name: None,
        one_shot: false,
        serves_until_killed: false,
        may_end_in: &[],
        launch: |_| LaunchOpts::default(),
        concurrency: None,
        checks: &[],
        shares_server: &[],
        check_ms: 500,
    };

    /// [`TaskDef::PLAIN`] for a server that serves until it is killed.
    pub const SERVER: TaskDef = TaskDef {
        serves_until_killed: true,
        ..TaskDef::PLAIN
    };

    /// Its place in [`crate::tasks::ALL`]; a task outside the table sorts after it.
    fn rank(&self) -> usize {
        crate::tasks::ALL
            .iter()
            .position(|t| t.id == self.id)
            .unwrap_or(usize::MAX)
    }

    /// True when an exit of its own during check `check` is evidence of a fault.
    pub fn must_serve(&self, check: &str) -> bool {
        self.serves_until_killed && !self.may_end_in.contains(&check)
    }
}

/// The task of `table` with id `id`.
pub(crate) fn find(table: &[Kind], id: &str) -> Option<Kind> {
    table.iter().copied().find(|k| k.id == id)
}

impl PartialEq for TaskDef {
    fn eq(&self, other: &TaskDef) -> bool {
        self.id == other.id
    }
}

impl Eq for TaskDef {}

impl Hash for TaskDef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialOrd for TaskDef {
    fn partial_cmp(&self, other: &TaskDef) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TaskDef {
    fn cmp(&self, other: &TaskDef) -> Ordering {
        (self.rank(), self.id).cmp(&(other.rank(), other.id))
    }
}

impl std::fmt::Debug for TaskDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TaskDef({})", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Outcome, RunSettings, Status};
    use crate::instrument::Instrument;
    use crate::rubric::Rubric;
    use crate::runner::{self, Plan, Selection};
    use crate::submission::{Found, Submission};

    fn trivial(ctx: &CheckCtx) -> Outcome {
        Outcome::pass(format!("judged {}", ctx.target.id))
    }

    /// A task no lecture has: one check that always passes.
    static DUMMY: TaskDef = TaskDef {
        id: "dummy",
        title: "a task made up by a test",
        files: &["dummy.py"],
        checks: &[&CheckDef {
            id: "trivial",
            summary: "always passes",
            run: trivial,
        }],
        ..TaskDef::PLAIN
    };

    /// A new task is its definition plus a line in a table: given a table holding only
    /// `DUMMY`, lookup, submission discovery (by file name and by manifest), the runner's
    /// check list and report rows, and the rubric all work with no code naming it.
    #[test]
    fn a_task_defined_elsewhere_flows_through_discovery_runner_and_rubric() {
        let table: &[Kind] = &[&DUMMY];
        assert_eq!(find(table, "dummy"), Some(&DUMMY));
        assert_eq!(find(table, "tcp-upper"), None);

        let empty = tempfile::tempdir().unwrap();
        let s = Submission::discover_among(empty.path(), "python3", table).unwrap();
        assert_eq!(s.tasks.len(), 1);
        assert!(matches!(&s.tasks[0].found, Found::Missing(f) if f == &["dummy.py"]));

        let named = tempfile::tempdir().unwrap();
        std::fs::write(
            named.path().join("grader.toml"),
            "[tasks.mine]\nkind = \"dummy\"\nrun = [\"python3\", \"mine.py\"]\n",
        )
        .unwrap();
        let s = Submission::discover_among(named.path(), "python3", table).unwrap();
        assert_eq!((s.tasks[0].id.as_str(), s.tasks[0].kind), ("mine", &DUMMY));

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dummy.py"), "print('hi')\n").unwrap();
        let submission = Submission::discover_among(dir.path(), "python3", table).unwrap();
        assert_eq!(submission.tasks.len(), 1);
        assert_eq!(submission.tasks[0].kind, &DUMMY);
        assert!(
            matches!(&submission.tasks[0].found, Found::Program(argv) if argv == &["python3", "dummy.py"])
        );

        let plan = Plan {
            submission,
            selection: Selection::default(),
            settings: RunSettings {
                seed: 7,
                cases: 4,
                instrument: Instrument::install().unwrap(),
                grader_exe: "grader".into(),
            },
            python: "python3".into(),
            jobs: 1,
        };
        let report = runner::run(&plan, &|_| {});
        assert_eq!(report.tasks.len(), 1);
        let task = &report.tasks[0];
        assert_eq!((task.id.as_str(), task.kind.as_str()), ("dummy", "dummy"));
        assert_eq!(task.checks.len(), 1);
        let check = &task.checks[0];
        assert_eq!(check.id, "trivial");
        assert_eq!(check.status, Status::Pass);
        assert_eq!(check.summary, "always passes");
        assert_eq!(check.message, "judged dummy");
        assert_eq!((report.score, report.max_score), (1.0, 1.0));

        assert_eq!(Rubric::default().points(&DUMMY), vec![("trivial", 1.0)]);
    }

    /// Kinds sort in the table's order, not by id, and compare by id.
    #[test]
    fn kinds_sort_in_table_order() {
        let mut kinds: Vec<Kind> = crate::tasks::ALL.iter().rev().copied().collect();
        kinds.push(&DUMMY);
        kinds.sort();
        let ids: Vec<&str> = kinds.iter().map(|k| k.id).collect();
        let mut want: Vec<&str> = crate::tasks::ALL.iter().map(|k| k.id).collect();
        want.push("dummy");
        assert_eq!(ids, want);
    }
}
