//! Reading the thread record that the Python instrumentation writes when a check turns on
//! [`crate::instrument::thread_log`]: one `start <pid> <native id> <name>` line per thread
//! that really began running, and one `exit <pid> <started> <most alive>` line when the
//! process ends. Printed thread names prove nothing; this record is what the interpreter
//! itself did.

use std::path::Path;

/// What the record says about one process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Names of the threads that started running, in order.
    pub started: Vec<String>,
    /// Most threads alive at once, the main thread included, when the process ended
    /// normally (its `exit` line); `None` when it never got there (killed, crashed hard).
    pub most_alive: Option<usize>,
}

/// Reads the record at `path` for process `pid`; a missing file reads as empty.
pub(crate) fn read(path: &Path, pid: u32) -> Tally {
    parse(&std::fs::read_to_string(path).unwrap_or_default(), pid)
}

/// Parses a record, keeping only the lines of process `pid` (a forked child writes its
/// own lines to the same file).
pub(crate) fn parse(record: &str, pid: u32) -> Tally {
    let mut tally = Tally::default();
    for line in record.lines() {
        let mut fields = line.splitn(4, ' ');
        let (Some(event), Some(who)) = (fields.next(), fields.next()) else {
            continue;
        };
        if who.parse::<u32>().ok() != Some(pid) {
            continue;
        }
        match event {
            "start" => {
                let _native = fields.next();
                tally
                    .started
                    .push(fields.next().unwrap_or_default().to_string());
            }
            "exit" => {
                let _started = fields.next();
                tally.most_alive = fields.next().and_then(|n| n.trim().parse().ok());
            }
            _ => {}
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_threads_of_one_process() {
        let record = "start 10 11 Thread-1\nstart 10 12 Thread-2 (worker)\nstart 99 100 Thread-1\nexit 99 1 2\nexit 10 2 3\n";
        let tally = parse(record, 10);
        assert_eq!(tally.started, ["Thread-1", "Thread-2 (worker)"]);
        assert_eq!(tally.most_alive, Some(3));
        assert_eq!(parse(record, 99).started.len(), 1);
    }

    #[test]
    fn a_process_that_never_exited_has_no_most_alive() {
        let tally = parse("start 5 6 t\ngarbage\n\nstart x y\n", 5);
        assert_eq!(tally.started, ["t"]);
        assert_eq!(tally.most_alive, None);
        assert_eq!(parse("", 5), Tally::default());
    }
}
