//! `grader` judges student programs from the course "network programming with Python" by
//! probing them from outside, as a hostile but fair client would.
//!
//! The pipeline: [`submission`] finds the tasks of a submission, [`runner`] runs every
//! check of every task in parallel and emits [`event`]s, and [`report`] turns the
//! collected results into the human, JSON and CI formats. Checks live one task per file
//! in [`tasks`]; what they share (programs under control, socket probes, the property
//! engine, `/proc` readers) lives once in [`process`], [`probe`], [`prop`] and [`procfs`];
//! the servers the grader runs itself, to grade clients, live in [`peer`]. What a task is
//! (its id, files and checks) is a [`task::TaskDef`]; [`tasks::ALL`] lists them.
//!
//! The public face is narrow: [`cli`] for the binary, [`expected`] and [`report`] for the
//! integration tests, and [`contain`], [`process`] and [`submission`] for
//! `examples/isolation_cost.rs`, which times containment from outside. Everything else is
//! `pub(crate)` (`unreachable_pub` keeps it so), so the compiler finds dead code; whatever
//! is public is documented (`missing_docs`).

#![warn(missing_docs, unreachable_pub)]
// The crate docs above are the module map for developers, who read them with
// `cargo doc --document-private-items`: links to private modules are meant.
#![allow(rustdoc::private_intra_doc_links)]

pub(crate) mod atomic;
pub(crate) mod batch;
pub(crate) mod check;
pub(crate) mod checks;
pub mod cli;
pub mod contain;
pub(crate) mod escape;
pub(crate) mod event;
pub(crate) mod exit;
pub mod expected;
pub(crate) mod gen;
pub(crate) mod instrument;
pub(crate) mod peer;
pub(crate) mod pool;
pub(crate) mod probe;
pub mod process;
pub(crate) mod procfs;
pub(crate) mod prop;
pub(crate) mod python_env;
pub mod report;
pub(crate) mod rubric;
pub(crate) mod runner;
pub(crate) mod seed;
pub(crate) mod selftest;
pub(crate) mod session;
pub(crate) mod shared;
pub(crate) mod sockdiag;
pub mod submission;
pub(crate) mod task;
pub(crate) mod tasks;
pub(crate) mod threadlog;
