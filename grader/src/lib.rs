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

pub mod atomic;
pub mod batch;
pub mod check;
pub mod checks;
pub mod cli;
pub mod contain;
pub mod escape;
pub mod event;
pub mod exit;
pub mod expected;
pub mod gen;
pub mod instrument;
pub mod peer;
pub mod pool;
pub mod probe;
pub mod process;
pub mod procfs;
pub mod prop;
pub mod report;
pub mod rubric;
pub mod runner;
pub mod seed;
pub mod selftest;
pub mod session;
pub mod sockdiag;
pub mod submission;
pub mod task;
pub mod tasks;
pub mod threadlog;
