//! The exits a check saw: every program started while a check runs notes, when the grader
//! ends it, whether it had already ended on its own and how (status, stderr tail). The
//! runner reads the note after the check, so a failing check always says that the program
//! exited, with its traceback, even when the failing case itself only saw a closed
//! connection or a refused datagram (the exit is the evidence; SPEC section 4: a crash
//! "says which and shows the tail of its stderr").
//!
//! The journal is per check: the runner opens one on the worker thread ([`Scope`]), and
//! each [`crate::process::Program`] started on that thread keeps a handle to it.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

/// One program that ended on its own during a check.
#[derive(Clone, Debug)]
pub struct Exit {
    /// It ended with status 0 (a one-shot server or a client may; a concurrent server
    /// must not).
    pub success: bool,
    /// "the program exited with status 1; the end of its stderr: ...".
    pub story: String,
}

/// The exits of one check, first first.
#[derive(Clone, Debug, Default)]
pub struct Journal(Arc<Mutex<Vec<Exit>>>);

impl Journal {
    /// Notes an exit.
    pub fn note(&self, exit: Exit) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(exit);
    }

    /// Every exit noted so far.
    pub fn exits(&self) -> Vec<Exit> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Journal>> = const { RefCell::new(None) };
}

/// The journal of the check running on this thread, if any.
pub fn current() -> Option<Journal> {
    CURRENT.with(|c| c.borrow().clone())
}

/// While alive, programs started on this thread note their exits in `journal`.
pub struct Scope {
    previous: Option<Journal>,
}

impl Scope {
    /// Opens `journal` on this thread.
    pub fn enter(journal: &Journal) -> Scope {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(journal.clone()));
        Scope { previous }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = self.previous.take());
    }
}

/// `message` with the first noteworthy exit added, unless the message already tells it.
/// `must_serve`: the program is a server that must keep running through this check, so
/// even an exit with status 0 is worth saying.
pub fn tell(message: &str, exits: &[Exit], must_serve: bool) -> Option<String> {
    let exit = exits.iter().find(|e| !e.success || must_serve)?;
    let headline = exit.story.split(';').next().unwrap_or_default();
    if message.contains(headline) || message.contains("the end of its stderr") {
        return None;
    }
    let more = exits.iter().filter(|e| !e.success || must_serve).count();
    let times = if more > 1 {
        format!(", {more} of the processes started ended on their own; the first:")
    } else {
        String::new()
    };
    Some(format!(
        "{message}\nDuring this check{times} {}",
        exit.story
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(success: bool, story: &str) -> Exit {
        Exit {
            success,
            story: story.into(),
        }
    }

    #[test]
    fn a_crash_is_told_once_and_never_twice() {
        let crash = exit(
            false,
            "the program exited with status 1; the end of its stderr:\n    UnicodeDecodeError: x",
        );
        let told = tell(
            "datagram 1 got no answer within 3 s",
            std::slice::from_ref(&crash),
            false,
        )
        .unwrap();
        assert_eq!(
            told,
            "datagram 1 got no answer within 3 s\nDuring this check the program exited with status 1; the end of its stderr:\n    UnicodeDecodeError: x"
        );
        assert_eq!(
            tell("x; the program exited with status 1", &[crash], false),
            None
        );
    }

    #[test]
    fn a_clean_exit_counts_only_for_servers_that_must_keep_serving() {
        let clean = [exit(true, "the program exited with status 0")];
        assert_eq!(tell("no answer", &clean, false), None);
        assert!(tell("no answer", &clean, true)
            .unwrap()
            .ends_with("During this check the program exited with status 0"));
        let twice = [clean[0].clone(), clean[0].clone()];
        assert!(tell("no answer", &twice, true)
            .unwrap()
            .contains("During this check, 2 of the processes started ended on their own; the first: the program exited with status 0"));
    }

    #[test]
    fn programs_of_other_threads_do_not_see_the_scope() {
        let journal = Journal::default();
        let _scope = Scope::enter(&journal);
        assert!(current().is_some());
        assert!(std::thread::spawn(|| current().is_none()).join().unwrap());
    }
}
