//! `reference <task-id>`: runs one reference program with the environment, stdin and
//! stdout of this process.
//!
//! Exit status: the task's own (0 when it did its job), 1 when it failed (cannot bind, bad
//! environment variable, I/O error), 2 on bad usage.

use std::process::ExitCode;

/// Exit status when the task failed.
const FAILED: u8 = 1;
/// Exit status on bad usage (no task id, unknown task id, extra arguments).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = match args.as_slice() {
        [task] if reference::ids().contains(&task.as_str()) => task,
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{}", usage());
            return ExitCode::from(USAGE);
        }
    };
    match reference::run(task) {
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(FAILED)),
        Err(err) => {
            eprintln!("reference {task}: {err}");
            ExitCode::from(FAILED)
        }
    }
}

fn usage() -> String {
    format!(
        "usage: reference <task-id>\n\
         runs the reference program of one task; task ids: {}\n\
         settings come from HOST, PORT, POOLSIZE, THREADS, INCREMENTS, DELAY",
        reference::ids().join(", ")
    )
}
