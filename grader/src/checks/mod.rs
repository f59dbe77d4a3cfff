//! Checks shared by several tasks, written once. The [`CheckDef`](crate::check::CheckDef)s
//! that several server tasks list as they are live in [`served`]; the functions behind
//! them: the stream checks of a TCP server (`echo`, `fragmented`, `binary`, `large`,
//! `eof`) in [`stream`], the concurrency checks (`concurrent`, `isolation`) in
//! [`concurrency`], with the grader's own clients they use ([`grader_clients`],
//! [`backlog`]), the `/proc` views of a server ([`inspect`]) and the select server's
//! [`slow_reader`]; what the two thread tasks share (seeded choices, preemption seeds,
//! parallel runs) in [`threads`]; the machinery of the client checks (the student's
//! client against the grader's own server, its stdout read by [`printed`]) in
//! [`student_client`]; the evidence a hint needs before it names a cause in [`evidence`].

pub mod backlog;
pub mod concurrency;
pub mod evidence;
pub mod grader_clients;
pub mod inspect;
pub mod lingering;
pub mod printed;
pub mod served;
pub mod slow_reader;
pub mod stream;
pub mod student_client;
pub mod threads;
