//! The command line: clap parses raw flags into [`Cli`], [`resolve`](Check::plan) turns
//! them into a validated [`Plan`], the runner runs it, a reporter writes it. Errors become
//! exit code 2 in one place ([`main`]); a failing submission is exit code 1, not an error.

use crate::check::RunSettings;
use crate::contain::{self, Isolate};
use crate::event::Event;
use crate::exit;
use crate::instrument::Instrument;
use crate::report::{self, human};
use crate::runner::{self, Plan, Selection};
use crate::submission::Submission;
use crate::tasks::{Kind, ALL};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Autograder for network programming with Python: probes student programs from outside.
#[derive(Parser, Debug)]
#[command(name = "grader", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Grade one submission folder.
    Check(Check),
    /// List the tasks, their default file names and their checks.
    List,
    /// Show which containment layers work on this machine, and how to get the others.
    Doctor,
    /// Run a Rust reference implementation of a task (as a program to grade or to try
    /// your client against), reading HOST, PORT, ... like a submission.
    #[command(hide = true)]
    Reference {
        /// Task id.
        task: String,
    },
}

/// Report formats of `check`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Readable text, coloured on a terminal.
    Human,
    /// The JSON report of SPEC section 6.
    Json,
}

#[derive(clap::Args, Debug)]
struct Check {
    /// The submission folder.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Grade only this task (instance id or task id); repeatable.
    #[arg(long = "task", value_name = "ID")]
    tasks: Vec<String>,
    /// Run only this check; repeatable.
    #[arg(long = "check", value_name = "ID")]
    checks: Vec<String>,
    /// Seed of the generated cases (printed in every report; reproduces a run).
    #[arg(long)]
    seed: Option<u64>,
    /// Generated cases per property check.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    cases: u32,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Python interpreter for .py files.
    #[arg(long, default_value = "python3", value_name = "PATH")]
    python: String,
    /// Checks running at once (default: 4 per core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Explain passing checks too.
    #[arg(long, short)]
    verbose: bool,
    /// Isolation of the programs: `auto` (private network namespaces where the machine
    /// allows them), `namespace` (required), `none` (free ports, no namespaces).
    #[arg(long, value_enum, default_value_t = Isolate::Auto, env = "GRADER_ISOLATE")]
    isolate: Isolate,
}

/// Parses the command line and runs it; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "grader: {}",
                crate::escape::text(format!("{e:#}").as_bytes())
            );
            exit::USAGE
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Check(check) => check.run(),
        Command::List => {
            print!("{}", list());
            Ok(exit::PASS)
        }
        Command::Doctor => {
            let (text, _) = contain::doctor::report();
            print!("{text}");
            Ok(exit::PASS)
        }
        Command::Reference { task } => {
            let code = reference::run(&task).with_context(|| format!("reference {task}"))?;
            Ok(code)
        }
    }
}

/// The text of `grader list`.
pub fn list() -> String {
    let mut out = String::new();
    for kind in ALL {
        out.push_str(&format!(
            "{}  ({}; {})\n",
            kind.id(),
            kind.title(),
            kind.default_files().join(", ")
        ));
        for c in kind.checks() {
            out.push_str(&format!("  {:18} {}\n", c.id, c.summary));
        }
    }
    out
}

impl Check {
    /// Validates the flags against the submission and builds the plan.
    fn plan(&self) -> Result<Plan> {
        let submission = Submission::discover(&self.dir, &self.python)?;
        for t in &self.tasks {
            if Kind::from_id(t).is_none() && !submission.tasks.iter().any(|e| e.id == *t) {
                bail!("unknown task {t:?}: see `grader list`");
            }
        }
        for c in &self.checks {
            if !ALL.iter().flat_map(|k| k.checks()).any(|d| d.id == c) {
                bail!("unknown check {c:?}: see `grader list`");
            }
        }
        if !submission.has_programs() {
            bail!(
                "no recognised program in {}: expected files such as server1.py, client1.py, counter.py (see `grader list`) or a grader.toml",
                self.dir.display()
            );
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let settings = RunSettings {
            seed: self.seed.unwrap_or_else(crate::seed::fresh),
            cases: self.cases,
            instrument: Instrument::install().context("writing the Python instrumentation")?,
            grader_exe: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "grader".into()),
        };
        Ok(Plan {
            submission,
            selection: Selection {
                tasks: self.tasks.clone(),
                checks: self.checks.clone(),
            },
            settings,
            python: self.python.clone(),
            jobs: self.jobs.unwrap_or(cores * 4),
        })
    }

    fn run(self) -> Result<i32> {
        let plan = self.plan()?;
        // While the grader is still single-threaded: an unprivileged grader may move into
        // a user namespace of its own here.
        contain::init(self.isolate).map_err(anyhow::Error::msg)?;
        contain::signals::install(contain::finish).context("installing signal handlers")?;
        let progress = self.format == Format::Human
            && self.output.is_none()
            && std::io::stderr().is_terminal();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let on_event = |event: &Event| {
            if !progress {
                return;
            }
            match event {
                Event::Started { checks } => {
                    done.store(0, std::sync::atomic::Ordering::SeqCst);
                    eprint!("\rgrading: 0/{checks} checks");
                }
                Event::CheckFinished { .. } => {
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    eprint!("\rgrading: {n} checks done ");
                }
            }
        };
        let report = runner::run(&plan, &on_event);
        if progress {
            eprint!("\r\x1b[2K");
        }
        let text = match self.format {
            Format::Json => report::json::render(&report),
            Format::Human => {
                let to_terminal = self.output.is_none() && std::io::stdout().is_terminal();
                let color =
                    to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                human::render(
                    &report,
                    &human::Style {
                        color,
                        verbose: self.verbose,
                    },
                )
            }
        };
        match &self.output {
            Some(path) => write_atomically(path, text.as_bytes())?,
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .context("writing the report")?;
            }
        }
        Ok(if let Some(signal) = contain::signals::interrupted() {
            128 + signal
        } else if report.passed() {
            exit::PASS
        } else {
            exit::FAIL
        })
    }
}

/// Writes `data` to `path` through a temporary file and a rename, so a reader never sees
/// half a report.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.write_all(data)?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
