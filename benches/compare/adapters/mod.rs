//! The contenders, each behind a thin adapter with one set of semantics.
//!
//! # Semantics every adapter keeps
//!
//! - `claim(id)`: if the id is absent, or in a claimable status, the caller wins and the id is
//!   InProgress; otherwise the caller sees the status that stands.
//! - `complete(id, ticket, value)`: the winner only. Stores a small result, then the status
//!   becomes Completed, then every waiter is woken.
//! - `status(id)`: the status that stands, NotFound if none.
//! - `wait(id)`: returns once the id is no longer InProgress, with its status then.
//!
//! The peers hold one shared [`Slot`] per id (an atomic status, the result and a tokio
//! `Notify`) behind an `Arc`, the shape a service writes to hand an entry out beyond a map
//! guard: a claim inserts a fresh InProgress slot if the id is absent and the winner keeps the
//! `Arc` as its ticket, so completing needs no second lookup. idemstore's ticket is its own
//! `ClaimTicket` and its complete looks the id up again (that is its API). The hardware bound
//! keeps neither keys nor results (see [`bound`]).
//!
//! # No guard across `.await`
//!
//! Methods are async so that moka's `future::Cache` can run on the same harness. Every other
//! adapter answers inside the future's first poll; moka's holds only `Arc`s across its awaits.
//! `wait` calls its `registered` callback once the waiter can no longer miss a wake-up (its
//! `Notify` is enabled), which is how the herd workload knows every waiter is in place.

pub mod bound;
pub mod dashmap;
pub mod idemstore;
pub mod moka;
pub mod mutex;
pub mod papaya;
pub mod quick_cache;
pub mod scc;
pub mod sharded;
pub mod slot;

use std::time::Duration;

use ::idemstore::CommandStatus;

pub use slot::Slot;

/// An id as the workloads hand it over: the id, and the hash the hardware bound uses.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    pub id: &'a str,
    pub hash: u64,
}

/// What a claim found.
pub enum Claim<T> {
    /// The caller owns the id and must complete it with this ticket.
    Won(T),
    /// Somebody else's claim stands, with this status.
    Saw(CommandStatus),
}

/// How to build one contender for one run.
#[derive(Clone, Copy)]
pub struct Spec {
    pub kind: Kind,
    /// The Completed age for contenders with expiry (`None`: idemstore's default, 24 h).
    pub completed_ttl: Option<Duration>,
    /// How many ids the run holds. Only the hardware bound reads it (it is pre-sized by
    /// definition); every real store starts empty and grows.
    pub ids_hint: usize,
}

