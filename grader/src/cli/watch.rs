//! `grader watch [DIR]`: grades once, then after every save grades again only the tasks
//! whose files changed (their failing checks first, then the rest), and redraws a compact
//! [`Board`] as verdicts arrive. The file watcher is `notify` (inotify on Linux), with a
//! short debounce of its own (an editor's save is several events, and only content
//! changes count: the grader reading the files must not wake it); grading is the
//! runner's, the board a reporter. One
//! seed for the whole session, so each reproduce command shows the same cases. Ctrl-C
//! ends every program (the grader's signal handling) and then the watch.

use super::check::{no_programs, selection, settings};
use super::{check_jobs, color_allowed, Grading};
use crate::check::RunSettings;
use crate::contain::signals;
use crate::event::Event;
use crate::report::board::Board;
use crate::runner::{self, Plan, Selection};
use crate::submission::{manifest, Found, Submission};
use anyhow::{bail, Context, Result};
use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// How long a burst of file events may last to count as one save.
const DEBOUNCE: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug)]
pub(super) struct Watch {
    /// The submission folder.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Watch only this task (instance id or task id); repeatable.
    #[arg(long = "task", value_name = "ID")]
    tasks: Vec<String>,
    /// Run only this check; repeatable.
    #[arg(long = "check", value_name = "ID")]
    checks: Vec<String>,
    #[command(flatten)]
    grading: Grading,
    /// Checks running at once (default: 8 per core).
    #[arg(long, short)]
    jobs: Option<usize>,
}

/// Where the board goes: redrawn in place on a terminal, appended otherwise.
struct Screen {
    terminal: bool,
    color: bool,
    board: Mutex<Board>,
}

impl Screen {
    fn draw(&self, status: &str) {
        let board = self.board.lock().unwrap_or_else(|e| e.into_inner());
        let text = board.render(self.color);
        let mut out = std::io::stdout().lock();
        let _ = if self.terminal {
            write!(out, "\x1b[H\x1b[2J{text}\n{status}\n")
        } else {
            write!(out, "{text}{status}\n\n")
        };
        let _ = out.flush();
    }
}

impl Watch {
    pub(super) fn run(self) -> Result<i32> {
        self.grading.contain()?;
        signals::install(crate::contain::finish).context("installing signal handlers")?;
        let settings = settings(&self.grading)?;
        let terminal = std::io::stdout().is_terminal();
        let screen = Screen {
            terminal,
            color: terminal && color_allowed(),
            board: Mutex::new(Board::default()),
        };
        let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
        let mut watcher = notify::recommended_watcher(tx).context("starting the file watcher")?;
        watcher
            .watch(&self.dir, RecursiveMode::Recursive)
            .with_context(|| format!("watching {}", self.dir.display()))?;

        let mut submission = self.discover()?;
        self.grade(&screen, &settings, &submission, None);
        loop {
            if let Some(signal) = signals::interrupted() {
                return Ok(128 + signal);
            }
            let changed = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(event) => saved(event, &rx),
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the file watcher stopped"),
            };
            if changed.is_empty() {
                continue;
            }
            let previous = submission;
            submission = match self.discover() {
                Ok(s) => s,
                Err(e) => {
                    screen.draw(&format!("{e:#}; waiting for the next save"));
                    submission = previous;
                    continue;
                }
            };
            let tasks = touched(&self.dir, &previous, &submission, &changed);
            if !tasks.is_empty() {
                self.grade(&screen, &settings, &submission, Some(&tasks));
            }
        }
    }

    fn discover(&self) -> Result<Submission> {
        let submission = Submission::discover(&self.dir, &self.grading.python)?;
        if !submission.has_programs() {
            bail!("{}", no_programs(&self.dir));
        }
        Ok(submission)
    }

    /// Grades `only` these tasks (all when `None`): their failing checks first, then the
    /// rest, the board redrawn at each verdict.
    fn grade(
        &self,
        screen: &Screen,
        settings: &RunSettings,
        submission: &Submission,
        only: Option<&BTreeSet<String>>,
    ) {
        let base = match selection(&self.tasks, &self.checks, Some(submission)) {
            Ok(s) => s,
            Err(e) => {
                screen.draw(&format!("{e:#}"));
                return;
            }
        };
        let tasks: Vec<String> = submission
            .tasks
            .iter()
            .filter(|t| matches!(t.found, Found::Program(_)))
            .filter(|t| only.is_none_or(|o| o.contains(&t.id)))
            .filter(|t| {
                base.tasks.is_empty() || base.tasks.iter().any(|b| *b == t.id || b == t.kind.id)
            })
            .map(|t| t.id.clone())
            .collect();
        if tasks.is_empty() {
            return;
        }
        let wanted = |id: &str| base.checks.is_empty() || base.checks.iter().any(|c| c == id);
        let failing: BTreeSet<String> = {
            let board = screen.board.lock().unwrap_or_else(|e| e.into_inner());
            tasks.iter().flat_map(|t| board.failing(t)).collect()
        };
        let all: BTreeSet<String> = submission
            .tasks
            .iter()
            .filter(|t| tasks.contains(&t.id))
            .flat_map(|t| t.kind.checks.iter().map(|c| c.id.to_string()))
            .filter(|c| wanted(c))
            .collect();
        let first: Vec<String> = failing.intersection(&all).cloned().collect();
        let rest: Vec<String> = all.difference(&failing).cloned().collect();
        let count = |checks: &[String]| -> Vec<(String, usize)> {
            submission
                .tasks
                .iter()
                .filter(|t| tasks.contains(&t.id))
                .map(|t| {
                    let n = t
                        .kind
                        .checks
                        .iter()
                        .filter(|c| checks.iter().any(|k| k == c.id))
                        .count();
                    (t.id.clone(), n)
                })
                .collect()
        };
        let shown = tasks.join(", ");
        for (pass, checks) in [("failing checks", first), ("other checks", rest)] {
            if checks.is_empty() || signals::interrupted().is_some() {
                continue;
            }
            screen
                .board
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .started(&count(&checks));
            screen.draw(&format!("grading {shown}: {pass}..."));
            let plan = Plan {
                submission: submission.clone(),
                selection: Selection {
                    tasks: tasks.clone(),
                    checks,
                },
                settings: settings.clone(),
                python: self.grading.python.clone(),
                jobs: self.jobs.unwrap_or(check_jobs()),
            };
            let on_event = |event: &Event| {
                if let Event::CheckFinished { task, check } = event {
                    screen
                        .board
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .finished(task, check);
                    if screen.terminal {
                        screen.draw(&format!("grading {shown}: {pass}..."));
                    } else {
                        // A plain output gets each verdict as a line at once, the board
                        // after the pass.
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "{task} {}: {}", check.id, verdict(check.status));
                        let _ = out.flush();
                    }
                }
            };
            let report = runner::run(&plan, &on_event);
            screen
                .board
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .merge(&report);
        }
        if signals::interrupted().is_none() {
            screen.draw(&format!(
                "seed {}; watching {} for changes (Ctrl-C to stop)",
                settings.seed,
                self.dir.display()
            ));
        }
    }
}

