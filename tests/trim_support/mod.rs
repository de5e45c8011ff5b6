//! What the two trim tests share: resident memory, filling a store with a burst of Completed
//! commands, and compacting until the follow-up trims have run. Each test lives in its own
//! binary because resident memory is the whole process's.

use std::time::Duration;

use idemstore::{CommandResult, MemoryStore};

/// Commands in a burst: with their results, well over 32 MiB.
pub const BURST: u32 = 400_000;

/// Resident set size, in bytes.
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages in /proc/self/statm");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

/// Claims and completes [`BURST`] commands named after `what`; returns (before, peak)
/// resident bytes and checks the burst took memory.
pub fn fill_with_burst(store: &MemoryStore, what: &str) -> (u64, u64) {
    let before = resident_bytes();
    for i in 0..BURST {
        let id = format!("{i:08x}-{what}");
        let ticket = store.claim(&id).unwrap().ticket().unwrap();
        let result = CommandResult::from_bytes(vec![7u8; 64]);
        assert!(store.complete(&id, ticket, result).unwrap());
    }
    let peak = resident_bytes();
    let grown = peak.saturating_sub(before);
    assert!(
        grown > 32 << 20,
        "the burst should take memory: grew {grown} bytes"
    );
    (before, peak)
}

/// Compacts a second apart, long enough for the trim and its follow-ups (records are freed
/// through the epoch some time after removal), then checks resident memory fell back to
/// within a quarter of the burst's growth.
pub fn compact_and_check_memory_returned(store: &MemoryStore, before: u64, peak: u64) {
    for _ in 0..3 {
        store.compact();
        std::thread::sleep(Duration::from_millis(1100));
    }
    store.compact();
    std::thread::sleep(Duration::from_millis(200));
    let after = resident_bytes();
    eprintln!("resident: before {before}, peak {peak}, after {after}");
    let grown = peak.saturating_sub(before);
    assert!(
        after < before + grown / 4,
        "resident memory stayed high: before {before}, peak {peak}, after {after} bytes"
    );
}
