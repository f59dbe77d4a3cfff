//! The JSON report of SPEC section 6: the [`Report`] model serialized as it is. It stays
//! valid whatever a program printed, since every string goes through the serializer; and
//! every JSON the grader writes (this report and the platform formats) goes through
//! [`pretty`] or [`compact`], which write bidi, zero-width and control characters from a
//! student's file or folder name as `\uXXXX` escapes (see [`crate::escape::json`]).

use super::Report;
use serde::Serialize;

/// The report as pretty-printed JSON, with a final newline.
pub(crate) fn render(report: &Report) -> String {
    let mut s = pretty(report);
    s.push('\n');
    s
}

/// `value` as pretty-printed JSON with unsafe characters escaped.
pub(crate) fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    crate::escape::json(&serde_json::to_string_pretty(value).expect("a report always serializes"))
}

/// `value` as one line of JSON with unsafe characters escaped.
pub(crate) fn compact<T: Serialize + ?Sized>(value: &T) -> String {
    crate::escape::json(&serde_json::to_string(value).expect("a report always serializes"))
}
