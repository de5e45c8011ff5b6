//! The lock-free table under [`MemoryStore`](crate::MemoryStore). All `unsafe` code of the
//! crate lives below this module.
//!
//! - [`word`]: the packed slot word and its bit layout.
//! - [`record`]: one allocation per key, holding the key bytes and its side-data cell.
//! - [`table`]: one open-addressing table and its probe.
//! - [`shard`]: the current table of a shard, the decide-then-CAS update loop, and migration.

pub(crate) mod record;
pub(crate) mod shard;
pub(crate) mod table;
pub(crate) mod word;
