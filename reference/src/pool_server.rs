//! `pool-server` (`server-pool.py`): a fixed pool of POOLSIZE worker threads sharing the
//! listening socket. A worker takes the lock, accepts one client, releases the lock and
//! serves that client to the end; a client beyond the pool waits in the listen backlog.
//! The process has exactly POOLSIZE + 1 threads (the main thread only joins the pool).

use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::{env, net};

/// Binds `HOST:PORT` and serves forever with `POOLSIZE` workers.
pub fn run() -> io::Result<()> {
    let pool_size = env::pool_size()?;
    serve(net::bind_tcp()?, pool_size)
}

/// Starts `pool_size` workers on an already-bound listener and waits for them, that is
/// forever. Fails only if a worker cannot be started.
pub fn serve(listener: TcpListener, pool_size: usize) -> io::Result<()> {
    let listener = Arc::new(Mutex::new(listener));
    let workers = (1..=pool_size)
        .map(|i| {
            let listener = Arc::clone(&listener);
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || work(&listener))
        })
        .collect::<io::Result<Vec<_>>>()?;
    for worker in workers {
        // A worker never returns; should one panic, the others keep serving.
        let _ = worker.join();
    }
    Ok(())
}

/// One worker: accept under the lock (the lecture's `srv_lock`), serve outside it.
fn work(listener: &Mutex<TcpListener>) {
    loop {
        let accepted = {
            // Nothing panics while holding the lock; if something did, the listener is
            // still usable, so poisoning is ignored.
            let listener = listener.lock().unwrap_or_else(PoisonError::into_inner);
            let accepted = listener.accept();
            if let Err(err) = &accepted {
                net::accept_failed(err);
            }
            accepted
        };
        if let Ok((stream, peer)) = accepted {
            net::serve_client(stream, peer);
        }
    }
}
