//! Grading a class: every sub-folder or `.zip` of a folder is one student. Students are
//! graded in parallel (each with a share of the check workers), each result is saved in
//! `OUT/<student>/` as soon as it is known, and at the end `OUT/grades.csv` and
//! `OUT/index.html` describe the class. Like the runner, a batch emits [`BatchEvent`]s and
//! never prints. A student who cannot be graded (a refused zip, no program, a broken
//! `grader.toml`, a panic) gets a report that says why and scores 0, and the others go on;
//! no student's grading touches another's (each zip is unpacked into its own folder,
//! deleted after that student).

pub(crate) mod fingerprint;
pub(crate) mod merge;
pub(crate) mod resume;
pub(crate) mod shard;
pub(crate) mod students;
pub(crate) mod zip;

use crate::check::RunSettings;
use crate::instrument::Instrument;
use crate::report::class::Graded;
use crate::report::format::Format;
use crate::report::standing::{Problem, Standing};
use crate::report::{csv, html, Report};
use crate::rubric::Rubric;
use crate::runner::{self, Plan, Selection};
use crate::submission::Submission;
use shard::Shard;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use students::{Source, Student};

/// Everything a batch needs.
pub(crate) struct Options {
    /// The folder of submissions.
    pub dir: PathBuf,
    /// The output folder.
    pub out: PathBuf,
    /// Students graded at once.
    pub jobs: usize,
    /// Checks running at once within one student.
    pub check_jobs: usize,
    /// Grade only this share of the students.
    pub shard: Option<Shard>,
    /// Grade again students that already have a report.
    pub force: bool,
    /// Which tasks and checks.
    pub selection: Selection,
    /// The run seed, the same for every student.
    pub seed: u64,
    /// Generated cases per property check.
    pub cases: u32,
    /// Python interpreter.
    pub python: String,
    /// Points and hidden checks.
    pub rubric: Rubric,
    /// Files to write per student besides `report.json` and `report.txt`.
    pub formats: Vec<Format>,
    /// Caps on unpacked zips.
    pub limits: zip::Limits,
}

impl Options {
    /// Everything of the run that changes a grade, and the grader that grades: the
    /// run-wide part of each student's [`fingerprint`]. (`--format` is not in it: a
    /// reused report gets the files it lacks, see [`resume::complete`].)
    pub(crate) fn settings_hash(&self) -> fingerprint::Hasher {
        let mut h = fingerprint::Hasher::default();
        h.add(env!("CARGO_PKG_VERSION").as_bytes());
        if let Some(meta) = std::env::current_exe()
            .ok()
            .and_then(|e| std::fs::metadata(e).ok())
        {
            // A rebuilt grader of the same version is another grader.
            h.add(format!("{} {:?}", meta.len(), meta.modified().ok()).as_bytes());
        }
        h.add(&self.seed.to_le_bytes())
            .add(&self.cases.to_le_bytes())
            .add(self.python.as_bytes())
            .add(format!("{:?}", self.selection.tasks).as_bytes())
            .add(format!("{:?}", self.selection.checks).as_bytes())
            .add(format!("{:?}", self.rubric).as_bytes())
            .add(format!("{:?}", self.limits).as_bytes())
            .add(crate::contain::layers().names().join(",").as_bytes());
        h
    }
}

/// What a batch tells its front end.
#[derive(Debug)]
pub(crate) enum BatchEvent<'a> {
    /// The students are known.
    Planned {
        /// Students in this shard.
        total: usize,
        /// Of them, already graded by an earlier run (kept).
        resumed: usize,
    },
    /// One student was graded.
    Graded {
        /// The result.
        graded: &'a Graded,
        /// How long it took.
        elapsed: Duration,
    },
}

/// The outcome of a batch.
pub(crate) struct BatchOutcome {
    /// Every student of the shard, graded, resumed or broken, sorted by name; students left
    /// out because the batch was stopped are not in it.
    pub students: Vec<Graded>,
    /// Students graded by this run.
    pub graded_now: usize,
    /// Students left ungraded because `stop` was raised.
    pub left: usize,
}

