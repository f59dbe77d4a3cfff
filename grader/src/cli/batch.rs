//! `grader batch DIR --out OUT`: grade a class, with a progress bar on a terminal and plain
//! lines otherwise (both on stderr), then print the class summary. Exit 0 when every
//! student was graded, 1 when some were not (`no-program`, `invalid`, `grader-error`
//! rows), 130 when interrupted (run the same command again to resume). The progress
//! stream is best effort: when its reader goes away (`2>&1 | head -1`) the batch goes on
//! grading and writes its files.

use super::check::selection;
use super::{cores, interrupt, Grading};
use crate::batch::{self, shard::Shard, BatchEvent, Options};
use crate::report::class::percent;
use crate::report::csv::points;
use crate::report::format::Format;
use crate::report::standing::Standing;
use crate::report::summary;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Exit code of a batch stopped by SIGINT or SIGTERM before every student was graded.
pub(super) const INTERRUPTED: i32 = 130;

#[derive(clap::Args, Debug)]
pub(super) struct Batch {
    /// Folder with one sub-folder or .zip per student.
    dir: PathBuf,
    /// Output folder (reports per student, grades.csv, index.html).
    #[arg(long)]
    out: PathBuf,
    /// Students graded at once (default: 2 per core; a student's checks mostly wait on
    /// sockets and deadlines, so two per core keep the cores busy).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Checks running at once per student (default: 4 per core, shared by the students).
    #[arg(long, value_name = "N")]
    check_jobs: Option<usize>,
    /// Grade only share I of N (1-based), chosen by a stable hash of the student's name.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Grade again students that already have a report in OUT.
    #[arg(long)]
    force: bool,
    /// Grade only this task; repeatable.
    #[arg(long = "task", value_name = "ID")]
    tasks: Vec<String>,
    /// Run only this check; repeatable.
    #[arg(long = "check", value_name = "ID")]
    checks: Vec<String>,
    /// Also write this format per student (report.json and report.txt are always written);
    /// repeatable.
    #[arg(long = "format", value_enum)]
    formats: Vec<Format>,
    #[command(flatten)]
    grading: Grading,
}

impl Batch {
    pub(super) fn run(self) -> Result<i32> {
        self.grading.contain()?;
        let jobs = self.jobs.unwrap_or_else(|| cores() * 2).max(1);
        let opts = Options {
            dir: self.dir.clone(),
            out: self.out.clone(),
            jobs,
            check_jobs: self
                .check_jobs
                .unwrap_or_else(|| (cores() * 4).div_ceil(jobs))
                .max(1),
            shard: self.shard,
            force: self.force,
            selection: selection(&self.tasks, &self.checks, None)?,
            seed: self.grading.seed(),
            cases: self.grading.cases,
            python: self.grading.python.clone(),
            rubric: self.grading.rubric()?,
            formats: self.formats.clone(),
            limits: batch::zip::Limits::default(),
        };
        interrupt::install()?;
        let progress = Progress::new(std::io::stderr().is_terminal());
        let finished = AtomicBool::new(false);
        let outcome = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !finished.load(Ordering::SeqCst) {
                    if interrupt::STOP.load(Ordering::SeqCst) {
                        progress.say_stopping();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            // Raised however `batch::run` ends (a panic too), so the ticker always stops.
            struct Finished<'a>(&'a AtomicBool);
            impl Drop for Finished<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
            let _finished = Finished(&finished);
            batch::run(&opts, &|e| progress.event(e), &interrupt::STOP)
        });
        progress.finish();
        let outcome = outcome?;
        // The files are written; a reader of stdout that went away changes nothing.
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{}", summary::render(&outcome.students));
        let _ = writeln!(
            stdout,
            "seed {}; graded now {}; wrote {}",
            opts.seed,
            outcome.graded_now,
            opts.out.join("grades.csv").display()
        );
        drop(stdout);
        if outcome.left > 0 {
            say(&format!(
                "interrupted: {} students not graded yet; run the same command again to resume",
                outcome.left
            ));
            return Ok(INTERRUPTED);
        }
        Ok(
            if outcome
                .students
                .iter()
                .any(|s| s.standing() != Standing::Graded)
            {
                crate::exit::FAIL
            } else {
                crate::exit::PASS
            },
        )
    }
}

/// One line on stderr; a closed or broken stderr is not the batch's problem (`eprintln!`
/// would panic on it and stop the grading).
fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// The batch's front end: a progress bar with an ETA on a terminal, plain lines elsewhere.
struct Progress {
    bar: OnceLock<ProgressBar>,
    terminal: bool,
    done: Mutex<(usize, usize)>,
}

impl Progress {
    fn new(terminal: bool) -> Progress {
        Progress {
            bar: OnceLock::new(),
            terminal,
            done: Mutex::new((0, 0)),
        }
    }

    fn event(&self, event: &BatchEvent) {
        match event {
            BatchEvent::Planned { total, resumed } => {
                let todo = total - resumed;
                *self.done.lock().unwrap_or_else(|e| e.into_inner()) = (0, todo);
                if *resumed > 0 {
                    say(&format!("{resumed} of {total} students already graded (use --force to grade them again)"));
                }
                if self.terminal {
                    let bar = ProgressBar::new(todo as u64);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{bar:30} {pos}/{len} students  {elapsed} elapsed, ETA {eta}",
                        )
                        .expect("a valid template"),
                    );
                    bar.enable_steady_tick(Duration::from_millis(500));
                    let _ = self.bar.set(bar);
                } else {
                    say(&format!("grading {todo} students"));
                }
            }
            BatchEvent::Graded { graded, elapsed } => {
                let (n, todo) = {
                    let mut d = self.done.lock().unwrap_or_else(|e| e.into_inner());
                    d.0 += 1;
                    *d
                };
                let what = match &graded.result {
                    Ok(r) if r.standing() != Standing::Graded => format!(
                        "{}/{} {}: {}",
                        points(r.score),
                        points(r.max_score),
                        r.standing().as_str(),
                        // The note may quote a path, with whatever the folder is named.
                        crate::escape::line_short(r.note().trim_end().as_bytes(), 300)
                    ),
                    Ok(r) => format!(
                        "{}/{} ({:.0}%)",
                        points(r.score),
                        points(r.max_score),
                        percent(r)
                    ),
                    // The whole error on one line: it may hold the folder's path,
                    // newlines and all.
                    Err(e) => format!(
                        "error: {}",
                        crate::escape::line_short(e.trim_end().as_bytes(), 300)
                    ),
                };
                // One line whatever the folder is named (a newline, bidi, escapes).
                let name = crate::escape::line(graded.student.as_bytes());
                let line = format!("{name}: {what} in {:.1} s", elapsed.as_secs_f64());
                match self.bar.get() {
                    Some(bar) => {
                        // Each student's line goes above the bar, whole and for good (as
                        // the bar's message it was cut to the terminal's width, and the
                        // last one vanished with the bar).
                        bar.println(format!("[{n}/{todo}] {line}"));
                        bar.inc(1);
                    }
                    None => say(&format!("[{n}/{todo}] {line}")),
                }
            }
        }
    }

    fn say_stopping(&self) {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            let msg = "stopping: finishing the students in progress (Ctrl-C again to quit at once)";
            match self.bar.get() {
                Some(bar) => bar.println(msg),
                None => say(msg),
            }
        });
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
