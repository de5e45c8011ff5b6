//! The lock-free table under [`MemoryStore`](crate::MemoryStore). All `unsafe` code of the
//! crate lives below this module.
//!
//! - [`word`]: the packed slot word and its bit layout.
//! - [`record`]: one allocation per key, holding the key bytes and its side-data cell.
//! - [`table`]: one open-addressing table and its probe.
//! - [`schedule`]: the hand-over of records to the expiry wheel, and who retires them.
//! - [`prefetch`]: starting a key's slot miss before the epoch is pinned.
//! - [`migrate`]: replacing a shard's table while others keep working.
//! - [`shard`]: the current table of a shard, the decide-then-CAS update loop, and migration.

pub(crate) mod migrate;
pub(crate) mod prefetch;
pub(crate) mod record;
pub(crate) mod schedule;
pub(crate) mod shard;
pub(crate) mod table;
pub(crate) mod word;
