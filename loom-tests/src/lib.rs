//! Loom models of idemstore's lock-free table, run against the crate's own source files.
//!
//! ```text
//! cd loom-tests && RUSTFLAGS="--cfg loom" cargo test --release
//! ```
//!
//! # What is modelled
//!
//! This crate does not depend on `idemstore`: it compiles the very files of `src/` that hold
//! the table and its protocol (`sync.rs`, `raw/`, `memory/`, and the small modules they use)
//! as its own modules, with `--cfg loom`. Under that flag `src/sync.rs` swaps the
//! std atomics for loom's and crossbeam-epoch for a small modelled reclaimer, and
//! `src/raw/record.rs` marks a reclaimed record dead instead of freeing it and asserts on
//! every access that the record is alive. What the models check is therefore the protocol
//! that ships, down to each atomic ordering, not a copy of it.
//!
//! The async trait (`store.rs`) and `MemoryStore::wait` are left out: they only forward to the
//! table or sleep on tokio's timers, and tokio does not build under `--cfg loom`.
//!
//! # Reading a failure
//!
//! A failing model panics with the assertion that broke. To see the interleaving, run the one
//! model again with `LOOM_LOG=trace LOOM_LOCATION=1`; `LOOM_CHECKPOINT_FILE=path` with
//! `LOOM_CHECKPOINT_INTERVAL=1` saves the failing schedule so it can be replayed alone.
//!
//! # Cost
//!
//! Each model bounds preemptions (see [`harness::check`]) so that it finishes in well under a
//! minute in release mode; the bound is the smallest that still lets every race a model is
//! about happen in both orders.

// The included files serve the whole crate: the async store, the cleaner and the statistics use
// parts of them that no model reaches.
#![allow(dead_code)]

#[cfg(not(loom))]
compile_error!(
    "the loom models need the loom cfg: cd loom-tests && RUSTFLAGS=\"--cfg loom\" cargo test --release"
);

#[path = "../../src/claim.rs"]
mod claim;
#[path = "../../src/clock.rs"]
mod clock;
#[path = "../../src/error.rs"]
mod error;
#[path = "../../src/expiry.rs"]
mod expiry;
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

pub mod harness;
pub mod raw_scenarios;

pub use claim::{
    Acquire, ClaimOutcome, ClaimTicket, Failure, FailurePolicy, Fingerprint, LapsePolicy,
    Resolution,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
pub use expiry::Expiry;
pub use memory::{MemoryStore, MemoryStoreBuilder};
pub use status::{CommandStatus, transition_allowed};
pub use value::CommandResult;
