//! `grades.csv`: one row per student, columns `student`, one per task id (SPEC order;
//! instances of one kind add up), `score`, `max_score`. A student whose grading broke has
//! `error` in `score` and `max_score` and empty task cells, never a silent 0. Every cell
//! goes through [`crate::escape::csv_cell`], so a student's folder name cannot become a
//! spreadsheet formula.

use super::class::Graded;
use crate::escape::csv_cell;
use crate::tasks::ALL;

/// Points without a needless fraction: `4`, `2.5`, `3.33`.
pub fn points(v: f64) -> String {
    // `+ 0.0` turns the -0.0 of an empty float sum into 0.
    let s = format!("{:.2}", v + 0.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The CSV text (rows in the order given), with a header and `\n` line ends.
pub fn render(students: &[Graded]) -> String {
    let mut out = String::from("student");
    for kind in ALL {
        out.push(',');
        out.push_str(kind.id());
    }
    out.push_str(",score,max_score\n");
    for s in students {
        out.push_str(&csv_cell(&s.student));
        match &s.result {
            Ok(report) => {
                for kind in ALL {
                    let sum: f64 = report
                        .tasks
                        .iter()
                        .filter(|t| t.kind == kind.id())
                        .map(|t| t.score)
                        .sum();
                    out.push(',');
                    out.push_str(&points(sum));
                }
                out.push_str(&format!(
                    ",{},{}\n",
                    points(report.score),
                    points(report.max_score)
                ));
            }
            Err(_) => {
                out.push_str(&",".repeat(ALL.len()));
                out.push_str(",error,error\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_row_is_marked_and_names_cannot_be_formulas() {
        let rows = [Graded {
            student: "=HYPERLINK(\"x\")".into(),
            result: Err("broken zip".into()),
        }];
        let csv = render(&rows);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.starts_with("\"'=HYPERLINK(\"\"x\"\")\""), "{line}");
        assert!(line.ends_with(",,error,error"), "{line}");
        assert_eq!(line.matches(',').count(), ALL.len() + 2);
        assert_eq!(points(4.0), "4");
        assert_eq!(points(2.5), "2.5");
        assert_eq!(points(10.0 / 3.0), "3.33");
    }
}
