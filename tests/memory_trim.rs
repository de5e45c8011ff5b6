//! Memory freed by expiry goes back to the system: after a burst of commands expires and the
//! store compacts, the process's resident memory falls back toward where it started.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod trim_support;

use std::sync::Arc;
use std::time::Duration;

use idemstore::{Expiry, ManualClock, MemoryStore};
use trim_support::{compact_and_check_memory_returned, fill_with_burst};

#[test]
fn compacting_after_a_burst_expires_returns_its_memory_to_the_system() {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .clock(Arc::new(clock.clone()))
        .expiry(Expiry {
            completed: Some(Duration::from_millis(100)),
            ..Expiry::default()
        })
        .build();
    let (before, peak) = fill_with_burst(&store, "burst-of-commands-that-expire");

    clock.advance(Duration::from_secs(1));
    while store.run_expiry(4096).more {}
    assert_eq!(store.len(), 0, "every record expired");
    compact_and_check_memory_returned(&store, before, peak);
}
