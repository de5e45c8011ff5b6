//! The delivery stream a replay works through, whichever source produced it.
//!
//! Command ids are interned: each distinct id gets a dense number in order of its first
//! delivery, so the replay's side-effect ledger and checks are plain vectors indexed by that
//! number, and a delivery is four bytes however long its id is.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::path::PathBuf;

use crate::input::TraceFormat;

/// Deliveries in order, each naming one command id.
pub struct Stream {
    /// Each distinct command id, indexed by its dense number.
    pub ids: Vec<Box<str>>,
    /// The deliveries in arrival order, as dense id numbers.
    pub deliveries: Vec<u32>,
    /// Where the stream came from, for the report.
    pub source: Source,
}

impl Stream {
    /// Deliveries that repeat an id already delivered.
    pub fn duplicates(&self) -> usize {
        self.deliveries.len() - self.ids.len()
    }
}

/// Where a stream came from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A recorded trace file.
    Trace {
        /// The file as given on the command line.
        path: PathBuf,
        /// How it was decoded.
        format: TraceFormat,
    },
    /// The built-in at-least-once generator.
    Synthetic {
        /// Share of deliveries that are redeliveries, as asked for.
        duplicate_share: f64,
        /// Longest distance, in deliveries, between a delivery and its redelivery.
        redelivery_distance: u32,
    },
}

/// Builds a [`Stream`] from keys of any kind, numbering each distinct key on first sight.
pub struct StreamBuilder<K> {
    numbers: HashMap<K, u32>,
    ids: Vec<Box<str>>,
    deliveries: Vec<u32>,
}

/// The most distinct ids a stream may hold: their numbers must fit a `u32`.
pub const MAX_IDS: u64 = u32::MAX as u64;

/// The longest command id, in bytes: the memory store's default, which `backend` sets
/// explicitly so the two cannot drift apart. A trace id longer than this is refused while the
/// trace is read, not discovered as a store error after the replay.
pub const MAX_ID_BYTES: usize = 1024;

impl<K: Hash + Eq> StreamBuilder<K> {
    /// A builder expecting about `deliveries` deliveries.
    pub fn with_capacity(deliveries: usize) -> Self {
        StreamBuilder {
            numbers: HashMap::new(),
            ids: Vec::new(),
            deliveries: Vec::with_capacity(deliveries),
        }
    }

    /// Appends a delivery of `key`; `id_of` spells the command id the first time the key is
    /// seen. Returns false, appending nothing, when the key would be one id too many.
    pub fn push(&mut self, key: K, id_of: impl FnOnce(&K) -> Box<str>) -> bool {
        let next = self.ids.len();
        let number = match self.numbers.entry(key) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(_) if next as u64 >= MAX_IDS => return false,
            Entry::Vacant(new) => {
                self.ids.push(id_of(new.key()));
                *new.insert(next as u32)
            }
        };
        self.deliveries.push(number);
        true
    }

    /// Deliveries appended so far.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.deliveries.len()
    }

    /// The finished stream.
    pub fn finish(self, source: Source) -> Stream {
        Stream {
            ids: self.ids,
            deliveries: self.deliveries,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_numbered_in_order_of_first_delivery() {
        let mut builder = StreamBuilder::with_capacity(4);

        for key in [7_i64, 3, 7, 9] {
            assert!(builder.push(key, |k| k.to_string().into()));
        }
        let stream = builder.finish(Source::Synthetic {
            duplicate_share: 0.0,
            redelivery_distance: 1,
        });

        assert_eq!(
            stream.ids,
            ["7".into(), "3".into(), "9".into()] as [Box<str>; 3]
        );
        assert_eq!(stream.deliveries, [0, 1, 0, 2]);
        assert_eq!(stream.duplicates(), 1);
    }
}
