//! Loom models of idemstore's lock-free table, run against the crate's own source files.
//!
//! ```text
//! cd loom-tests && RUSTFLAGS="--cfg loom" cargo test --release
//! ```
//!
//! # What is modelled
//!
//! This crate does not depend on `idemstore`: it compiles the very files of `src/` that hold
//! the table and its protocols (`sync.rs`, `raw/`, `memory/`, `wheel/` and the small modules
//! they use) as its own modules, with `--cfg loom`. Under that flag `src/sync.rs` swaps the
//! std atomics for loom's and crossbeam-epoch for a small modelled reclaimer, and
//! `src/raw/record.rs` marks a reclaimed record dead instead of freeing it, asserts on every
//! access that the record is alive, and asserts that no record is freed twice. What the models
//! check is therefore the protocol that ships, down to each atomic ordering, not a copy of it.
//!
//! Left out: the async trait (`store.rs`) and `MemoryStore::wait`, which only forward to the
//! table or sleep on tokio's timers (tokio does not build under `--cfg loom`); the wake-up
//! protocol under `wait` is modelled on the record itself. The background cleaner compiles
//! against `tokio-stand-in/`, which panics if a model ever starts one; models step the expiry
//! wheel by hand instead.
//!
//! | file                       | races                                                       |
//! | -------------------------- | ----------------------------------------------------------- |
//! | `tests/claim.rs`           | claims of one id; release, fail, a stale complete vs claims |
//! | `tests/complete_remove.rs` | a completion vs a removal, watched by a reader              |
//! | `tests/migration.rs`       | writers vs the migration of a full table                    |
//! | `tests/reclaim.rs`         | readers vs reclamation of a removed record                  |
//! | `tests/expiry.rs`          | lapsed leases, and the expiry wheel vs writers              |
//! | `tests/wake.rs`            | a waiter going to sleep vs the end of the claim             |
//!
//! # Reading a failure
//!
//! A failing model panics with the assertion that broke. To see the interleaving, run the one
//! model again with `LOOM_LOG=trace LOOM_LOCATION=1`; `LOOM_CHECKPOINT_FILE=path` with
//! `LOOM_CHECKPOINT_INTERVAL=1` saves the failing schedule, and a second run with the same
//! variables replays it first. "Model exceeded maximum number of branches" means a thread
//! spun without making progress: a livelock, or a reader retrying forever on a state that
//! should not exist (the model's doc says which).
//!
//! # Cost
//!
//! Each model bounds preemptions (see [`harness::check`]) and finishes in seconds in release
//! mode; `LOOM_MAX_PREEMPTIONS=4` runs the whole suite one preemption deeper in a few minutes.

// The included files serve the whole crate: the async store, the cleaner and the statistics
// use parts of them that no model reaches.
#![allow(dead_code)]

#[cfg(not(loom))]
compile_error!(
    "the loom models need the loom cfg: \
     cd loom-tests && RUSTFLAGS=\"--cfg loom\" cargo test --release"
);

#[path = "../../src/claim.rs"]
mod claim;
#[path = "../../src/clock.rs"]
mod clock;
#[path = "../../src/error.rs"]
mod error;
#[path = "../../src/expiry.rs"]
mod expiry;
#[path = "../../src/health.rs"]
mod health;
#[path = "../../src/memory/mod.rs"]
mod memory;
#[path = "../../src/raw/mod.rs"]
pub(crate) mod raw;
#[path = "../../src/status.rs"]
pub mod status;
#[path = "../../src/sync.rs"]
pub(crate) mod sync;
#[path = "../../src/value.rs"]
mod value;
#[path = "../../src/wheel/mod.rs"]
pub(crate) mod wheel;

pub mod harness;
pub mod raw_scenarios;

pub use claim::{
    Acquire, ClaimOutcome, ClaimTicket, Failure, FailurePolicy, Fingerprint, LapsePolicy,
    Resolution,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
pub use expiry::Expiry;
pub use health::HealthMetrics;
pub use memory::{CleanerOptions, ExpiryStep, MemoryStore, MemoryStoreBuilder};
pub use status::{CommandStatus, transition_allowed};
pub use value::CommandResult;
