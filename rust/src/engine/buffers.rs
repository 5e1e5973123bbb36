//! Reuse of the engine's large buffers: layer outputs, channels-last and padded copies.
//!
//! A decoder's synthesis transform writes tens of megabytes per layer. Fresh allocations of
//! that size come from the OS one zeroed page at a time (a page fault per 4 KiB); the buffers
//! a [`super::Program`] run is done with go back to a small pool of the thread instead, and
//! the next layer or the next run takes them from there. Values never depend on it: every
//! buffer is zeroed when taken.

use std::cell::RefCell;

/// Buffers a thread keeps at most (a layer holds its input, its output and two scratch
/// copies; a program a few more).
const KEEP: usize = 8;

thread_local! {
    static POOL: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// `len` zeros, in the smallest pooled buffer that holds them (else the largest, grown, or a
/// new one).
pub(crate) fn zeroed(len: usize) -> Vec<f32> {
    let taken = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let fits = (0..pool.len()).filter(|&i| pool[i].capacity() >= len).min_by_key(|&i| pool[i].capacity());
        let pick = fits.or_else(|| (0..pool.len()).max_by_key(|&i| pool[i].capacity()));
        pick.map(|i| pool.swap_remove(i))
    });
    let mut buffer = taken.unwrap_or_default();
    buffer.clear();
    buffer.resize(len, 0.0);
    buffer
}

/// Gives `buffer` back to this thread's pool (the smallest is dropped when it is full).
pub(crate) fn recycle(buffer: Vec<f32>) {
    if buffer.capacity() == 0 {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.push(buffer);
        if pool.len() > KEEP {
            let smallest = (0..pool.len()).min_by_key(|&i| pool[i].capacity()).expect("a full pool");
            pool.swap_remove(smallest);
        }
    });
}
