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

pub(crate) mod backlog;
pub(crate) mod concurrency;
pub(crate) mod evidence;
pub(crate) mod grader_clients;
pub(crate) mod inspect;
pub(crate) mod lingering;
pub(crate) mod printed;
pub(crate) mod served;
pub(crate) mod slow_reader;
pub(crate) mod stream;
pub(crate) mod stuck;
pub(crate) mod student_client;
pub(crate) mod threads;
