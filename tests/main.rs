//! Integration tests: the real `grader` binary on real fixtures. One test binary (cargo
//! builds and links it once), one file per feature.

mod batch;
mod check_input;
mod class;
mod cli;
mod common;
mod containment;
mod failing_fast;
mod fixtures;
mod formats;
mod hostile_input;
mod messages;
mod platforms;
mod reports;
mod selftest;
mod watch;
