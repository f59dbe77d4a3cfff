//! Integration tests: the real `grader` binary on real fixtures. One test binary (cargo
//! builds and links it once), one file per feature.

mod batch;
mod cli;
mod common;
mod containment;
mod fixtures;
mod formats;
mod messages;
mod reports;
mod selftest;
mod watch;
