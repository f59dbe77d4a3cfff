//! The command line: clap parses raw flags into [`Cli`], each command's file turns them
//! into a validated plan, the runner (or the batch) runs it, a reporter writes it. Errors
//! become exit code 2 in one place ([`main`]); a failing submission is exit code 1, not an
//! error. One file per command.

mod batch;
mod check;
mod gradescope;
mod interrupt;
mod merge;
mod render;
mod selftest;
mod watch;

use crate::contain::{self, Isolate};
use crate::exit;
use crate::rubric::Rubric;
use crate::tasks::ALL;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
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
    Check(check::Check),
    /// Grade a class: every sub-folder or .zip of DIR is one student.
    Batch(batch::Batch),
    /// Join the outputs of sharded batches into one grades.csv and index.html.
    Merge(merge::Merge),
    /// Grade a Gradescope submission and write Gradescope's results.json.
    Gradescope(gradescope::Gradescope),
    /// Write a saved report.json in another format.
    Render(render::Render),
    /// Grade the bundled reference and fixtures against fixtures/expected.toml.
    Selftest(selftest::Selftest),
    /// Grade, then grade again at every save the tasks whose files changed, on a
    /// compact board (Ctrl-C to stop).
    Watch(watch::Watch),
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

/// Flags every grading command shares.
#[derive(clap::Args, Debug, Clone)]
struct Grading {
    /// Seed of the generated cases (printed in every report; reproduces a run).
    #[arg(long)]
    seed: Option<u64>,
    /// Generated cases per property check.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    cases: u32,
    /// Python interpreter for .py files.
    #[arg(long, default_value = "python3", value_name = "PATH")]
    python: String,
    /// Points per task and check, hidden checks (docs/rubric.md).
    #[arg(long, value_name = "FILE")]
    rubric: Option<PathBuf>,
    /// Isolation of the programs: `auto` (private network namespaces where the machine
    /// allows them), `namespace` (required), `none` (free ports, no namespaces).
    #[arg(long, value_enum, default_value_t = Isolate::Auto, env = "GRADER_ISOLATE")]
    isolate: Isolate,
}

impl Grading {
    fn rubric(&self) -> Result<Rubric> {
        match &self.rubric {
            Some(path) => Ok(Rubric::load(path)?),
            None => Ok(Rubric::default()),
        }
    }
    fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(crate::seed::fresh)
    }
    /// Chooses the containment layers. Call first, while the grader is single-threaded:
    /// a grader that is not root may move itself into a user namespace here.
    fn contain(&self) -> Result<()> {
        contain::init(self.isolate).map_err(anyhow::Error::msg)?;
        Ok(())
    }
}

/// Parses the command line and runs it; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = dispatch(cli);
    // The run-wide sweep (anything left carrying this run's cookie) and the cgroup's
    // removal, once every submission of the command is done.
    crate::contain::finish();
    match result {
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
        Command::Batch(batch) => batch.run(),
        Command::Merge(merge) => merge.run(),
        Command::Gradescope(g) => g.run(),
        Command::Render(r) => r.run(),
        Command::Selftest(s) => s.run(),
        Command::Watch(w) => w.run(),
        Command::Doctor => {
            let (text, _) = contain::doctor::report();
            print!("{text}");
            Ok(exit::PASS)
        }
        Command::List => {
            print!("{}", list());
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
    // Every summary starts in one column, after the longest check id.
    let width = ALL
        .iter()
        .flat_map(|k| k.checks)
        .map(|c| c.id.len())
        .max()
        .unwrap_or(0);
    for kind in ALL {
        out.push_str(&format!(
            "{}  ({}; {})\n",
            kind.id,
            kind.title,
            kind.files.join(", ")
        ));
        for c in kind.checks {
            out.push_str(&format!("  {:width$}  {}\n", c.id, c.summary));
        }
    }
    out
}

/// Checks of one submission running at once, per core (`check`, `watch`, `gradescope`):
/// most of a check's time is spent waiting on its programs (their sleeps, a connection's
/// round trips, the bound on something that must not happen), not on a CPU. On 2 cores
/// the lecture's submission took 4.8-5.2 s with 4 per core and 3.4-3.5 s with 8, for the
/// same CPU time (docs/performance.md); 16 per core gained nothing more.
const CHECKS_PER_CORE: usize = 8;

/// Checks of one submission running at once on this machine.
fn check_jobs() -> usize {
    cores() * CHECKS_PER_CORE
}

/// Cores of this machine (2 when unknown).
fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// True when colour may be used on a stream that is a terminal.
fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes `text` to stdout, or to `path` when given.
fn emit(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(path) => Ok(crate::atomic::write(path, text.as_bytes())?),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .context("writing the report")
        }
    }
}
