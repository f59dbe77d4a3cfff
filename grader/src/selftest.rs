//! `grader selftest`: the grader judging itself. Every fixture folder (`good/*`, `bad/*`,
//! `reference`) is graded and its verdicts compared with its row of
//! `fixtures/expected.toml` by the same rules as the integration tests
//! ([`crate::expected::judge`]). The result is a table of expected against actual verdicts,
//! the detection rate (known bugs caught / known bugs) and the list of surprises; any
//! surprise makes the selftest fail.

use crate::check::{RunSettings, Status};
use crate::expected::{self, Row, Table};
use crate::report::{Report, TaskStatus};
use crate::runner::{self, Plan, Selection};
use crate::submission::Submission;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// What a selftest needs.
pub(crate) struct Options {
    /// The fixtures folder (holding `expected.toml`).
    pub fixtures: PathBuf,
    /// Seed, cases, instrumentation.
    pub settings: RunSettings,
    /// Python interpreter.
    pub python: String,
    /// Fixture folders graded at once.
    pub jobs: usize,
    /// Checks at once per folder.
    pub check_jobs: usize,
}

/// One fixture folder's outcome.
#[derive(Debug)]
pub(crate) struct Fixture {
    /// Path relative to the fixtures folder.
    pub path: String,
    /// Its row, if the table has one.
    pub row: Option<Row>,
    /// The report, if the folder exists and could be graded.
    pub report: Option<Report>,
    /// Every departure from the row (empty: as expected).
    pub problems: Vec<String>,
}

/// The fixture folders to grade, relative to `fixtures`, sorted.
pub(crate) fn folders(fixtures: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for group in ["good", "bad"] {
        if let Ok(entries) = std::fs::read_dir(fixtures.join(group)) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_dir() && !name.starts_with('.') {
                    out.push(format!("{group}/{name}"));
                }
            }
        }
    }
    if fixtures.join("reference").is_dir() {
        out.push("reference".into());
    }
    out.sort();
    out
}

