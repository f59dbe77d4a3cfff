//! Checks shared by several tasks, written once: the stream checks every TCP server has
//! (`echo`, `fragmented`, `binary`, `large`, `eof`) live in [`stream`]; the checks every
//! concurrent server has (`concurrent`, `isolation`) in [`concurrency`], with the clients
//! they use ([`clients`], [`backlog`]), the `/proc` views of a server ([`inspect`]) and
//! the select server's [`slow_reader`].

pub mod backlog;
pub mod clients;
pub mod concurrency;
pub mod inspect;
pub mod slow_reader;
pub mod stream;
