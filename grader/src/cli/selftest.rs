//! `grader selftest`: grade the bundled fixtures and show that every known bug is caught
//! and every correct program passes. Exit 0 without surprises, 1 with any.

use super::check::settings;
use super::{cores, Grading};
use crate::selftest::{self, Options};
use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(super) struct Selftest {
    /// The fixtures folder (default: ./fixtures, then the one of the grader's repository).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// Fixture folders graded at once (default: the number of cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    #[command(flatten)]
    grading: Grading,
}

impl Selftest {
    pub(super) fn run(self) -> Result<i32> {
        self.grading.contain()?;
        let fixtures = selftest::locate(self.fixtures.as_deref())
            .context("no fixtures folder with an expected.toml: give one with --fixtures DIR")?;
        let table = crate::expected::load(&fixtures.join("expected.toml"))?;
        let jobs = self.jobs.unwrap_or_else(cores).max(1);
        let opts = Options {
            fixtures: fixtures.clone(),
            settings: settings(&self.grading)?,
            python: self.grading.python.clone(),
            jobs,
            check_jobs: (cores() * 4).div_ceil(jobs),
        };
        let terminal = std::io::stderr().is_terminal();
        eprintln!(
            "selftest: grading the folders of {} (seed {})",
            fixtures.display(),
            opts.settings.seed
        );
        let results = selftest::run(&opts, &table, &|f| {
            if terminal || !f.problems.is_empty() {
                let what = if f.problems.is_empty() {
                    "ok"
                } else {
                    "SURPRISE"
                };
                eprintln!("  {}: {what}", f.path);
            }
        });
        let (text, tally) = selftest::render(&results);
        print!("{text}");
        Ok(if tally.surprises == 0 {
            crate::exit::PASS
        } else {
            crate::exit::FAIL
        })
    }
}