/// The fixtures folder: `given`, else `./fixtures`, else the one of the repository the
/// executable was built in (found from the executable's path, then from the build's
/// source path).
pub(crate) fn locate(given: Option<&Path>) -> Option<PathBuf> {
    let has_table = |d: &Path| d.join("expected.toml").is_file();
    if let Some(d) = given {
        return Some(d.to_path_buf());
    }
    if has_table(Path::new("fixtures")) {
        return Some(PathBuf::from("fixtures"));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(d) = exe
            .ancestors()
            .map(|a| a.join("fixtures"))
            .find(|d| has_table(d))
        {
            return Some(d);
        }
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    has_table(&built).then_some(built)
}

/// Grades every fixture folder and compares it with the table.
pub(crate) fn run(
    opts: &Options,
    table: &Table,
    on_done: &(dyn Fn(&Fixture) + Sync),
) -> Vec<Fixture> {
    let mut paths = folders(&opts.fixtures);
    for p in table.keys() {
        if !paths.contains(p) {
            paths.push(p.clone());
        }
    }
    paths.sort();
    let results: Mutex<Vec<Fixture>> = Mutex::new(Vec::new());
    crate::pool::run(paths.len(), opts.jobs, &AtomicBool::new(false), |i| {
        let fixture = one(opts, table, &paths[i]);
        on_done(&fixture);
        results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fixture);
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by(|a, b| a.path.cmp(&b.path));
    results
}

fn one(opts: &Options, table: &Table, path: &str) -> Fixture {
    let row = table.get(path).cloned();
    let dir = opts.fixtures.join(path);
    let mut fixture = Fixture {
        path: path.to_string(),
        row: row.clone(),
        report: None,
        problems: Vec::new(),
    };
    if !dir.is_dir() {
        fixture
            .problems
            .push("the table has a row for this folder, but there is no such folder".into());
        return fixture;
    }
    let Some(row) = row else {
        fixture
            .problems
            .push("the folder has no row in expected.toml".into());
        return fixture;
    };
    let submission = match Submission::discover(&dir, &opts.python) {
        Ok(s) => s,
        Err(e) => {
            fixture.problems.push(format!("cannot be graded: {e}"));
            return fixture;
        }
    };
    let plan = Plan {
        submission,
        selection: Selection::default(),
        settings: opts.settings.clone(),
        python: opts.python.clone(),
        jobs: opts.check_jobs,
    };
    let report = runner::run(&plan, &|_| {});
    fixture.problems = expected::judge(&row, &report);
    let code = if report.passed() {
        crate::exit::PASS
    } else {
        crate::exit::FAIL
    };
    let want = expected::exit_code(&row, &report);
    if code != want {
        fixture
            .problems
            .push(format!("exit code {code}, expected {want}"));
    }
    fixture.report = Some(report);
    fixture
}

/// Counts over a selftest.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Tally {
    /// Known bugs: (fixture, task) rows expecting failures.
    pub bugs: usize,
    /// Of them, those where every expected check failed.
    pub caught: usize,
    /// Correct programs: (fixture, task) rows expecting every check to pass.
    pub correct: usize,
    /// Of them, those where every check passed.
    pub passing: usize,
    /// Fixtures with at least one surprise.
    pub surprises: usize,
}

/// The checks of a task that did not pass, as `id` (failed) or `id (error)`.
fn not_passing(report: &Report, task: &str) -> Option<Vec<String>> {
    let t = report
        .tasks
        .iter()
        .find(|t| t.id == task && t.status != TaskStatus::Missing)?;
    Some(
        t.checks
            .iter()
            .filter(|c| c.status != Status::Pass)
            .map(|c| match c.status {
                Status::Fail => c.id.clone(),
                s => format!("{} ({})", c.id, expected::word(s)),
            })
            .collect(),
    )
}

/// The table of expected against actual verdicts, the tally and the surprises, as text.
pub(crate) fn render(fixtures: &[Fixture]) -> (String, Tally) {
    let mut tally = Tally::default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:34} {:14} {:32} {:32} verdict",
        "fixture", "task", "expected to fail", "did not pass"
    );
    for f in fixtures {
        if !f.problems.is_empty() {
            tally.surprises += 1;
        }
        let verdict = if f.problems.is_empty() {
            "ok"
        } else {
            "SURPRISE"
        };
        let Some(row) = &f.row else {
            let _ = writeln!(
                out,
                "{:34} {:14} {:32} {:32} {verdict}",
                f.path, "-", "(no row)", "-"
            );
            continue;
        };
        for (task, expect) in &row.fail {
            let actual = f.report.as_ref().and_then(|r| not_passing(r, task));
            let want_set: Vec<&String> = expect.iter().collect();
            match &actual {
                Some(a) if expect.is_empty() => {
                    tally.correct += 1;
                    if a.is_empty() {
                        tally.passing += 1;
                    }
                }
                Some(a) => {
                    tally.bugs += 1;
                    if want_set.iter().all(|w| a.contains(w)) {
                        tally.caught += 1;
                    }
                }
                None if expect.is_empty() => tally.correct += 1,
                None => tally.bugs += 1,
            }
            let all = f
                .report
                .as_ref()
                .and_then(|r| r.tasks.iter().find(|t| t.id == *task))
                .map_or(0, |t| t.checks.len());
            let show = |v: &[String]| match v.len() {
                0 => "-".to_string(),
                n if n == all && v.iter().all(|c| !c.contains(' ')) => format!("all {n}"),
                _ => v.join(","),
            };
            let _ = writeln!(
                out,
                "{:34} {:14} {:32} {:32} {verdict}",
                f.path,
                task,
                show(expect),
                actual.as_deref().map_or("(not graded)".to_string(), show)
            );
        }
    }
    let rate = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    let _ = writeln!(
        out,
        "\nknown bugs caught: {}/{} ({:.0}%); correct programs passing: {}/{} ({:.0}%)",
        tally.caught,
        tally.bugs,
        rate(tally.caught, tally.bugs),
        tally.passing,
        tally.correct,
        rate(tally.passing, tally.correct)
    );
    let surprising: Vec<&Fixture> = fixtures.iter().filter(|f| !f.problems.is_empty()).collect();
    if surprising.is_empty() {
        out.push_str("no surprises: every fixture got the verdicts of fixtures/expected.toml\n");
    } else {
        let _ = writeln!(out, "\n{} fixtures with surprises:", surprising.len());
        for f in surprising {
            let _ = writeln!(out, "  {}", f.path);
            for p in &f.problems {
                let _ = writeln!(
                    out,
                    "    {}",
                    crate::escape::text(p.as_bytes()).replace('\n', " ")
                );
            }
        }
    }
    (out, tally)
}
