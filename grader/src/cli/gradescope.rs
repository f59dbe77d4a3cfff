//! `grader gradescope`: the whole `run_autograder` of a Gradescope assignment. Grades
//! `/autograder/submission` (a lone sub-folder is looked through) and writes
//! `/autograder/results/results.json`; both paths can be changed. A submission that cannot
//! be graded at all still gets a results.json that tells the student why. The readable
//! report goes to stdout, which Gradescope shows to instructors.

use super::check::{no_programs, settings};
use super::{check_jobs, Grading};
use crate::atomic::write as write_atomically;
use crate::batch::zip::submission_root;
use crate::report::standing::{Problem, Standing};
use crate::report::{gradescope, human, students, Report};
use crate::rubric::Rubric;
use crate::runner::{self, Plan, Selection};
use crate::submission::Submission;
use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(super) struct Gradescope {
    /// The student's submission.
    #[arg(long, default_value = "/autograder/submission")]
    submission: PathBuf,
    /// Where Gradescope reads the results.
    #[arg(long, default_value = "/autograder/results/results.json")]
    results: PathBuf,
    /// Checks running at once (default: 8 per core).
    #[arg(long, short)]
    jobs: Option<usize>,
    #[command(flatten)]
    grading: Grading,
}

impl Gradescope {
    pub(super) fn run(self) -> Result<i32> {
        self.grading.contain()?;
        let rubric = self.grading.rubric()?;
        if let Some(dir) = self.results.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let root = submission_root(&self.submission);
        let submission = match Submission::discover(&root, &self.grading.python) {
            Ok(s) if s.has_programs() => s,
            Ok(_) => return self.unusable(Standing::NoProgram, no_programs(&root), &rubric),
            Err(e) => return self.unusable(Standing::Invalid, e.to_string(), &rubric),
        };
        let plan = Plan {
            submission,
            selection: Selection::default(),
            settings: settings(&self.grading)?,
            python: self.grading.python.clone(),
            jobs: self.jobs.unwrap_or(check_jobs()),
        };
        let mut report = runner::run(&plan, &|_| {});
        rubric.apply(&mut report);
        let shown = students::redact(&report);
        write_atomically(&self.results, gradescope::render(&shown).as_bytes())?;
        print!("{}", human::render(&report, &human::Style::default()));
        Ok(crate::exit::PASS)
    }

    fn unusable(&self, status: Standing, message: String, rubric: &Rubric) -> Result<i32> {
        println!("not graded: {message}");
        let mut report = Report::unusable(
            &self.submission.display().to_string(),
            self.grading.seed(),
            crate::tasks::ALL,
            Problem { status, message },
        );
        rubric.apply(&mut report);
        let shown = students::redact(&report);
        write_atomically(&self.results, gradescope::render(&shown).as_bytes())?;
        Ok(crate::exit::PASS)
    }
}
