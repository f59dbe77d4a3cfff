//! `grader merge OUT1 OUT2 ... --out OUT`: join the outputs of sharded batches.

use crate::batch::merge;
use crate::report::summary;
use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(super) struct Merge {
    /// Output folders of `grader batch --shard`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Folder to write the joined grades.csv, index.html and student folders into.
    #[arg(long)]
    out: PathBuf,
}

impl Merge {
    pub(super) fn run(self) -> Result<i32> {
        let students = merge::merge(&self.inputs, &self.out)?;
        print!("{}", summary::render(&students));
        println!("wrote {}", self.out.join("grades.csv").display());
        Ok(if students.iter().any(|s| s.result.is_err()) {
            crate::exit::FAIL
        } else {
            crate::exit::PASS
        })
    }
}
