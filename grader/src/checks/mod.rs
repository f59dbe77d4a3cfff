//! Checks shared by several tasks, written once: the stream checks every TCP server has
//! (`echo`, `fragmented`, `binary`, `large`, `eof`) live in [`stream`]; what the two thread
//! tasks share (seeded choices, preemption seeds, parallel runs) in [`threads`].

pub mod stream;
pub mod threads;
