//! Exit codes of the `grader` binary, in one place (SPEC section 5).

/// Every check of every present task passed.
pub(crate) const PASS: i32 = 0;
/// At least one check failed (or could not be judged): the submission's verdict.
pub(crate) const FAIL: i32 = 1;
/// The grader could not do its job: bad usage, nothing to grade, broken environment.
pub(crate) const USAGE: i32 = 2;
