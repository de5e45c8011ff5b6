//! moka's `future::Cache<String, Arc<Slot>>` with a per-entry expiry: the only peer with TTL.
//!
//! Ages follow the slot's status, as idemstore's do: an InProgress entry lives 30 minutes,
//! a Completed one the spec's Completed age (24 hours by default, 100 ms in the churn). moka
//! decides an entry's age when it is created, read or updated, never when the slot's own
//! status changes, so completing re-inserts the same slot: that update is what gives it the
//! Completed age. The key is a `String` because moka's by-reference entry API owns keys
//! through `ToOwned`.
//!
//! A claim reads the id with `get` first; on a miss `entry_by_ref(..).or_insert_with(..)`
//! inserts a fresh InProgress slot, coalescing racing claims of one id into one insert (the
//! others get `is_fresh() == false`). The futures hold only `Arc`s across their awaits. moka
//! runs its housekeeping (expiry included) during cache calls, so an idle cache frees
//! nothing until somebody calls `run_pending_tasks`: that is this adapter's `maintain`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::moka::Expiry;
use ::moka::future::Cache;
use idemstore::{CommandResult, CommandStatus};

use super::{Claim, Contender, Key, Slot, Spec};

/// idemstore's default lease, so both stores give a running claim the same age.
const IN_PROGRESS_AGE: Duration = Duration::from_secs(30 * 60);

/// idemstore's default Completed age.
const COMPLETED_AGE: Duration = Duration::from_secs(24 * 3600);

/// Ages per status, decided whenever moka creates or updates an entry.
struct SlotAges {
    completed: Duration,
}

impl SlotAges {
    fn age(&self, slot: &Slot) -> Option<Duration> {
        match slot.status() {
            CommandStatus::Completed => Some(self.completed),
            _ => Some(IN_PROGRESS_AGE),
        }
    }
}

impl Expiry<String, Arc<Slot>> for SlotAges {
    fn expire_after_create(&self, _: &String, slot: &Arc<Slot>, _: Instant) -> Option<Duration> {
        self.age(slot)
    }

    fn expire_after_update(
        &self,
        _: &String,
        slot: &Arc<Slot>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.age(slot)
    }
}

pub struct MokaAdapter {
    cache: Cache<String, Arc<Slot>, ahash::RandomState>,
}

impl Contender for MokaAdapter {
    type Ticket = Arc<Slot>;

    fn build(spec: &Spec) -> Self {
        let ages = SlotAges {
            completed: spec.completed_ttl.unwrap_or(COMPLETED_AGE),
        };
        MokaAdapter {
            cache: Cache::builder()
                .expire_after(ages)
                .build_with_hasher(ahash::RandomState::new()),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Arc<Slot>>> + Send {
        async move {
            if let Some(slot) = self.cache.get(key.id).await {
                return slot.take();
            }
            let entry = self
                .cache
                .entry_by_ref(key.id)
                .or_insert_with(async { Slot::claimed() })
                .await;
            if entry.is_fresh() {
                Claim::Won(entry.into_value())
            } else {
                entry.into_value().take()
            }
        }
    }

    fn complete<'a>(
        &'a self,
        key: Key<'a>,
        slot: Arc<Slot>,
        value: u64,
    ) -> impl Future<Output = bool> + Send {
        async move {
            let completed = slot.complete(CommandResult::new(value));
            // The update that gives the entry its Completed age.
            self.cache.insert(key.id.to_owned(), slot).await;
            completed
        }
    }

    fn status<'a>(&'a self, key: Key<'a>) -> impl Future<Output = CommandStatus> + Send {
        async move {
            self.cache
                .get(key.id)
                .await
                .map_or(CommandStatus::NotFound, |slot| slot.status())
        }
    }

    fn wait<'a>(
        &'a self,
        key: Key<'a>,
        registered: impl FnOnce() + Send + 'a,
    ) -> impl Future<Output = CommandStatus> + Send {
        async move {
            match self.cache.get(key.id).await {
                Some(slot) => slot.wait(registered).await,
                None => {
                    registered();
                    CommandStatus::NotFound
                }
            }
        }
    }

    /// LIMITATION: moka's entry count is an estimate that its housekeeping brings up to date,
    /// so it can lag the writes since the last housekeeping; the churn's bytes per entry for
    /// moka divide by it.
    fn present(&self) -> u64 {
        self.cache.entry_count()
    }

    fn maintain(&self) -> impl Future<Output = ()> + Send {
        self.cache.run_pending_tasks()
    }
}
