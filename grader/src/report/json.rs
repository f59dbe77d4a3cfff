//! The JSON report of SPEC section 6: the [`Report`] model serialized as it is. It stays
//! valid whatever a program printed, since every string goes through the serializer.

use super::Report;

/// The report as pretty-printed JSON, with a final newline.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serializes");
    s.push('\n');
    s
}
