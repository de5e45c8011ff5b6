//! Execute-once: run a command at most once across every caller of its id, and give each
//! caller the same outcome.
//!
//! An [`Executor`] turns the store's claims into a call: `execute(id, op)` either claims the
//! id and runs `op`, or waits for the caller that did, or returns the result stored by an
//! earlier run. It is written against `Arc<dyn IdempotencyStore>` alone, so every backend gets
//! it.
//!
//! # Invariants
//!
//! - **One run.** `op` runs only in a caller whose `acquire` returned a claim; the store grants
//!   one claim at a time per id, and a completed id is never claimed again.
//! - **Nobody is left waiting.** Every way a run can end leaves InProgress (the store wakes
//!   waiters on that transition): a value completes the claim, an error or panic fails it, a
//!   dropped run releases it or marks it Indeterminate, and a lapsed lease expires it.
//! - **Waiting is by notification.** Duplicates sleep in the store's `wait` until a transition
//!   or their deadline; nothing polls.
//! - **A fenced owner changes nothing.** Every ending carries the claim's ticket, so an owner
//!   whose lease lapsed (or that an operator overrode) cannot complete over the next owner.
//! - **Fingerprints are checked on every path** that returns an existing record, batches
//!   included.
//! - Nothing is held across an `.await` except owned values and the claim guard, which holds no
//!   lock.
//!
//! # Layout
//!
//! - `run.rs`: one call: the acquire / wait loop.
//! - `owner.rs`: running as the owner: lease renewal, panics, storing the outcome.
//! - `guard.rs`: ending the claim when the owner's future is dropped.
//! - `retry.rs`: attempts with jittered exponential backoff.
//! - `batch.rs`: many commands with bounded concurrency.
//! - `options.rs`, `outcome.rs`, `error.rs`: the settings and the answers.
//!
//! # Results
//!
//! A value is stored as [`CommandResult::from_arc`](crate::CommandResult::from_arc) and read
//! back by downcasting, so every caller shares the owner's very `Arc`.
//!
//! LIMITATION: a backend that stores bytes ([`CommandResult::from_bytes`]) needs a codec to
//! turn them back into a `T`; until one exists its completed ids answer
//! [`ExecuteError::ResultType`].
//!
//! [`CommandResult::from_bytes`]: crate::CommandResult::from_bytes
//!
//! ```
//! use std::sync::Arc;
//! use idemstore::{Executor, IdempotencyStore, MemoryStore, Served};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let executor = Executor::new(Arc::new(MemoryStore::new()));
//!
//! // The first delivery runs the command.
//! let first = executor.execute("refund-9", |_| async { Ok::<_, String>(1250_u64) }).await?;
//! assert_eq!((*first.value, first.served), (1250, Served::Ran));
//!
//! // A redelivery gets the stored result; its command never runs.
//! let again = executor
//!     .execute("refund-9", |_| async { Err::<u64, _>("must not run".to_string()) })
//!     .await?;
//! assert_eq!(again.served, Served::Cached);
//! assert!(Arc::ptr_eq(&first.value, &again.value));
//! # Ok::<(), idemstore::ExecuteError<String>>(())
//! # }).unwrap();
//! ```

mod batch;
mod error;
mod guard;
mod options;
mod outcome;
mod owner;
mod retry;
mod run;

use std::sync::Arc;

use crate::IdempotencyStore;

pub use batch::BatchItem;
pub use error::ExecuteError;
pub use options::{Backoff, CallOptions, CancelPolicy, ExecuteOptions, MIN_LEASE};
pub use outcome::{Executed, Served};

/// Runs commands once across all their callers, on any [`IdempotencyStore`].
///
/// Cheap to clone: clones share the store.
#[derive(Clone)]
pub struct Executor {
    /// The backend, shared with the claim guards that end dropped runs in the background.
    store: Arc<dyn IdempotencyStore>,
    options: ExecuteOptions,
}

impl Executor {
    /// An executor with [`ExecuteOptions::default`].
    pub fn new(store: Arc<dyn IdempotencyStore>) -> Self {
        Self::with_options(store, ExecuteOptions::default())
    }

    /// An executor with these options.
    pub fn with_options(store: Arc<dyn IdempotencyStore>, options: ExecuteOptions) -> Self {
        let mut options = options;
        if let Some(lease) = options.lease.filter(|lease| *lease < options::MIN_LEASE) {
            tracing::warn!(?lease, minimum = ?options::MIN_LEASE, "lease raised to the minimum");
            options.lease = Some(options::MIN_LEASE);
        }
        Executor { store, options }
    }

    /// The store the executor records commands in.
    pub fn store(&self) -> &Arc<dyn IdempotencyStore> {
        &self.store
    }

    /// The options every call starts from.
    pub fn options(&self) -> &ExecuteOptions {
        &self.options
    }
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
