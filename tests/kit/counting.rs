//! A counting global allocator for the memory tests and benchmarks: the
//! bytes in use and their peak, over the whole process ([`start`],
//! [`peak_since`]) and for the calling thread alone ([`thread`]).
//!
//! A binary that uses it declares it:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: kit::counting::Counting = kit::counting::Counting;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Forwards every call to the system allocator and counts the sizes.
pub struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Signed: memory allocated while paused may be freed while counting.
    static THREAD_CURRENT: Cell<isize> = const { Cell::new(0) };
    static THREAD_PEAK: Cell<isize> = const { Cell::new(0) };
    static PAUSED: Cell<bool> = const { Cell::new(false) };
}

fn add(n: usize) {
    let now = CURRENT.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
    let _ = PAUSED.try_with(|p| {
        if !p.get() {
            let now = THREAD_CURRENT.with(|c| c.get()).wrapping_add(n as isize);
            THREAD_CURRENT.with(|c| c.set(now));
            THREAD_PEAK.with(|m| m.set(m.get().max(now)));
        }
    });
}

fn sub(n: usize) {
    CURRENT.fetch_sub(n, Relaxed);
    let _ = PAUSED.try_with(|p| {
        if !p.get() {
            THREAD_CURRENT.with(|c| c.set(c.get().wrapping_sub(n as isize)));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`; the counters only
// observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Count the grown block before releasing the old one: during a
            // moving realloc both exist.
            add(new_size);
            sub(layout.size());
        }
        p
    }
}

/// Starts a measurement over the whole process: the peak is taken above
/// what is in use now, which is returned.
pub fn start() -> usize {
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    base
}

/// The most bytes in use above `base` since [`start`].
pub fn peak_since(base: usize) -> usize {
    PEAK.load(Relaxed) - base
}

/// The same for the calling thread alone, so that tests running at once
/// each measure their own.
pub mod thread {
    use super::{PAUSED, THREAD_CURRENT, THREAD_PEAK};

    /// Starts a measurement on this thread; returns what it has in use.
    pub fn start() -> isize {
        let now = THREAD_CURRENT.with(|c| c.get());
        THREAD_PEAK.with(|m| m.set(now));
        now
    }

    /// The most bytes this thread had in use above `base` since [`start`].
    pub fn peak_since(base: isize) -> usize {
        (THREAD_PEAK.with(|m| m.get()) - base) as usize
    }

    /// Runs `f` with this thread's count paused (for a test's own
    /// allocations, such as a sink's).
    pub fn paused<T>(f: impl FnOnce() -> T) -> T {
        PAUSED.with(|p| p.set(true));
        let r = f();
        PAUSED.with(|p| p.set(false));
        r
    }
}
