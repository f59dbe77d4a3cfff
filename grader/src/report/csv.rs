//! `grades.csv` (SPEC 5), for a spreadsheet or an LMS import: one row per student, columns
//! `student`, one per task id (SPEC order; a task handed in as several instances scores
//! the mean of its instances), `score`, `max_score`, `status`, `note`. Every score cell is
//! a number: a student who could not be graded scores 0, and `status` (`graded`,
//! `no-program`, `invalid`, `grader-error`) and `note` say why. `max_score` is the class's
//! maximum, the same on every row. Every cell goes through [`crate::escape::csv_cell`], so
//! a student's folder name or a message cannot become a spreadsheet formula.

use super::class::{class_max, Graded};
use super::standing::Standing;
use crate::escape::csv_cell;
use crate::rubric::per_kind;
use crate::tasks::ALL;

/// Points without a needless fraction: `4`, `2.5`, `3.33`.
pub(crate) fn points(v: f64) -> String {
    // `+ 0.0` turns the -0.0 of an empty float sum into 0.
    let s = format!("{:.2}", v + 0.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The header row's cells.
pub(crate) fn header() -> Vec<&'static str> {
    let mut h = vec!["student"];
    h.extend(ALL.iter().map(|k| k.id));
    h.extend(["score", "max_score", "status", "note"]);
    h
}

/// The CSV text (rows in the order given), with a header and `\n` line ends.
pub(crate) fn render(students: &[Graded]) -> String {
    let max = points(class_max(students));
    let mut out = header().join(",");
    out.push('\n');
    for s in students {
        let mut row = vec![csv_cell(&s.student)];
        match &s.result {
            Ok(report) => {
                let kinds = per_kind(report);
                for kind in ALL {
                    let score = kinds.iter().find(|k| k.0 == kind.id).map_or(0.0, |k| k.1);
                    row.push(points(score));
                }
                row.push(points(report.score));
                row.push(max.clone());
                row.push(report.standing().as_str().to_string());
                row.push(csv_cell(&one_line(&report.note())));
            }
            Err(e) => {
                row.extend(ALL.iter().map(|_| "0".to_string()));
                row.push("0".into());
                row.push(max.clone());
                row.push(Standing::GraderError.as_str().into());
                row.push(csv_cell(&one_line(e)));
            }
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_row_scores_zero_and_names_cannot_be_formulas() {
        let rows = [Graded {
            student: "=HYPERLINK(\"x\")".into(),
            result: Err("broken\nzip".into()),
        }];
        let csv = render(&rows);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.starts_with("\"'=HYPERLINK(\"\"x\"\")\""), "{line}");
        assert!(line.ends_with(",0,0,grader-error,broken zip"), "{line}");
        assert_eq!(line.matches(',').count(), ALL.len() + 4);
        assert_eq!(points(4.0), "4");
        assert_eq!(points(2.5), "2.5");
        assert_eq!(points(10.0 / 3.0), "3.33");
    }
}
