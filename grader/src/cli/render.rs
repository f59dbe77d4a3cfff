//! `grader render report.json --format F`: write a saved JSON report (of `check --format
//! json` or a batch) in another format, optionally rescored with a rubric.

use super::emit;
use crate::report::format::Format;
use crate::report::{human, Report};
use crate::rubric::Rubric;
use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(super) struct Render {
    /// A JSON report.
    report: PathBuf,
    /// Format to write.
    #[arg(long, value_enum)]
    format: Format,
    /// Rescore with this rubric first.
    #[arg(long, value_name = "FILE")]
    rubric: Option<PathBuf>,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

impl Render {
    pub(super) fn run(self) -> Result<i32> {
        let text = std::fs::read(&self.report)
            .with_context(|| format!("reading {}", self.report.display()))?;
        let mut report: Report = serde_json::from_slice(&text)
            .with_context(|| format!("{}: not a grader JSON report", self.report.display()))?;
        if let Some(path) = &self.rubric {
            Rubric::load(path)?.apply(&mut report);
        }
        emit(
            self.output.as_deref(),
            &self.format.render(&report, &human::Style::default()),
        )?;
        Ok(crate::exit::PASS)
    }
}
