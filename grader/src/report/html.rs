//! `index.html` of a batch: one self-contained page (inline CSS, no script, no network)
//! with the score histogram, each check's pass rate, and a row per student linking to the
//! student's reports. Every text is HTML-escaped and every link percent-encoded, so a
//! student's folder name cannot inject markup.

use super::class::{percent, stats, Graded, Stats, BINS};
use super::csv::points;
use super::standing::Standing;
use std::fmt::Write;

/// Escapes text for HTML bodies and quoted attributes.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::escape::text(s.as_bytes()).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes one path segment of a relative link.
pub(crate) fn link_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}\
.bar{background:#4a7;height:1em;display:inline-block}.bad{background:#c44}\
.num{text-align:right;font-variant-numeric:tabular-nums}.err{color:#b00}";

fn bar(class: &str, fraction: f64) -> String {
    format!(
        "<span class=\"bar {class}\" style=\"width:{:.0}px\"></span>",
        (fraction * 200.0).clamp(0.0, 200.0)
    )
}

/// The page for a class.
pub(crate) fn render(students: &[Graded], title: &str) -> String {
    let st: Stats = stats(students);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n<p>{}; mean score {:.1}%.</p>\n",
        escape(&super::summary::headline(students, &st)),
        st.mean_percent,
        t = escape(title)
    );
    let top = st.histogram.iter().copied().max().unwrap_or(0).max(1);
    out.push_str("<h2>Scores</h2>\n<table><tr><th>score</th><th>students</th><th></th></tr>\n");
    for (i, n) in st.histogram.iter().enumerate().rev() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{n}</td><td>{}</td></tr>",
            escape(&Stats::bin_label(i)),
            bar("", *n as f64 / top as f64)
        );
    }
    debug_assert_eq!(st.histogram.len(), BINS);
    out.push_str("</table>\n<h2>Checks</h2>\n<table><tr><th>task</th><th>check</th><th>passed</th><th>failed</th><th>other</th><th>pass rate</th></tr>\n");
    for c in &st.checks {
        let rate = if c.total() > 0 {
            c.passed as f64 / c.total() as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{} {:.0}%</td></tr>",
            escape(&c.task),
            escape(&c.check),
            c.passed,
            c.failed,
            c.other,
            bar(if rate < 0.5 { "bad" } else { "" }, rate),
            rate * 100.0
        );
    }
    out.push_str("</table>\n<h2>Students</h2>\n<table><tr><th>student</th><th>score</th><th>of</th><th>%</th><th>status</th><th>reports</th></tr>\n");
    for s in students {
        let dir = link_segment(&s.student);
        match &s.result {
            Ok(r) => {
                let standing = r.standing();
                let status = if standing == Standing::Graded {
                    standing.as_str().to_string()
                } else {
                    format!(
                        "<span class=\"err\">{}: {}</span>",
                        standing.as_str(),
                        escape(&r.note())
                    )
                };
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0}</td><td>{status}</td><td><a href=\"{dir}/report.txt\">text</a> <a href=\"{dir}/report.json\">json</a></td></tr>",
                    escape(&s.student),
                    points(r.score),
                    points(r.max_score),
                    percent(r)
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td colspan=\"3\"></td><td class=\"err\">grader-error: {}</td><td><a href=\"{dir}/error.txt\">error</a></td></tr>",
                    escape(&s.student),
                    escape(e)
                );
            }
        }
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_inject_markup_or_links() {
        let rows = [Graded {
            student: "<script>alert(1)</script>\"?#".into(),
            result: Err("<b>zip</b>".into()),
        }];
        let page = render(&rows, "class");
        assert!(
            !page.contains("<script>") && !page.contains("<b>"),
            "{page}"
        );
        assert!(
            page.contains("href=\"%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%3F%23/error.txt\"")
        );
        assert!(!page.contains("http"), "no network");
    }
}
