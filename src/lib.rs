//! idemstore makes commands run once.
//!
//! Message handlers and APIs receive the same command more than once: redelivery, client
//! retries, two replicas racing. An [`IdempotencyStore`] records each command id's status and
//! result, so the side effect happens once and every duplicate gets the same answer.
//!
//! [`MemoryStore`] is the in-process backend: a sharded, lock-free open-addressing table in
//! which every status transition is one compare-and-swap on a packed slot word, with memory
//! reclaimed through crossbeam-epoch.
//!
//! ```
//! use std::sync::Arc;
//! use idemstore::{ClaimOutcome, CommandResult, CommandStatus, IdempotencyStore, MemoryStore};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
//!
//! // The first delivery claims the command and runs it.
//! let ClaimOutcome::Acquired(ticket) = store.claim("payment-42").await? else { unreachable!() };
//! // A duplicate delivery arriving meanwhile sees it running.
//! assert_eq!(
//!     store.claim("payment-42").await?,
//!     ClaimOutcome::Existing(CommandStatus::InProgress)
//! );
//! // The owner stores the result and completes in one step.
//! store.complete("payment-42", ticket, CommandResult::new(1250_u64)).await?;
//!
//! // Later duplicates get the stored answer.
//! let result = store.result("payment-42").await?.unwrap();
//! assert_eq!(*result.downcast::<u64>().unwrap(), 1250);
//! # Ok::<(), idemstore::StoreError>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod claim;
mod clock;
mod error;
mod execute;
mod expiry;
mod health;
mod memory;
pub(crate) mod raw;
pub mod status;
mod store;
pub(crate) mod sync;
mod value;
pub(crate) mod wheel;

pub use claim::{
    Acquire, ClaimOutcome, ClaimTicket, Failure, FailurePolicy, Fingerprint, LapsePolicy,
    Resolution,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
pub use execute::{
    Backoff, BatchItem, CallOptions, CancelPolicy, ExecuteError, ExecuteOptions, Executed,
    Executor, MIN_LEASE, Served,
};
pub use expiry::Expiry;
pub use health::HealthMetrics;
pub use memory::{CleanerOptions, ExpiryStep, MemoryStore, MemoryStoreBuilder};
pub use status::{CommandStatus, transition_allowed};
pub use store::{IdempotencyStore, IdempotencyStoreExt};
/// The token an executed command watches to learn that its run lost its claim.
pub use tokio_util::sync::CancellationToken;
pub use value::CommandResult;
