//! dashmap's `DashMap<Box<str>, Arc<Slot>>` (default shard count), through its entry API.
//!
//! A claim reads the id with `get` first (a shard read lock, no key allocation); on a miss it
//! takes the shard's write lock through `entry` and inserts a fresh InProgress slot if the id
//! is still absent. `entry` needs an owned key, so going to it first would allocate a key on
//! every duplicate. No shard guard outlives the call.

use std::sync::Arc;

use ::dashmap::mapref::entry::Entry;
use idemstore::{CommandResult, CommandStatus};

use super::{Claim, Contender, Key, Slot, Spec};

pub struct DashmapAdapter {
    map: ::dashmap::DashMap<Box<str>, Arc<Slot>, ahash::RandomState>,
}

impl DashmapAdapter {
    fn find(&self, id: &str) -> Option<Arc<Slot>> {
        self.map.get(id).map(|slot| Arc::clone(&slot))
    }
}

impl Contender for DashmapAdapter {
    type Ticket = Arc<Slot>;

    fn build(_: &Spec) -> Self {
        DashmapAdapter {
            map: ::dashmap::DashMap::with_hasher(ahash::RandomState::new()),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Arc<Slot>>> + Send {
        async move {
            if let Some(slot) = self.map.get(key.id) {
                return slot.take();
            }
            match self.map.entry(Box::from(key.id)) {
                Entry::Occupied(occupied) => occupied.get().take(),
                Entry::Vacant(vacant) => {
                    let fresh = Slot::claimed();
                    vacant.insert(Arc::clone(&fresh));
                    Claim::Won(fresh)
                }
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
            self.map
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
            match self.find(key.id) {
                Some(slot) => slot.wait(registered).await,
                None => {
                    registered();
                    CommandStatus::NotFound
                }
            }
        }
    }

    fn present(&self) -> u64 {
        self.map.len() as u64
    }
}
