//! What every model shares: running it with a preemption bound, the stores it starts from,
//! and a check that the modelled reclaimer catches the misuse it is there to catch.

use loom::sync::Arc;
use loom::thread;

use crate::raw::record::Record;
use crate::raw::shard::{Current, Decision, Shard};
use crate::raw::word;
use crate::sync::epoch;
use crate::{CommandResult, CommandStatus, MemoryStore};

/// Explores every interleaving of `model` with at most `preemption_bound` preemptions.
///
/// Bugs in lock-free code almost always need only two or three preemptions to show (loom's
/// own guidance, and the CHESS results it follows), while the number of schedules grows
/// exponentially with the bound. `LOOM_MAX_PREEMPTIONS` in the environment overrides the
/// bound for a deeper run.
pub fn check<F>(preemption_bound: usize, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemption_bound);
    }
    builder.check(model);
}

/// A store of one shard whose table has the minimum capacity: 16 slots, of which 12 may be
/// used before an insert has to migrate the shard into a larger table.
pub fn tiny_store() -> MemoryStore {
    MemoryStore::builder().shards(1).capacity(0).build()
}

/// Slots of the tiny store's first table.
pub const TINY_CAPACITY: usize = 16;

/// Inserts the tiny store's first table may take before the next one starts a migration.
pub const TINY_LOAD_LIMIT: usize = 12;

/// Registers `filler-0`, `filler-1`, ... until the store's table has `used` slots in use.
/// The store must have been empty.
pub fn fill_to(store: &MemoryStore, used: usize) -> Vec<String> {
    let ids: Vec<String> = (0..used).map(|i| format!("filler-{i}")).collect();
    for id in &ids {
        assert!(store.register(id).unwrap(), "{id} was registered twice");
    }
    ids
}

/// A result the models can recognise by identity.
pub fn result_of(value: u32) -> CommandResult {
    CommandResult::new(value)
}

/// The value inside a result made by [`result_of`].
pub fn value_of(result: &CommandResult) -> u32 {
    *result
        .downcast_ref::<u32>()
        .expect("every model stores u32 results")
}

/// The store's status and result for `id`, asserting they agree: a result exactly when
/// Completed, as far as two separate reads can tell.
pub fn status_and_result(store: &MemoryStore, id: &str) -> (CommandStatus, Option<u32>) {
    let status = store.status(id).unwrap();
    let result = store.result(id).unwrap().map(|result| value_of(&result));
    (status, result)
}

/// Runs a reader that breaks the reclamation rule on purpose, racing a removal: it keeps a
/// record's address after dropping the guard it loaded it under, then looks at the record
/// again under a new guard. Loom must find the schedule where the removal's reclamation runs
/// in between, and the record's alive check must panic there; a model that passed would mean
/// the reclaimer could not catch a premature free at all.
pub fn read_past_its_guard_racing_a_removal() {
    const HASH: u64 = 0x5eed;
    const KEY: &[u8] = b"id";

    let shard = Arc::new(Shard::<u32>::new(0));
    let live = word::pack(CommandStatus::Completed, word::tag_for_hash(HASH), 0, 0);
    shard.update(HASH, KEY, &epoch::pin(), |_| Decision::Set(live, ()));

    let remover = {
        let shard = Arc::clone(&shard);
        thread::spawn(move || {
            shard.update(HASH, KEY, &epoch::pin(), |current| match current {
                Current::Live { .. } => Decision::Remove(()),
                Current::Absent => Decision::Done(()),
            });
        })
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
