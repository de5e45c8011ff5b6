//! quick_cache's `sync::Cache<String, Arc<Slot>>`, claiming through its placeholder guards.
//!
//! A claim calls `get_value_or_guard` with a zero timeout: a found slot is taken or reported;
//! an absent id hands this caller the placeholder guard, through which it inserts a fresh
//! InProgress slot; and a placeholder held by another caller at that instant means another
//! claim is inserting the id, which this caller reports as InProgress without blocking.
//!
//! The key is a `String` because quick_cache looks keys up through `ToOwned` (`str` owns as
//! `String`). quick_cache is a bounded cache: its weight capacity is set far beyond any run's
//! id count so that nothing is ever evicted (an eviction would forget an id and let a second
//! claim win, which the invariant checks would report). Its shard tables start empty and grow;
//! the item estimate only keeps the default shard count (quick_cache merges shards that would
//! hold fewer than 32 items) and sizes the ghost list, which only evictions fill.
//! Every hit clones the `Arc` out of the cache (quick_cache hands out values by clone).

use std::sync::Arc;
use std::time::Duration;

use ::quick_cache::UnitWeighter;
use ::quick_cache::sync::{Cache, DefaultLifecycle, GuardResult};
use idemstore::{CommandResult, CommandStatus};

use super::{Claim, Contender, Key, Slot, Spec};

type SlotCache = Cache<String, Arc<Slot>, UnitWeighter, ahash::RandomState>;

/// Items the cache is told to expect: enough for quick_cache to keep its default shards.
const ESTIMATED_ITEMS: usize = 1 << 16;

/// A weight capacity no run reaches (one unit per entry).
const NEVER_FULL: u64 = 1 << 40;

pub struct QuickCacheAdapter {
    cache: SlotCache,
}

impl Contender for QuickCacheAdapter {
    type Ticket = Arc<Slot>;

    fn build(_: &Spec) -> Self {
        QuickCacheAdapter {
            cache: Cache::with(
                ESTIMATED_ITEMS,
                NEVER_FULL,
                UnitWeighter,
                ahash::RandomState::new(),
                DefaultLifecycle::default(),
            ),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Arc<Slot>>> + Send {
        async move {
            match self.cache.get_value_or_guard(key.id, Some(Duration::ZERO)) {
                GuardResult::Value(slot) => slot.take(),
                GuardResult::Guard(placeholder) => {
                    let fresh = Slot::claimed();
                    if placeholder.insert(Arc::clone(&fresh)).is_err() {
                        panic!("quick_cache refused the placeholder insert of {}", key.id);
                    }
                    Claim::Won(fresh)
                }
                GuardResult::Timeout => Claim::Saw(CommandStatus::InProgress),
            }
        }
    }

    fn complete<'a>(
        &'a self,
        _: Key<'a>,
        slot: Arc<Slot>,
        value: u64,
    ) -> impl Future<Output = bool> + Send {
        async move { slot.complete(CommandResult::new(value)) }
    }

    fn status<'a>(&'a self, key: Key<'a>) -> impl Future<Output = CommandStatus> + Send {
        async move {
            self.cache
                .get(key.id)
                .map_or(CommandStatus::NotFound, |slot| slot.status())
        }
    }

    fn wait<'a>(
        &'a self,
        key: Key<'a>,
        registered: impl FnOnce() + Send + 'a,
    ) -> impl Future<Output = CommandStatus> + Send {
        async move {
            match self.cache.get(key.id) {
                Some(slot) => slot.wait(registered).await,
                None => {
                    registered();
                    CommandStatus::NotFound
                }
            }
        }
    }

    fn present(&self) -> u64 {
        self.cache.len() as u64
    }
}
