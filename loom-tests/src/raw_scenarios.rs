//! Scenarios that need the raw table itself, because the public API cannot express them: a
//! reader that breaks the reclamation rule on purpose, and the waiter's half of
//! `MemoryStore::wait`, whose async shell loom cannot run.
//!
//! Each function is one model body, to be run by [`crate::harness::check`].

use loom::sync::Arc;
use loom::thread;

use crate::CommandStatus;
use crate::raw::record::{Record, waiter_fence};
use crate::raw::shard::{Current, Decision, Lookup, Shard};
use crate::raw::word;
use crate::sync::epoch;

const HASH: u64 = 0x5eed;
const KEY: &[u8] = b"id";
const LOOKUP: Lookup<'static> = Lookup {
    hash: HASH,
    key: KEY,
    fingerprint: 0,
    now: &one_ms,
};

/// The models' clock: every record is created at 1 ms.
fn one_ms() -> u64 {
    1
}

/// A shard holding `KEY` with `status`, generation 0 and no deadline.
fn shard_with(status: CommandStatus) -> Arc<Shard<u32>> {
    let shard = Arc::new(Shard::<u32>::new(0));
    let live = word::pack(status, word::tag_for_hash(HASH), 0, 0);
    shard.update(&LOOKUP, &epoch::pin(), |_| Decision::Set(live, ()));
    shard
}

/// Moves `KEY` to `status` (or does nothing if it is gone), as one update.
fn set_status(shard: &Shard<u32>, status: CommandStatus) {
    shard.update(&LOOKUP, &epoch::pin(), |current| match current {
        Current::Live { word, .. } => Decision::Set(word::with_status(word, status, 0), ()),
        Current::Absent => Decision::Done(()),
    });
}

/// Removes `KEY` (or does nothing if it is gone).
fn remove(shard: &Shard<u32>) {
    shard.update(&LOOKUP, &epoch::pin(), |current| match current {
        Current::Live { .. } => Decision::Remove(()),
        Current::Absent => Decision::Done(()),
    });
}

/// A reader keeps a record's address after dropping the guard it loaded it under, then looks
/// at the record again under a new guard, while another thread removes the record. Loom must
/// find the schedule where the reclamation runs in between, and the record's alive check must
/// panic there. A passing run would mean the modelled reclaimer could not catch a premature
/// free at all, and every other model's silence about reclamation would be worthless.
pub fn read_past_its_guard_racing_a_removal() {
    let shard = shard_with(CommandStatus::Completed);

    let remover = {
        let shard = Arc::clone(&shard);
        thread::spawn(move || remove(&shard))
    };
    let address = {
        let guard = epoch::pin();
        shard
            .read(HASH, KEY, &guard)
            .map(|(record, _)| record.as_ptr())
    };
    if let Some(address) = address {
        let guard = epoch::pin();
        // SAFETY: none; this breaks `from_ptr`'s contract on purpose. Under loom a reclaimed
        // record's memory is never released, so the breach reads a record marked dead (which
        // the alive check reports) rather than freed memory.
        let record = unsafe { Record::from_ptr(address, &guard) };
        assert_eq!(record.key(), KEY);
    }

    remover.join().unwrap();
}

/// The waiter's half of `MemoryStore::wait` racing the end of the claim it waits for, which is
/// a removal when `by_removal` and a completion otherwise.
///
/// The waiter takes the record's `Notify`, takes a notification snapshot, fences, and re-reads
/// the word; it goes to sleep only if the record is still InProgress then. The ending writes
/// the word, fences, and wakes whatever `Notify` it finds. The model asserts the property the
/// fence pair exists for: a waiter that goes to sleep is always woken.
pub fn waiter_racing_the_end_of_a_claim(by_removal: bool) {
    let shard = shard_with(CommandStatus::InProgress);

    let ender = {
        let shard = Arc::clone(&shard);
        thread::spawn(move || {
            if by_removal {
                remove(&shard);
            } else {
                set_status(&shard, CommandStatus::Completed);
            }
        })
    };
    let sleeping = {
        let guard = epoch::pin();
        match shard.read(HASH, KEY, &guard) {
            Some((record, word)) if word::status_of(word) == CommandStatus::InProgress => {
                let notify = record.waiters();
                let snapshot = notify.notified();
                waiter_fence();
                let still_running = shard.read(HASH, KEY, &guard).is_some_and(|(again, word)| {
                    again.incarnation() == record.incarnation()
                        && word::status_of(word) == CommandStatus::InProgress
                });
                still_running.then_some((notify, snapshot))
            }
            _ => None,
        }
    };
    ender.join().unwrap();

    if let Some((notify, snapshot)) = sleeping {
        assert!(
            notify.was_notified(snapshot),
            "the waiter went to sleep on an InProgress word and nobody woke it"
        );
    }
}
