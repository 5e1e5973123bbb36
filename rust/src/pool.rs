//! Thread pools for the parallel batch work of the binding: bounded, and built once per size.
//!
//! A caller may ask for a number of threads (`threads=` of the autoregressive coder). More
//! threads than the machine runs at once never make the work faster, and a pool costs one OS
//! thread per worker, so a request is clamped to [`max_threads`]; each clamped size gets one
//! pool, built on first use and kept for the life of the process. At most [`max_threads`]
//! pools exist, whatever the callers ask.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, Result};

/// The most threads a pool gets: the parallelism the OS reports (1 if it cannot tell).
pub fn max_threads() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// The pool size a request of `threads` (at least 1) gets: `threads`, at most [`max_threads`].
pub fn clamp(threads: usize) -> usize {
    threads.clamp(1, max_threads())
}

/// The shared pool of [`clamp`]`(threads)` workers.
pub fn pool(threads: usize) -> Result<Arc<ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let threads = clamp(threads);
    // A panic while holding the lock cannot leave the map half-updated: recover it.
    let mut pools = POOLS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = pools.get(&threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("tinify-{threads}-{i}"))
        .build()
        .map_err(|e| Error::InvalidArgument {
            what: "threads",
            message: format!("cannot start {threads} threads: {e}"),
        })?;
    let pool = Arc::new(pool);
    pools.insert(threads, Arc::clone(&pool));
    Ok(pool)
}

/// Runs `work` on rayon's global pool when `threads` is 0, else on [`pool`]`(threads)`.
pub fn install<T: Send>(threads: usize, work: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    if threads == 0 {
        return work();
    }
    pool(threads)?.install(work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_thread_requests_are_clamped_to_the_machine() {
        assert_eq!(clamp(10_000), max_threads());
        assert_eq!(clamp(1), 1);
        assert_eq!(pool(10_000).unwrap().current_num_threads(), max_threads());
        assert_eq!(install(10_000, || Ok(rayon::current_num_threads())).unwrap(), max_threads());
    }

    #[test]
    fn pools_are_built_once_per_size() {
        let a = pool(1).unwrap();
        let b = pool(1).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        // Every request above the machine's parallelism shares one pool.
        assert!(Arc::ptr_eq(&pool(max_threads()).unwrap(), &pool(max_threads() + 100).unwrap()));
    }
}
