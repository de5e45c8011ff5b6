//! Loom models of idemstore's lock-free table, run against the crate's own source files.
//!
//! ```text
//! cd loom-tests && RUSTFLAGS="--cfg loom" cargo test --release
//! ```
//!
//! # What is modelled
//!
//! This crate does not depend on `idemstore`: it compiles the very files of `src/` that hold
//! the table and its protocol (`sync.rs`, `raw/`, `memory.rs`, `status.rs`, `error.rs`,
//! `value.rs`) as its own modules, with `--cfg loom`. Under that flag `src/sync.rs` swaps the
//! std atomics for loom's and crossbeam-epoch for a small modelled reclaimer, and
//! `src/raw/record.rs` marks a reclaimed record dead instead of freeing it and asserts on
//! every access that the record is alive. What the models check is therefore the protocol
//! that ships, down to each atomic ordering, not a copy of it.
//!
//! The async trait (`store.rs`) is left out: it only forwards to `MemoryStore`, and tokio does
//! not build under `--cfg loom`.
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

#[cfg(not(loom))]
compile_error!(
    "the loom models need the loom cfg: cd loom-tests && RUSTFLAGS=\"--cfg loom\" cargo test --release"
);

#[path = "../../src/error.rs"]
mod error;
#[path = "../../src/memory.rs"]
mod memory;
#[path = "../../src/raw/mod.rs"]
#[allow(dead_code, reason = "the models drive the table through MemoryStore only")]
pub(crate) mod raw;
#[path = "../../src/status.rs"]
pub mod status;
#[path = "../../src/sync.rs"]
#[allow(dead_code, reason = "flush is for the background cleaner, which is not modelled")]
pub(crate) mod sync;
#[path = "../../src/value.rs"]
mod value;

pub mod harness;

pub use error::StoreError;
pub use memory::{ClaimOutcome, ClaimTicket, MemoryStore, MemoryStoreBuilder};
pub use status::{CommandStatus, transition_allowed};
pub use value::CommandResult;
