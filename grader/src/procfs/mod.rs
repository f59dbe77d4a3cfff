//! Reading Linux's `/proc`: the kernel's socket tables ([`sockets`]: what listens, what a
//! process owns, accept queues) and what it says of processes ([`process`]: state,
//! children, threads, descriptors, CPU time). Every function answers `Err` where `/proc`
//! is missing, and callers turn that into `skip`.

pub mod process;
pub mod sockets;

pub use process::{
    all, children, cpu_ticks, fd_count, group_members, info, parse_stat, stat, thread_ids, threads,
    ticks_per_second, ProcInfo, Stat,
};
pub use sockets::{
    available, bound_sockets, listen_queue, ports_of, socket_inodes, Bound, ListenQueue, Proto,
};
