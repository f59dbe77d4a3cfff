//! Reading Linux's `/proc`: the kernel's socket tables ([`sockets`]: what listens, what a
//! process owns, accept queues) and what it says of processes ([`process`]: state,
//! children, threads, descriptors, CPU time). Every function answers `Err` where `/proc`
//! is missing, and callers turn that into `skip`.

pub(crate) mod process;
pub(crate) mod sockets;

pub(crate) use process::{
    all, children_listed, cpu_ticks, descendants, fd_count, info, parse_stat, parse_stat_bytes,
    thread_ids, threads, ticks_per_second, ProcInfo,
};
#[cfg(test)]
pub(crate) use process::{children, group_members};
pub(crate) use sockets::{
    available, bound_sockets, connections_held, listen_queue, ports_of, socket_inodes, Bound,
    ListenQueue, Proto,
};
