//! Checks shared by several tasks, written once: the stream checks every TCP server has
//! (`echo`, `fragmented`, `binary`, `large`, `eof`) live in [`stream`].

pub mod stream;