/// Grades the class. `stop` is checked before each student: once raised, no new student
/// starts, the running ones finish and are saved. `Err` only when the output cannot be
/// written or the folder not read.
pub(crate) fn run(
    opts: &Options,
    on_event: &(dyn Fn(&BatchEvent) + Sync),
    stop: &AtomicBool,
) -> anyhow::Result<BatchOutcome> {
    let all = students::discover(&opts.dir)?;
    let mine: Vec<Student> = all
        .into_iter()
        .filter(|s| opts.shard.is_none_or(|sh| sh.contains(&s.name)))
        .collect();
    std::fs::create_dir_all(&opts.out)?;
    let run_hash = opts.settings_hash();
    let prints: Vec<String> = mine
        .iter()
        .map(|s| fingerprint::of(&s.source, &run_hash))
        .collect();
    let mut done: Vec<Option<Graded>> = mine
        .iter()
        .zip(&prints)
        .map(|(s, print)| {
            if opts.force {
                return None;
            }
            resume::load(&opts.out, &s.name)
                .filter(|r| r.fingerprint == *print && r.standing() != Standing::GraderError)
                .map(|r| Graded {
                    student: s.name.clone(),
                    result: Ok(r),
                })
        })
        .collect();
    for g in done.iter().flatten() {
        if let Ok(report) = &g.result {
            resume::complete(&opts.out, &g.student, report, &opts.formats)?;
        }
    }
    let resumed = done.iter().filter(|d| d.is_some()).count();
    on_event(&BatchEvent::Planned {
        total: mine.len(),
        resumed,
    });
    let todo: Vec<usize> = (0..mine.len()).filter(|&i| done[i].is_none()).collect();
    let instrument = Instrument::install()?;
    let grader_exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "grader".into());
    let results: Mutex<Vec<(usize, Graded)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    crate::pool::run(todo.len(), opts.jobs, stop, |n| {
        let i = todo[n];
        let start = Instant::now();
        let mut report = grade(&mine[i], opts, &instrument, &grader_exe);
        report.fingerprint = prints[i].clone();
        let graded = Graded {
            student: mine[i].name.clone(),
            result: Ok(report),
        };
        if let Err(e) = resume::save(&opts.out, &graded, &opts.formats) {
            failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e);
            stop.store(true, Ordering::SeqCst);
            return;
        }
        on_event(&BatchEvent::Graded {
            graded: &graded,
            elapsed: start.elapsed(),
        });
        results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((i, graded));
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e.context(format!("writing into {}", opts.out.display())));
    }
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let graded_now = results.len();
    for (i, g) in results {
        done[i] = Some(g);
    }
    let left = done.iter().filter(|d| d.is_none()).count();
    let students: Vec<Graded> = done.into_iter().flatten().collect();
    write_class(&opts.out, &students)?;
    Ok(BatchOutcome {
        students,
        graded_now,
        left,
    })
}

/// Writes `grades.csv` and `index.html` for these students.
pub(crate) fn write_class(out: &Path, students: &[Graded]) -> anyhow::Result<()> {
    crate::atomic::write(&out.join("grades.csv"), csv::render(students).as_bytes())?;
    let title = format!(
        "grader: {}",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    crate::atomic::write(
        &out.join("index.html"),
        html::render(students, &title).as_bytes(),
    )?;
    Ok(())
}

/// Grades one student; every way it can break becomes a report that says why (a panic
/// too), scored by the rubric like any other.
fn grade(student: &Student, opts: &Options, instrument: &Instrument, grader_exe: &str) -> Report {
    let mut report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        grade_inner(student, opts, instrument, grader_exe)
    }))
    .unwrap_or_else(|_| {
        Err(Problem {
            status: Standing::GraderError,
            message: "the grader failed while grading this student; please report it".into(),
        })
    })
    .unwrap_or_else(|problem| {
        Report::unusable(
            &student.source.path().display().to_string(),
            opts.seed,
            &opts.selection.scope(),
            problem,
        )
    });
    opts.rubric
        .apply_selected(&mut report, &opts.selection.checks);
    report
}

fn grade_inner(
    student: &Student,
    opts: &Options,
    instrument: &Instrument,
    grader_exe: &str,
) -> Result<Report, Problem> {
    let invalid = |message: String| Problem {
        status: Standing::Invalid,
        message,
    };
    let mut unpacked = None;
    let root = match &student.source {
        Source::Dir(dir) => zip::submission_root(dir),
        Source::Zip(file) => {
            let u = zip::unpack(file, &opts.limits).map_err(invalid)?;
            let root = u.root.clone();
            unpacked = Some(u);
            root
        }
        Source::Conflict(why) => return Err(invalid(why.clone())),
    };
    let submission =
        Submission::discover(&root, &opts.python).map_err(|e| invalid(e.to_string()))?;
    if !submission.has_programs() {
        return Err(Problem {
            status: Standing::NoProgram,
            message: "no recognised program: expected files such as server1.py, client1.py, counter.py (see `grader list`) or a grader.toml".into(),
        });
    }
    let plan = Plan {
        submission,
        selection: opts.selection.clone(),
        settings: RunSettings {
            seed: opts.seed,
            cases: opts.cases,
            instrument: instrument.clone(),
            grader_exe: grader_exe.to_string(),
        },
        python: opts.python.clone(),
        jobs: opts.check_jobs,
    };
    let mut report = runner::run(&plan, &|_| {});
    if unpacked.is_some() {
        zip::relabel(&mut report, &root, student.source.path());
    }
    drop(unpacked);
    Ok(report)
}
