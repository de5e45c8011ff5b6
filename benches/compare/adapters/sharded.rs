//! Floor: [`SHARDS`] shards, each a `parking_lot::RwLock` around a hashbrown table of
//! `(Box<str>, Arc<Slot>)`.
//!
//! The textbook concurrent map: the top bits of the id's hash pick a shard; a claim looks the
//! id up under the shard's read lock and, on a miss, takes the write lock and inserts a fresh
//! InProgress slot if the id is still absent. Each id is hashed once (hashbrown's `HashTable`
//! takes the hash from the caller), with the same `ahash::RandomState` as the maps. No lock is
//! held across an `.await` (every method answers in its first poll).

use std::sync::Arc;

use crossbeam_utils::CachePadded;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use idemstore::{CommandResult, CommandStatus};
use parking_lot::RwLock;

use super::{Claim, Contender, Key, Slot, Spec};

/// Shards: idemstore's default count on a machine of up to two cores, so that the two
/// designs split the keys equally finely.
pub const SHARDS: usize = 64;

type Table = HashTable<(Box<str>, Arc<Slot>)>;

pub struct ShardedAdapter {
    shards: Box<[CachePadded<RwLock<Table>>]>,
    hasher: ahash::RandomState,
}

impl ShardedAdapter {
    fn locate(&self, id: &str) -> (u64, &RwLock<Table>) {
        let hash = self.hasher.hash_one(id);
        let shard = (hash >> (64 - SHARDS.trailing_zeros())) as usize;
        (hash, &self.shards[shard])
    }

    fn find(&self, id: &str) -> Option<Arc<Slot>> {
        let (hash, shard) = self.locate(id);
        let table = shard.read();
        table
            .find(hash, |(key, _)| **key == *id)
            .map(|(_, slot)| Arc::clone(slot))
    }
}

impl Contender for ShardedAdapter {
    type Ticket = Arc<Slot>;

    fn build(_: &Spec) -> Self {
        ShardedAdapter {
            shards: (0..SHARDS)
                .map(|_| CachePadded::new(RwLock::new(HashTable::new())))
                .collect(),
            hasher: ahash::RandomState::new(),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Arc<Slot>>> + Send {
        async move {
            let (hash, shard) = self.locate(key.id);
            let is_ours = |(stored, _): &(Box<str>, Arc<Slot>)| **stored == *key.id;
            if let Some((_, slot)) = shard.read().find(hash, is_ours) {
                return slot.take();
            }
            let rehash = |(key, _): &(Box<str>, Arc<Slot>)| self.hasher.hash_one(&**key);
            let mut table = shard.write();
            match table.entry(hash, is_ours, rehash) {
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
        self.shards
            .iter()
            .map(|shard| shard.read().len() as u64)
            .sum()
    }
}
