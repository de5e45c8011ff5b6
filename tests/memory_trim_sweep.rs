//! Memory freed by a sweep goes back to the system: after an age sweep removes a burst of
//! commands (no expiry involved) and the store compacts, resident memory falls back.
//!
//! One test in its own binary, since resident memory is the whole process's.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::time::Duration;

use idemstore::{CommandResult, Expiry, MemoryStore};

fn resident_bytes() -> u64 {
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

#[test]
fn compacting_after_a_sweep_removes_a_burst_returns_its_memory_to_the_system() {
    let store = MemoryStore::builder().expiry(Expiry::never()).build();
    let before = resident_bytes();
    for i in 0..400_000u32 {
        let id = format!("{i:08x}-burst-of-commands-swept-by-age");
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

    assert_eq!(
        store.cleanup_expired(Duration::ZERO),
        400_000,
        "the sweep removes every record"
    );
    // Records are freed through the epoch, some time after removal; the follow-up trim a
    // second later returns what was freed meanwhile.
    for _ in 0..3 {
        store.compact();
        std::thread::sleep(Duration::from_millis(1100));
    }
    store.compact();
    std::thread::sleep(Duration::from_millis(200));
    let after = resident_bytes();
    eprintln!("resident: before {before}, peak {peak}, after {after}");
    assert!(
        after < before + grown / 4,
        "resident memory stayed high: before {before}, peak {peak}, after {after} bytes"
    );
}
