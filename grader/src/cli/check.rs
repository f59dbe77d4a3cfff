//! `grader check DIR`: grade one submission (a folder, or a `.zip` unpacked as a batch
//! unpacks it; a folder holding only one sub-folder is looked through) and write its report
//! in one format. A submission that cannot be graded (no program, a broken `grader.toml`,
//! a refused zip) is a usage error in the human format; every other format is written for
//! it anyway (score 0 of the full maximum, the reason shown), since a platform needs a
//! result file (SPEC 6).

use super::{check_jobs, color_allowed, emit, Grading};
use crate::batch::zip;
use crate::check::RunSettings;
use crate::event::Event;
use crate::exit;
use crate::instrument::Instrument;
use crate::report::format::Format;
use crate::report::standing::{Problem, Standing};
use crate::report::{github, human, Report};
use crate::rubric::Rubric;
use crate::runner::{self, Plan, Selection};
use crate::submission::{self, DiscoverError, Submission};
use crate::task::Kind;
use crate::tasks::{self, ALL};
use anyhow::{bail, Context, Result};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(clap::Args, Debug)]
pub(super) struct Check {
    /// The submission folder, or a .zip of it.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Grade only this task (instance id or task id); repeatable.
    #[arg(long = "task", value_name = "ID")]
    tasks: Vec<String>,
    /// Run only this check; repeatable.
    #[arg(long = "check", value_name = "ID")]
    checks: Vec<String>,
    #[command(flatten)]
    grading: Grading,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Checks running at once (default: 8 per core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Explain passing checks too.
    #[arg(long, short)]
    verbose: bool,
}

/// Validates `--task` and `--check` ids against the task list and the submission.
pub(super) fn selection(
    tasks: &[String],
    checks: &[String],
    submission: Option<&Submission>,
) -> Result<Selection> {
    for t in tasks {
        let instance = submission.is_some_and(|s| s.tasks.iter().any(|e| e.id == *t));
        if tasks::by_id(t).is_none() && !instance {
            bail!("unknown task {t:?}: see `grader list`");
        }
    }
    for c in checks {
        if !ALL.iter().flat_map(|k| k.checks).any(|d| d.id == c) {
            bail!("unknown check {c:?}: see `grader list`");
        }
    }
    // The kinds the tasks name (a task id, or an instance of the submission).
    let kinds: Vec<Kind> = ALL
        .iter()
        .copied()
        .filter(|k| {
            tasks.is_empty()
                || tasks.iter().any(|t| {
                    t == k.id
                        || submission
                            .is_some_and(|s| s.tasks.iter().any(|e| e.id == *t && e.kind == *k))
                })
        })
        .collect();
    for c in checks {
        if !kinds.iter().any(|k| k.checks.iter().any(|d| d.id == c)) {
            let mut valid: Vec<&str> = kinds
                .iter()
                .flat_map(|k| k.checks.iter().map(|d| d.id))
                .collect();
            valid.sort_unstable();
            valid.dedup();
            bail!(
                "check {c:?} is not a check of {}: nothing would run; its checks are: {}",
                tasks.join(", "),
                valid.join(", ")
            );
        }
    }
    Ok(Selection {
        tasks: tasks.to_vec(),
        checks: checks.to_vec(),
    })
}

/// The message of a folder without any program.
pub(super) fn no_programs(dir: &Path) -> String {
    let mut message = format!(
        "no recognised program in {}: expected files such as server1.py, client1.py, counter.py (see `grader list`) or a grader.toml",
        dir.display()
    );
    for hint in crate::submission::hints::suggest(dir, ALL) {
        message.push_str("\n  ");
        message.push_str(&hint.line());
    }
    message
}

/// Run-wide settings from the shared flags.
pub(super) fn settings(grading: &Grading) -> Result<RunSettings> {
    Ok(RunSettings {
        seed: grading.seed(),
        cases: grading.cases,
        instrument: Instrument::install().context("writing the Python instrumentation")?,
        grader_exe: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "grader".into()),
    })
}

/// What `grader check` has to grade.
enum Prepared {
    /// A plan to run.
    Plan(Plan),
    /// A submission that cannot be graded, and why.
    Unusable(Problem),
}

impl Check {
    /// The folder to grade: the given one (looked through when it holds only one
    /// sub-folder), or a zip unpacked into a temporary folder (kept alive by the second
    /// value).
    fn root(&self) -> Result<(PathBuf, Option<zip::Unpacked>), Problem> {
        if self.dir.is_file() && zip::is_zip(&self.dir) {
            let u = zip::unpack(&self.dir, &zip::Limits::default()).map_err(|message| Problem {
                status: Standing::Invalid,
                message,
            })?;
            return Ok((u.root.clone(), Some(u)));
        }
        Ok((submission::root::find(&self.dir), None))
    }

