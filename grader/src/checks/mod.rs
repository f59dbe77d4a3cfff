//! Checks shared by several tasks, written once: the stream checks every TCP server has
//! (`echo`, `fragmented`, `binary`, `large`, `eof`) live in [`stream`]; what the two thread
//! tasks share (seeded choices, preemption seeds, parallel runs) in [`threads`]; the
//! machinery of the client checks (a client against the grader's own server, its stdout
//! read by [`printed`], what the server received judged by [`heard`]) in [`client`].

pub mod client;
pub mod heard;
pub mod printed;
pub mod stream;
pub mod threads;
