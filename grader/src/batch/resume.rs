//! A student's folder in the batch output, and resuming an interrupted batch. The files of
//! a graded student are written each atomically, `report.json` last: a student counts as
//! graded exactly when `OUT/<student>/report.json` is a complete report, so a batch killed
//! at any moment is resumed by running it again, and nobody is graded twice. The batch
//! reuses a report only when its fingerprint (files, seed, rubric, options, grader) is the
//! run's and its standing is not `grader-error`; anyone else is graded again. (`error.txt`
//! is what older batches wrote for a student whose grading broke; it is still read.)

use crate::atomic::write as write_atomically;
use crate::report::class::Graded;
use crate::report::format::Format;
use crate::report::human::Style;
use crate::report::Report;
use std::path::{Path, PathBuf};

/// The file whose presence marks a student as graded.
pub(crate) const REPORT: &str = "report.json";
/// Why a student could not be graded.
pub(crate) const ERROR: &str = "error.txt";

/// `OUT/<student>`.
pub(crate) fn folder(out: &Path, student: &str) -> PathBuf {
    out.join(student)
}

/// The complete report of an already graded student, if there is one.
pub(crate) fn load(out: &Path, student: &str) -> Option<Report> {
    let text = std::fs::read(folder(out, student).join(REPORT)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// A student's earlier result: the report, or the error recorded (`None`: not done).
pub(crate) fn load_any(out: &Path, student: &str) -> Option<Result<Report, String>> {
    if let Some(r) = load(out, student) {
        return Some(Ok(r));
    }
    std::fs::read_to_string(folder(out, student).join(ERROR))
        .ok()
        .map(|s| Err(s.trim_end().to_string()))
}

/// Writes the files of `formats` that a reused report lacks (a batch run again with another
/// `--format` needs no grading for it).
pub(crate) fn complete(
    out: &Path,
    student: &str,
    report: &Report,
    formats: &[Format],
) -> anyhow::Result<()> {
    let dir = folder(out, student);
    for format in formats {
        let file = dir.join(format.file_name());
        if !file.exists() {
            write_atomically(&file, format.render(report, &Style::default()).as_bytes())?;
        }
    }
    Ok(())
}

/// Writes a student's result: the formats asked for and `report.txt`, then `report.json`
/// (or `error.txt`, removing a stale `report.json`).
pub(crate) fn save(out: &Path, graded: &Graded, formats: &[Format]) -> anyhow::Result<()> {
    let dir = folder(out, &graded.student);
    std::fs::create_dir_all(&dir)?;
    match &graded.result {
        Ok(report) => {
            let style = Style::default();
            for format in formats
                .iter()
                .filter(|f| !matches!(f, Format::Json | Format::Human))
            {
                write_atomically(
                    &dir.join(format.file_name()),
                    format.render(report, &style).as_bytes(),
                )?;
            }
            write_atomically(
                &dir.join(Format::Human.file_name()),
                Format::Human.render(report, &style).as_bytes(),
            )?;
            let _ = std::fs::remove_file(dir.join(ERROR));
            write_atomically(
                &dir.join(REPORT),
                Format::Json.render(report, &style).as_bytes(),
            )?;
        }
        Err(e) => {
            let _ = std::fs::remove_file(dir.join(REPORT));
            write_atomically(&dir.join(ERROR), format!("{e}\n").as_bytes())?;
        }
    }
    Ok(())
}