    /// Validates the flags against the submission and builds the plan. `Err` is a usage
    /// error (unknown ids, a path that is neither a folder nor a zip).
    fn plan(&self, root: &Path) -> Result<Prepared> {
        let submission = match Submission::discover(root, &self.grading.python) {
            Ok(s) => s,
            Err(e @ DiscoverError::Manifest(_)) => {
                selection(&self.tasks, &self.checks, None)?;
                return Ok(Prepared::Unusable(Problem {
                    status: Standing::Invalid,
                    message: e.to_string(),
                }));
            }
            Err(e) => {
                if self.dir.is_file() {
                    bail!("{}: neither a folder nor a .zip", self.dir.display());
                }
                return Err(e.into());
            }
        };
        let selection = selection(&self.tasks, &self.checks, Some(&submission))?;
        if !submission.has_programs() {
            return Ok(Prepared::Unusable(Problem {
                status: Standing::NoProgram,
                message: no_programs(&self.dir),
            }));
        }
        Ok(Prepared::Plan(Plan {
            submission,
            selection,
            settings: settings(&self.grading)?,
            python: self.grading.python.clone(),
            jobs: self.jobs.unwrap_or(check_jobs()),
        }))
    }

    pub(super) fn run(self) -> Result<i32> {
        self.grading.contain()?;
        crate::contain::signals::install(crate::contain::finish)
            .context("installing signal handlers")?;
        let rubric = self.grading.rubric()?;
        if let Some(path) = &self.output {
            writable(path)?;
        }
        let prepared = match self.root() {
            Ok((root, unpacked)) => self.plan(&root).map(|p| (p, root, unpacked))?,
            Err(problem) => (Prepared::Unusable(problem), self.dir.clone(), None),
        };
        let (plan, root, unpacked) = match prepared {
            (Prepared::Plan(plan), root, unpacked) => (plan, root, unpacked),
            (Prepared::Unusable(problem), ..) => return self.unusable(problem, &rubric),
        };
        let progress = self.format == Format::Human
            && self.output.is_none()
            && std::io::stderr().is_terminal();
        let done = AtomicUsize::new(0);
        let on_event = |event: &Event| {
            if !progress {
                return;
            }
            match event {
                Event::Started { checks } => {
                    done.store(0, Ordering::SeqCst);
                    eprint!("\rgrading: 0/{checks} checks");
                }
                Event::CheckFinished { .. } => {
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    eprint!("\rgrading: {n} checks done ");
                }
            }
        };
        let mut report = runner::run(&plan, &on_event);
        if progress {
            eprint!("\r\x1b[2K");
        }
        if unpacked.is_some() {
            zip::relabel(&mut report, &root, &self.dir);
        }
        drop(unpacked);
        rubric.apply_selected(&mut report, &plan.selection.checks);
        let style = human::Style {
            color: self.output.is_none() && std::io::stdout().is_terminal() && color_allowed(),
            verbose: self.verbose,
        };
        emit(self.output.as_deref(), &self.format.render(&report, &style))?;
        if self.format == Format::Github {
            classroom_output(&report)?;
        }
        Ok(
            if let Some(signal) = crate::contain::signals::interrupted() {
                128 + signal
            } else if report.passed() {
                exit::PASS
            } else {
                exit::FAIL
            },
        )
    }

    /// A submission that cannot be graded: a usage error for a person (human format),
    /// a result with score 0 and the reason for a platform or a machine (exit 1).
    fn unusable(&self, problem: Problem, rubric: &Rubric) -> Result<i32> {
        if self.format == Format::Human {
            bail!("{}", problem.message);
        }
        let selection = selection(&self.tasks, &self.checks, None).unwrap_or_default();
        eprintln!(
            "grader: {}",
            crate::escape::text(problem.message.as_bytes())
        );
        let mut report = Report::unusable(
            &self.dir.display().to_string(),
            self.grading.seed(),
            &selection.scope(),
            problem,
        );
        rubric.apply_selected(&mut report, &selection.checks);
        emit(
            self.output.as_deref(),
            &self.format.render(&report, &human::Style::default()),
        )?;
        if self.format == Format::Github {
            classroom_output(&report)?;
        }
        Ok(exit::FAIL)
    }
}

/// Fails early, before any grading, when `path` cannot be written; creates its missing
/// parent folders (PrairieLearn's `/grade/results/` is not there before the grader runs).
fn writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        bail!("--output {}: is a folder, not a file", path.display());
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "--output {}: cannot create {}",
            path.display(),
            dir.display()
        )
    })?;
    tempfile::NamedTempFile::new_in(dir).with_context(|| {
        format!(
            "--output {}: cannot write in {}",
            path.display(),
            dir.display()
        )
    })?;
    Ok(())
}

/// In a GitHub Actions step: the job summary appended to `GITHUB_STEP_SUMMARY`, and the
/// step output `result` in `GITHUB_OUTPUT` that GitHub Classroom's reporter reads
/// (`<ID>_RESULTS: ${{ steps.<id>.outputs.result }}`). Each only when its variable is set.
fn classroom_output(report: &crate::report::Report) -> Result<()> {
    let shown = crate::report::students::redact(report);
    let append = |var: &str, text: String| -> Result<()> {
        let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("opening {var} {}", Path::new(&path).display()))?;
        file.write_all(text.as_bytes())
            .with_context(|| format!("writing {var}"))
    };
    append("GITHUB_STEP_SUMMARY", github::step_summary(&shown))?;
    append(
        "GITHUB_OUTPUT",
        format!("result={}\n", github::classroom_result(&shown)),
    )
}
