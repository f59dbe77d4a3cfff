//! `grader batch DIR --out OUT`: grade a class, with a progress bar on a terminal and plain
//! lines otherwise (both on stderr), then print the class summary. Exit 0 when every
//! student was graded, 1 when some could not be (error rows), 130 when interrupted (run
//! the same command again to resume).

use super::check::selection;
use super::{cores, interrupt, Grading};
use crate::batch::{self, shard::Shard, BatchEvent, Options};
use crate::report::class::percent;
use crate::report::csv::points;
use crate::report::format::Format;
use crate::report::summary;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Exit code of a batch stopped by SIGINT or SIGTERM before every student was graded.
pub const INTERRUPTED: i32 = 130;

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
            let outcome = batch::run(&opts, &|e| progress.event(e), &interrupt::STOP);
            finished.store(true, Ordering::SeqCst);
            outcome
        });
        progress.finish();
        let outcome = outcome?;
        print!("{}", summary::render(&outcome.students));
        println!(
            "seed {}; graded now {}; wrote {}",
            opts.seed,
            outcome.graded_now,
            opts.out.join("grades.csv").display()
        );
        if outcome.left > 0 {
            eprintln!(
                "interrupted: {} students not graded yet; run the same command again to resume",
                outcome.left
            );
            return Ok(INTERRUPTED);
        }
        Ok(if outcome.students.iter().any(|s| s.result.is_err()) {
            crate::exit::FAIL
        } else {
            crate::exit::PASS
        })
    }
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
                    eprintln!("{resumed} of {total} students already graded (use --force to grade them again)");
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
                    eprintln!("grading {todo} students");
                }
            }
            BatchEvent::Graded { graded, elapsed } => {
                let (n, todo) = {
                    let mut d = self.done.lock().unwrap_or_else(|e| e.into_inner());
                    d.0 += 1;
                    *d
                };
                let what = match &graded.result {
                    Ok(r) => format!(
                        "{}/{} ({:.0}%)",
                        points(r.score),
                        points(r.max_score),
                        percent(r)
                    ),
                    Err(e) => format!("error: {}", e.lines().next().unwrap_or_default()),
                };
                let name = crate::escape::text(graded.student.as_bytes());
                let line = format!("{name}: {what} in {:.1} s", elapsed.as_secs_f64());
                match self.bar.get() {
                    Some(bar) => {
                        // Each student's line goes above the bar, whole and for good (as
                        // the bar's message it was cut to the terminal's width, and the
                        // last one vanished with the bar).
                        bar.println(format!("[{n}/{todo}] {line}"));
                        bar.inc(1);
                    }
                    None => eprintln!("[{n}/{todo}] {line}"),
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
                None => eprintln!("{msg}"),
            }
        });
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
