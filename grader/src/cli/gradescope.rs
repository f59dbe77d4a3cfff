//! `grader gradescope`: the whole `run_autograder` of a Gradescope assignment. Grades
//! `/autograder/submission` (a lone sub-folder is looked through) and writes
//! `/autograder/results/results.json`; both paths can be changed. A submission that cannot
//! be graded at all still gets a results.json that tells the student why. The readable
//! report goes to stdout, which Gradescope shows to instructors.

use super::check::{no_programs, settings};
use super::{cores, write_atomically, Grading};
use crate::batch::zip::submission_root;
use crate::report::{gradescope, human, students};
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
    /// Checks running at once (default: 4 per core).
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
            Ok(_) => return self.unusable(&no_programs(&root)),
            Err(e) => return self.unusable(&e.to_string()),
        };
        let plan = Plan {
            submission,
            selection: Selection::default(),
            settings: settings(&self.grading)?,
            python: self.grading.python.clone(),
            jobs: self.jobs.unwrap_or(cores() * 4),
        };
        let mut report = runner::run(&plan, &|_| {});
        rubric.apply(&mut report);
        let shown = students::redact(&report);
        write_atomically(&self.results, gradescope::render(&shown).as_bytes())?;
        print!("{}", human::render(&report, &human::Style::default()));
        Ok(crate::exit::PASS)
    }

    fn unusable(&self, why: &str) -> Result<i32> {
        write_atomically(&self.results, gradescope::unusable(why).as_bytes())?;
        println!("not graded: {why}");
        Ok(crate::exit::PASS)
    }
}
