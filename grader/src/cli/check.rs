//! `grader check DIR`: grade one submission and write its report in one format.

use super::{color_allowed, cores, emit, Grading};
use crate::check::RunSettings;
use crate::event::Event;
use crate::exit;
use crate::instrument::Instrument;
use crate::report::format::Format;
use crate::report::{github, human};
use crate::runner::{self, Plan, Selection};
use crate::submission::Submission;
use crate::tasks::{Kind, ALL};
use anyhow::{bail, Context, Result};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(clap::Args, Debug)]
pub(super) struct Check {
    /// The submission folder.
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
    /// Checks running at once (default: 4 per core).
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
        if Kind::from_id(t).is_none() && !instance {
            bail!("unknown task {t:?}: see `grader list`");
        }
    }
    for c in checks {
        if !ALL.iter().flat_map(|k| k.checks()).any(|d| d.id == c) {
            bail!("unknown check {c:?}: see `grader list`");
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
    for hint in crate::submission::hints::suggest(dir, &crate::tasks::ALL) {
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

impl Check {
    /// Validates the flags against the submission and builds the plan.
    fn plan(&self) -> Result<Plan> {
        let submission = Submission::discover(&self.dir, &self.grading.python)?;
        let selection = selection(&self.tasks, &self.checks, Some(&submission))?;
        if !submission.has_programs() {
            bail!("{}", no_programs(&self.dir));
        }
        Ok(Plan {
            submission,
            selection,
            settings: settings(&self.grading)?,
            python: self.grading.python.clone(),
            jobs: self.jobs.unwrap_or(cores() * 4),
        })
    }

    pub(super) fn run(self) -> Result<i32> {
        self.grading.contain()?;
        crate::contain::signals::install(crate::contain::finish)
            .context("installing signal handlers")?;
        let rubric = self.grading.rubric()?;
        let plan = self.plan()?;
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
        rubric.apply(&mut report);
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
}

/// In a GitHub Actions step (`GITHUB_OUTPUT` set), the step output `result` that GitHub
/// Classroom's reporter reads (`<ID>_RESULTS: ${{ steps.<id>.outputs.result }}`).
fn classroom_output(report: &crate::report::Report) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("opening GITHUB_OUTPUT {}", Path::new(&path).display()))?;
    writeln!(
        file,
        "result={}",
        github::classroom_result(&crate::report::students::redact(report))
    )
    .context("writing GITHUB_OUTPUT")?;
    Ok(())
}