fn verdict(status: crate::check::Status) -> &'static str {
    match status {
        crate::check::Status::Pass => "PASS",
        crate::check::Status::Fail => "FAIL",
        crate::check::Status::Error => "ERROR",
        crate::check::Status::Skip => "SKIP",
    }
}

/// The paths a save changed: `first` and whatever follows within [`DEBOUNCE`] (an editor's
/// save is several events). Reads and metadata changes (the grader copying the folder,
/// an editor opening a file) are not changes.
fn saved(
    first: notify::Result<notify::Event>,
    rx: &mpsc::Receiver<notify::Result<notify::Event>>,
) -> Vec<PathBuf> {
    let content = |event: notify::Result<notify::Event>| -> Vec<PathBuf> {
        match event {
            Ok(event)
                if matches!(
                    event.kind,
                    EventKind::Create(_)
                        | EventKind::Remove(_)
                        | EventKind::Modify(
                            ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any
                        )
                ) =>
            {
                event.paths
            }
            _ => Vec::new(),
        }
    };
    let mut paths = content(first);
    if paths.is_empty() {
        return paths;
    }
    while let Ok(event) = rx.recv_timeout(DEBOUNCE) {
        paths.extend(content(event));
    }
    paths.sort();
    paths.dedup();
    paths
}

/// The tasks to grade again after `changed` paths: those whose program files changed,
/// those that appeared or whose command changed (a new file, a grader.toml edit), and all
/// of them when grader.toml changed.
fn touched(
    dir: &Path,
    before: &Submission,
    after: &Submission,
    changed: &[PathBuf],
) -> BTreeSet<String> {
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let relative: Vec<PathBuf> = changed
        .iter()
        .filter_map(|p| {
            let p = p.canonicalize().unwrap_or_else(|_| p.clone());
            p.strip_prefix(&root).ok().map(Path::to_path_buf)
        })
        .collect();
    let named = |p: &PathBuf| {
        after.tasks.iter().any(
            |t| matches!(&t.found, Found::Program(argv) if argv.iter().any(|a| p == Path::new(a))),
        )
    };
    // grader.toml, or a Python file no task runs (a module the programs may import).
    let manifest_changed = relative.iter().any(|p| {
        p == Path::new(manifest::FILE) || (p.extension().is_some_and(|e| e == "py") && !named(p))
    });
    let mut tasks = BTreeSet::new();
    for task in &after.tasks {
        let Found::Program(argv) = &task.found else {
            continue;
        };
        let same = before
            .tasks
            .iter()
            .any(|b| b.id == task.id && matches!(&b.found, Found::Program(a) if a == argv));
        let touches = argv
            .iter()
            .any(|arg| relative.iter().any(|p| p == Path::new(arg)));
        if manifest_changed || !same || touches {
            tasks.insert(task.id.clone());
        }
    }
    tasks
}
