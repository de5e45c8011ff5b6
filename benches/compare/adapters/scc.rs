//! scc's `HashMap<Box<str>, Arc<Slot>>` through its synchronous API.
//!
//! A claim reads the id with `read_sync` (shared bucket access, no key allocation); on a miss
//! it takes the bucket through `entry_sync` and inserts a fresh InProgress slot if the id is
//! still absent. The entry's bucket lock is released before the future returns.

use std::sync::Arc;

use ::scc::hash_map::Entry;
use idemstore::{CommandResult, CommandStatus};

use super::{Claim, Contender, Key, Slot, Spec};

pub struct SccAdapter {
    map: ::scc::HashMap<Box<str>, Arc<Slot>, ahash::RandomState>,
}

impl SccAdapter {
    fn find(&self, id: &str) -> Option<Arc<Slot>> {
        self.map.read_sync(id, |_, slot| Arc::clone(slot))
    }
}

impl Contender for SccAdapter {
    type Ticket = Arc<Slot>;

    fn build(_: &Spec) -> Self {
        SccAdapter {
            map: ::scc::HashMap::with_hasher(ahash::RandomState::new()),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Arc<Slot>>> + Send {
        async move {
            if let Some(claim) = self.map.read_sync(key.id, |_, slot| slot.take()) {
                return claim;
            }
            match self.map.entry_sync(Box::from(key.id)) {
                Entry::Occupied(occupied) => occupied.get().take(),
                Entry::Vacant(vacant) => {
                    let fresh = Slot::claimed();
                    vacant.insert_entry(Arc::clone(&fresh));
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
                .read_sync(key.id, |_, slot| slot.status())
                .unwrap_or(CommandStatus::NotFound)
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
