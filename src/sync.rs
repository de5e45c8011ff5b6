//! The synchronisation primitives the raw table is built from, behind one door.
//!
//! Normal builds use `std` atomics and crossbeam-epoch. Under `--cfg loom` the same raw table
//! code compiles against loom's modelled atomics and a small modelled reclaimer
//! ([`epoch`]), so the loom models in `loom-tests/` check the protocol that ships, not a copy.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};

/// What waiters on a record park on.
#[cfg(not(loom))]
pub(crate) use tokio::sync::Notify;

/// Under loom, a stand-in with tokio's `notify_waiters` semantics: a call wakes the waiters
/// that took a `notified()` snapshot before it, and stores no permit for later ones.
#[cfg(loom)]
pub(crate) use self::loom_notify::Notify;

#[cfg(loom)]
mod loom_notify {
    use loom::sync::atomic::{AtomicUsize, Ordering};

    /// Counts `notify_waiters` calls; a snapshot is woken once the count moves past it.
    pub(crate) struct Notify {
        calls: AtomicUsize,
    }

    impl Notify {
        pub(crate) fn new() -> Self {
            Notify {
                calls: AtomicUsize::new(0),
            }
        }

        pub(crate) fn notify_waiters(&self) {
            self.calls.fetch_add(1, Ordering::SeqCst);
        }

        /// The snapshot a waiter takes before re-checking the state it waits on.
        pub(crate) fn notified(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }

        /// True once a `notify_waiters` call followed the snapshot.
        pub(crate) fn was_notified(&self, snapshot: usize) -> bool {
            self.calls.load(Ordering::SeqCst) != snapshot
        }
    }
}

/// This thread's stripe number, for structures split by thread to keep each thread's writes
/// on its own cache line. Assigned round robin on first use.
pub(crate) fn stripe() -> usize {
    use std::cell::Cell;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;

    static NEXT: StdAtomicUsize = StdAtomicUsize::new(0);
    thread_local! {
        static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    STRIPE.with(|stripe| {
        if stripe.get() == usize::MAX {
            // Relaxed: only the distinctness of the numbers handed out matters.
            stripe.set(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        }
        stripe.get()
    })
}

/// Lets a thread that must wait for another (a migration's last chunk) give up its core.
#[cfg(not(loom))]
pub(crate) fn yield_now() {
    std::thread::yield_now();
}

#[cfg(loom)]
pub(crate) fn yield_now() {
    loom::thread::yield_now();
}

/// Epoch-based reclamation: pin before touching shared memory, retire after unlinking it.
///
/// A pointer loaded while a [`Guard`] is alive stays valid until that guard drops, even if
/// another thread unlinks and retires it meanwhile. Memory is freed only once every guard that
/// could have seen it is gone.
#[cfg(not(loom))]
pub(crate) mod epoch {
    pub(crate) use crossbeam_epoch::Guard;

    /// Pins the current thread.
    #[inline]
    pub(crate) fn pin() -> Guard {
        crossbeam_epoch::pin()
    }

    /// Schedules `free(ptr)` for when no guard alive now can still reach `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must already be unreachable for threads that pin after this call, must be
    /// retired at most once, and `free` must be the right way to release it.
    pub(crate) unsafe fn retire<T>(guard: &Guard, ptr: *mut T, free: unsafe fn(*mut T)) {
        let ptr = SendPtr(ptr);
        // SAFETY: the caller promises `ptr` is unlinked and retired once; crossbeam runs the
        // closure only after every guard that was pinned before this call has been dropped.
        unsafe {
            guard.defer_unchecked(move || {
                let ptr = ptr;
                free(ptr.0)
            })
        };
    }

    /// Pushes this thread's deferred frees to the global queue and tries to advance the epoch,
    /// so garbage does not sit in a thread-local bag while the program is idle.
    pub(crate) fn flush() {
        crossbeam_epoch::pin().flush();
    }

    /// Runs `rounds` flushes. crossbeam-epoch frees a bounded number of deferred bags per
    /// collection (8 bags of up to 64 objects), so a burst of retirements is freed only as
    /// fast as threads pin; a caller that retired many objects drives the queue down itself.
    pub(crate) fn drain(rounds: usize) {
        for _ in 0..rounds {
            flush();
        }
    }

    /// A raw pointer that may be moved into a deferred function.
    struct SendPtr<T>(*mut T);
    // SAFETY: the pointee is only touched by the deferred free, which runs once, after every
    // reader is gone; nothing else can access it by then.
    unsafe impl<T> Send for SendPtr<T> {}
}

/// The modelled reclaimer used under loom.
///
/// It is deliberately simple so that loom can explore it: a mutex-protected count of pinned
/// threads and a list of retired pointers, freed when the count falls to zero. Every pointer
/// load of the raw table happens while pinned, and a pointer is retired only after it is
/// unlinked, so nobody can hold a pointer on that list once the count reaches zero. The raw
/// table marks a record dead instead of releasing its memory under loom, and asserts on every
/// access that the record is still alive: a read that races reclamation fails the model.
#[cfg(loom)]
pub(crate) mod epoch {
    use loom::sync::Mutex;

    struct Domain {
        pinned: usize,
        retired: Vec<Retired>,
    }

    /// A retired pointer and its free function, with the pointee type erased so that retiring
    /// needs no `'static` bound on it (crossbeam's `defer_unchecked` needs none either).
    struct Retired {
        ptr: *mut (),
        free: unsafe fn(*mut ()),
    }

    // SAFETY: only the deferred free touches the pointee, once, after every reader is gone.
    unsafe impl Send for Retired {}

    loom::lazy_static! {
        static ref DOMAIN: Mutex<Domain> = Mutex::new(Domain { pinned: 0, retired: Vec::new() });
    }

    /// A pinned thread; unpins on drop.
    pub(crate) struct Guard(());

    pub(crate) fn pin() -> Guard {
        DOMAIN.lock().unwrap().pinned += 1;
        Guard(())
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let mut domain = DOMAIN.lock().unwrap();
            domain.pinned -= 1;
            if domain.pinned == 0 {
                let retired = std::mem::take(&mut domain.retired);
                drop(domain);
                for Retired { ptr, free } in retired {
                    // SAFETY: no thread is pinned, so nobody holds a pointer loaded from the
                    // table, and `retire`'s caller retired `ptr` exactly once.
                    unsafe { free(ptr) };
                }
            }
        }
    }

    pub(crate) unsafe fn retire<T>(_guard: &Guard, ptr: *mut T, free: unsafe fn(*mut T)) {
        // SAFETY: `*mut T` and `*mut ()` are ABI-compatible for every sized `T`, so calling
        // `free` through the erased signature hands it exactly the pointer it expects.
        let free = unsafe { std::mem::transmute::<unsafe fn(*mut T), unsafe fn(*mut ())>(free) };
        DOMAIN.lock().unwrap().retired.push(Retired {
            ptr: ptr.cast(),
            free,
        });
    }

    pub(crate) fn flush() {}

    pub(crate) fn drain(rounds: usize) {
        let _ = rounds;
    }
}
