//! Memory freed by a sweep goes back to the system: after an age sweep removes a burst of
//! commands (no expiry involved) and the store compacts, resident memory falls back.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod trim_support;

use std::time::Duration;

use idemstore::{Expiry, MemoryStore};
use trim_support::{BURST, compact_and_check_memory_returned, fill_with_burst};

#[test]
fn compacting_after_a_sweep_removes_a_burst_returns_its_memory_to_the_system() {
    let store = MemoryStore::builder().expiry(Expiry::never()).build();
    let (before, peak) = fill_with_burst(&store, "burst-of-commands-swept-by-age");

    let removed = store.cleanup_expired(Duration::ZERO);
    assert_eq!(removed, u64::from(BURST), "the sweep removes every record");
    compact_and_check_memory_returned(&store, before, peak);
}
