//! Floor: one `parking_lot::Mutex` around one hashbrown table of `(Box<str>, Arc<Slot>)`.
//!
//! The simplest correct store: every call takes the one lock. The table is hashbrown's
//! `HashTable` (the table under `hashbrown::HashMap`, without its built-in hasher), so each
//! id is hashed once, outside the lock, with the same `ahash::RandomState` as the maps; a
//! floor made slower than it needs to be would flatter everyone above it. The lock is never
//! held across an `.await` (every method answers in its first poll).

use std::sync::Arc;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use idemstore::{CommandResult, CommandStatus};
use parking_lot::Mutex;

use super::{Claim, Contender, Key, Slot, Spec};

pub struct MutexAdapter {
    table: Mutex<HashTable<(Box<str>, Arc<Slot>)>>,
    hasher: ahash::RandomState,
}

impl MutexAdapter {
    fn find(&self, id: &str) -> Option<Arc<Slot>> {
        let hash = self.hasher.hash_one(id);
        let table = self.table.lock();
        table
            .find(hash, |(key, _)| **key == *id)
            .map(|(_, slot)| Arc::clone(slot))
    }
}

impl Contender for MutexAdapter {
    type Ticket = Arc<Slot>;

    fn build(_: &Spec) -> Self {
        MutexAdapter {
            table: Mutex::new(HashTable::new()),
            hasher: ahash::RandomState::new(),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Arc<Slot>>> + Send {
        async move {
            let hash = self.hasher.hash_one(key.id);
            let rehash = |(key, _): &(Box<str>, Arc<Slot>)| self.hasher.hash_one(&**key);
            let mut table = self.table.lock();
            match table.entry(hash, |(stored, _)| **stored == *key.id, rehash) {
                Entry::Occupied(occupied) => occupied.get().1.take(),
                Entry::Vacant(vacant) => {
                    let fresh = Slot::claimed();
                    vacant.insert((Box::from(key.id), Arc::clone(&fresh)));
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
            self.find(key.id)
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
        self.table.lock().len() as u64
    }
}
