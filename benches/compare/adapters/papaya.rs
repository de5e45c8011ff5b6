//! papaya's lock-free `HashMap<Box<str>, Arc<Slot>>`.
//!
//! A claim pins the map once, looks the id up, and on a miss inserts a fresh InProgress slot
//! with `try_insert`; losing that race means another claim's slot stands. `try_insert`, not
//! `try_insert_with`: in papaya 0.2.5 the closure variants go through `compute`, which does
//! not help an incremental resize along, so a map grown only through them keeps unfinished
//! resizes and every later lookup walks the chain of tables. The pin is dropped before the
//! future returns (every method answers in its first poll).

use std::sync::Arc;

use idemstore::{CommandResult, CommandStatus};

use super::{Claim, Contender, Key, Slot, Spec};

pub struct PapayaAdapter {
    map: ::papaya::HashMap<Box<str>, Arc<Slot>, ahash::RandomState>,
}

impl PapayaAdapter {
    fn find(&self, id: &str) -> Option<Arc<Slot>> {
        self.map.pin().get(id).cloned()
    }
}

impl Contender for PapayaAdapter {
    type Ticket = Arc<Slot>;

    fn build(_: &Spec) -> Self {
        PapayaAdapter {
            map: ::papaya::HashMap::builder()
                .hasher(ahash::RandomState::new())
                .build(),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Arc<Slot>>> + Send {
        async move {
            let map = self.map.pin();
            if let Some(slot) = map.get(key.id) {
                return slot.take();
            }
            let fresh = Slot::claimed();
            match map.try_insert(Box::from(key.id), Arc::clone(&fresh)) {
                Ok(_) => Claim::Won(fresh),
                Err(occupied) => occupied.current.take(),
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
                .pin()
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
