//! The formats one report can be written in, behind one enum: `check --format`, `batch
//! --format` and `render` all go through [`Format::render`]. Student-facing formats get the
//! redacted report (hidden checks anonymous, see [`super::students`]); JSON, the TA's
//! record, keeps everything.

use super::{autolab, github, gradescope, human, json, junit, prairielearn, students, Report};

/// A report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Readable text, coloured on a terminal.
    Human,
    /// The JSON report of SPEC section 6 (complete, for machines and TAs).
    Json,
    /// JUnit XML (GitLab, Jenkins, ...).
    Junit,
    /// Gradescope's results.json.
    Gradescope,
    /// GitHub Actions annotations and the GitHub Classroom `Points X/Y` notice.
    Github,
    /// PrairieLearn's results.json.
    Prairielearn,
    /// Autolab: the readable report, then `{"scores": ...}` on the last line.
    Autolab,
}

impl Format {
    /// Writes `report` in this format.
    pub(crate) fn render(self, report: &Report, style: &human::Style) -> String {
        if self == Format::Json {
            return json::render(report);
        }
        let shown = students::redact(report);
        match self {
            Format::Human => human::render(&shown, style),
            Format::Json => unreachable!("handled above"),
            Format::Junit => junit::render(&shown),
            Format::Gradescope => gradescope::render(&shown),
            Format::Github => github::render(&shown),
            Format::Prairielearn => prairielearn::render(&shown),
            Format::Autolab => autolab::render(&shown, &human::render(&shown, style)),
        }
    }

    /// The file name a batch gives this format in a student's folder.
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Format::Human => "report.txt",
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
            Format::Gradescope => "gradescope.json",
            Format::Github => "github.txt",
            Format::Prairielearn => "prairielearn.json",
            Format::Autolab => "autolab.txt",
        }
    }
}