/// A store under test. Futures are `Send` so that waiters can be spawned tasks.
pub trait Contender: Send + Sync + Sized + 'static {
    type Ticket: Send + 'static;

    fn build(spec: &Spec) -> Self;

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<Self::Ticket>> + Send;

    /// True if the claim was still the caller's and is now Completed.
    fn complete<'a>(
        &'a self,
        key: Key<'a>,
        ticket: Self::Ticket,
        value: u64,
    ) -> impl Future<Output = bool> + Send;

    fn status<'a>(&'a self, key: Key<'a>) -> impl Future<Output = CommandStatus> + Send;

    fn wait<'a>(
        &'a self,
        key: Key<'a>,
        registered: impl FnOnce() + Send + 'a,
    ) -> impl Future<Output = CommandStatus> + Send;

    /// Entries physically held now, expired ones not yet removed included.
    fn present(&self) -> u64;

    /// The periodic upkeep a user of this store runs (idemstore's expiry steps and compaction,
    /// moka's pending tasks). A store that needs none does nothing here.
    fn maintain(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Which contender, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Kind {
    /// `MemoryStore`, default settings (expiry on).
    #[value(name = "idemstore")]
    Idemstore,
    /// `MemoryStore` with `Expiry::never()`.
    #[value(name = "idemstore-noexpiry")]
    IdemstoreNoExpiry,
    #[value(name = "papaya")]
    Papaya,
    #[value(name = "scc")]
    Scc,
    #[value(name = "dashmap")]
    Dashmap,
    #[value(name = "quick_cache")]
    QuickCache,
    #[value(name = "moka")]
    Moka,
    /// Floor: one `parking_lot::Mutex` around one hashbrown table.
    #[value(name = "mutex")]
    Mutex,
    /// Floor: shards of `parking_lot::RwLock` around hashbrown tables.
    #[value(name = "sharded")]
    Sharded,
    /// The hardware bound: atomic words, no keys.
    #[value(name = "bound")]
    Bound,
}

/// Where a contender stands in the ratios.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// idemstore itself.
    Subject,
    /// A store a user could pick instead (the floors included).
    Peer,
    /// The hardware bound: never a peer, the denominator of "fraction of bound".
    Bound,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Idemstore,
        Kind::IdemstoreNoExpiry,
        Kind::Papaya,
        Kind::Scc,
        Kind::Dashmap,
        Kind::QuickCache,
        Kind::Moka,
        Kind::Mutex,
        Kind::Sharded,
        Kind::Bound,
    ];

    /// The name on the command line.
    pub fn cli_name(self) -> &'static str {
        match self {
            Kind::Idemstore => "idemstore",
            Kind::IdemstoreNoExpiry => "idemstore-noexpiry",
            Kind::Papaya => "papaya",
            Kind::Scc => "scc",
            Kind::Dashmap => "dashmap",
            Kind::QuickCache => "quick_cache",
            Kind::Moka => "moka",
            Kind::Mutex => "mutex",
            Kind::Sharded => "sharded",
            Kind::Bound => "bound",
        }
    }

    /// The name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Idemstore => "idemstore",
            Kind::IdemstoreNoExpiry => "idemstore (expiry off)",
            Kind::Papaya => "papaya",
            Kind::Scc => "scc",
            Kind::Dashmap => "dashmap",
            Kind::QuickCache => "quick_cache",
            Kind::Moka => "moka (TTL)",
            Kind::Mutex => "floor: Mutex<HashMap>",
            Kind::Sharded => "floor: sharded RwLock",
            Kind::Bound => "hardware bound",
        }
    }

    pub fn role(self) -> Role {
        match self {
            Kind::Idemstore | Kind::IdemstoreNoExpiry => Role::Subject,
            Kind::Bound => Role::Bound,
            _ => Role::Peer,
        }
    }

    /// True for contenders that expire entries by age.
    pub fn has_ttl(self) -> bool {
        matches!(self, Kind::Idemstore | Kind::Moka)
    }

    /// Calls `visitor` with this contender's adapter type.
    pub fn dispatch<V: Visitor>(self, visitor: V) -> V::Out {
        match self {
            Kind::Idemstore | Kind::IdemstoreNoExpiry => {
                visitor.visit::<idemstore::IdemstoreAdapter>()
            }
            Kind::Papaya => visitor.visit::<papaya::PapayaAdapter>(),
            Kind::Scc => visitor.visit::<scc::SccAdapter>(),
            Kind::Dashmap => visitor.visit::<dashmap::DashmapAdapter>(),
            Kind::QuickCache => visitor.visit::<quick_cache::QuickCacheAdapter>(),
            Kind::Moka => visitor.visit::<moka::MokaAdapter>(),
            Kind::Mutex => visitor.visit::<mutex::MutexAdapter>(),
            Kind::Sharded => visitor.visit::<sharded::ShardedAdapter>(),
            Kind::Bound => visitor.visit::<bound::BoundAdapter>(),
        }
    }
}

/// Code generic over the adapter type, run by [`Kind::dispatch`].
/// Rounds of upkeep before memory is measured "after upkeep": what a background cleaner does
/// in a few seconds. More than one, because memory idemstore hands to its epoch-based
/// reclamation is freed only once the epoch has moved on past every thread that could read it.
pub const UPKEEP_ROUNDS: usize = 3;

/// Runs `UPKEEP_ROUNDS` rounds of the contender's upkeep.
pub async fn upkeep<C: Contender>(store: &C) {
    for _ in 0..UPKEEP_ROUNDS {
        store.maintain().await;
    }
}

pub trait Visitor {
    type Out;
    fn visit<C: Contender>(self) -> Self::Out;
}

/// Decodes a status stored as `CommandStatus as u8`.
pub fn status_from_u8(raw: u8) -> CommandStatus {
    CommandStatus::ALL[usize::from(raw)]
}
