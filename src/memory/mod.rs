//! `MemoryStore`: the in-process backend, a set of lock-free shards keyed by command id.
//!
//! Every method here is synchronous and never blocks on another thread's progress, except
//! that a writer that runs into a shard migration helps it finish (see [`crate::raw`]). The
//! async [`IdempotencyStore`](crate::IdempotencyStore) implementation delegates to these
//! methods without holding anything across an `.await`.
//!
//! # Expiry as every operation sees it
//!
//! A word whose deadline has passed is treated as gone by every operation, before it decides
//! anything: reads report `NotFound`, and a write first removes the expired record (counted as
//! an expiry) and then decides on an absent id. The one exception is an InProgress record whose
//! lease lapsed in a store with [`LapsePolicy::Indeterminate`]: reads report it Indeterminate,
//! and the first write makes that so.

mod admin;
mod claims;
mod cleaner;
mod cleanup;
mod counters;
mod expiry;
mod now;
#[cfg(not(loom))]
mod trim;
// Waiting is async and sleeps on tokio's timers, which do not build under loom; the loom models
// check its wake-up protocol on the record itself (`Record::waiters` and `Record::wake`).
#[cfg(not(loom))]
mod wait;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crossbeam_utils::CachePadded;

use crate::claim::Stored;
use crate::clock::{Clock, SystemClock, millis};
use crate::raw::record::Record;
use crate::raw::schedule::ExpiryQueue;
use crate::raw::shard::Shard;
use crate::raw::word;
use crate::sync::epoch::{self, Guard};
use crate::{CommandResult, CommandStatus, Expiry, Failure, Fingerprint, LapsePolicy, StoreError};

use cleaner::Cleaner;
pub use cleaner::CleanerOptions;
pub(crate) use counters::StatusCounters;
use expiry::Expirer;
pub use expiry::ExpiryStep;
use now::Now;

/// Builds a [`MemoryStore`].
#[derive(Clone, Debug)]
pub struct MemoryStoreBuilder {
    shards: usize,
    capacity: usize,
    max_id_len: usize,
    expiry: Expiry,
    lapse: LapsePolicy,
    clock: Option<Arc<dyn Clock>>,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        MemoryStoreBuilder {
            shards: default_shards(),
            capacity: 0,
            max_id_len: 1024,
            expiry: Expiry::default(),
            lapse: LapsePolicy::default(),
            clock: None,
        }
    }
}

/// Enough shards that two threads rarely write the same one, and that one shard's migration
/// moves a small slice of the keys.
fn default_shards() -> usize {
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get());
    (threads * 32).next_power_of_two().clamp(64, 4096)
}

impl MemoryStoreBuilder {
    /// Number of shards (rounded up to a power of two, at least 1).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards.max(1).next_power_of_two().min(1 << 16);
        self
    }

    /// Expected number of live ids: tables start large enough to hold it without growing.
    pub fn capacity(mut self, ids: usize) -> Self {
        self.capacity = ids;
        self
    }

    /// Longest id accepted, in bytes (default 1024). Longer ids get [`StoreError::IdTooLong`].
    pub fn max_id_len(mut self, bytes: usize) -> Self {
        self.max_id_len = bytes.max(1);
        self
    }

    /// How long each status is remembered (default [`Expiry::default`]).
    pub fn expiry(mut self, expiry: Expiry) -> Self {
        self.expiry = expiry;
        self
    }

    /// What a lapsed lease turns into (default [`LapsePolicy::TakeOver`]).
    pub fn lapse_policy(mut self, lapse: LapsePolicy) -> Self {
        self.lapse = lapse;
        self
    }

    /// The clock deadlines are measured on (default [`SystemClock`]); tests inject a
    /// [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds a store with the background cleaner running (see [`CleanerOptions`]). Inside a
    /// tokio runtime the cleaner is a task, outside one a thread named `idemstore-cleaner`.
    pub fn build_with_cleaner(self, options: CleanerOptions) -> Arc<MemoryStore> {
        let store = Arc::new(self.build());
        let cleaner = Cleaner::start(&store, options);
        let _ = store.cleaner.set(cleaner);
        store
    }

    /// Builds a store with manual cleanup only: call [`MemoryStore::run_expiry`],
    /// [`MemoryStore::auto_cleanup`] and [`MemoryStore::compact`] yourself.
    pub fn build(self) -> MemoryStore {
        // An absurd hint must not overflow or allocate the machine away: beyond 2^24 ids
        // (about 730 MB of slots) the tables grow on demand instead.
        let hint = self.capacity.min(1 << 24);
        let per_shard = (hint / self.shards).saturating_mul(8) / 3;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock::new()));
        let revisit = self
            .expiry
            .shortest()
            .map_or(u64::MAX / 4, |age| millis(age).max(1));
        let expirer = Expirer {
            queue: ExpiryQueue::new(1),
            revisit,
        };
        let shards = (0..self.shards)
            .map(|_| CachePadded::new(Shard::new(per_shard)))
            .collect();
        tracing::info!(
            shards = self.shards,
            capacity = self.capacity,
            "memory store built"
        );
        MemoryStore {
            expirer,
            shards,
            shard_shift: 64 - self.shards.trailing_zeros(),
            hasher: id_hasher(),
            max_id_len: self.max_id_len,
            expiry: self.expiry,
            lapse: self.lapse,
            origin: clock.now_ms().saturating_sub(1),
            clock,
            counters: StatusCounters::new(),
            #[cfg(not(loom))]
            trimmer: trim::Trimmer::new(),
            cleaner: OnceLock::new(),
        }
    }
}

/// The hasher that places ids: random per store, so ids cannot be crafted to pile into one
/// probe run. Under loom the seeds are fixed instead, because every execution of a model must
/// visit the same slots for loom to replay the schedules it explores.
#[cfg(not(loom))]
fn id_hasher() -> ahash::RandomState {
    ahash::RandomState::new()
}

#[cfg(loom)]
fn id_hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(1, 2, 3, 4)
}

/// The lock-free in-process idempotency store.
///
/// ```
/// use idemstore::{ClaimOutcome, CommandResult, CommandStatus, MemoryStore};
///
/// let store = MemoryStore::new();
/// let ClaimOutcome::Acquired(ticket) = store.claim("order-17").unwrap() else { panic!() };
/// assert_eq!(store.claim("order-17").unwrap(), ClaimOutcome::Existing(CommandStatus::InProgress));
///
/// assert!(store.complete("order-17", ticket, CommandResult::new("shipped")).unwrap());
/// let result = store.result("order-17").unwrap().unwrap();
/// assert_eq!(*result.downcast::<&str>().unwrap(), "shipped");
/// ```
pub struct MemoryStore {
    /// The background cleaner, if the store was built with one. Dropping it stops it.
    cleaner: OnceLock<Cleaner>,
    /// Declared before `shards` so it drops first: it may hold dead records only it can reach,
    /// and reads the flags of live ones, which the shards free.
    expirer: Expirer,
    shards: Box<[CachePadded<Shard<Stored>>]>,
    /// `64 - log2(shards)`: the top bits of a hash pick the shard, so the low bits that pick
    /// the slot inside it stay independent of the choice.
    shard_shift: u32,
    hasher: ahash::RandomState,
    max_id_len: usize,
    expiry: Expiry,
    lapse: LapsePolicy,
    clock: Arc<dyn Clock>,
    /// The clock's reading when the store was built, less one: the store measures time from
    /// here (never 0), so a clock with a large origin (Unix milliseconds, say) still fits the
    /// slot word's forty-bit deadlines.
    origin: u64,
    counters: StatusCounters,
    /// Returns memory freed by expiry to the system from [`MemoryStore::compact`].
    #[cfg(not(loom))]
    trimmer: trim::Trimmer,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Where an id lives: its hash and its shard.
pub(crate) struct Located<'s> {
    hash: u64,
    shard: &'s Shard<Stored>,
}

impl Located<'_> {
    fn tag(&self) -> u64 {
        word::tag_for_hash(self.hash)
    }
}

impl MemoryStore {
    /// A store with default settings.
    pub fn new() -> Self {
        MemoryStoreBuilder::default().build()
    }

    /// A builder for a store with other settings.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// Stops the background cleaner, if one runs, and waits for its thread to end.
    pub fn stop_cleaner(&self) {
        if let Some(cleaner) = self.cleaner.get() {
            cleaner.stop();
        }
    }

    /// The expiry ages this store applies.
    pub fn expiry(&self) -> &Expiry {
        &self.expiry
    }

    fn locate_hash(&self, hash: u64) -> Located<'_> {
        let index = if self.shards.len() == 1 {
            0
        } else {
            (hash >> self.shard_shift) as usize
        };
        Located {
            hash,
            shard: &self.shards[index],
        }
    }

    fn locate(&self, id: &str) -> Result<Located<'_>, StoreError> {
        if id.is_empty() {
            return Err(StoreError::EmptyId);
        }
        if id.len() > self.max_id_len {
            return Err(StoreError::IdTooLong {
                len: id.len(),
                max: self.max_id_len,
            });
        }
        let hash = self.hasher.hash_one(id.as_bytes());
        let index = if self.shards.len() == 1 {
            0
        } else {
            (hash >> self.shard_shift) as usize
        };
        let shard = &self.shards[index];
        // Every caller pins next: start the slot's miss now so it overlaps the pin's fence.
        shard.prefetch(hash);
        Ok(Located { hash, shard })
    }

    /// Milliseconds since the store was built, plus one.
    fn now(&self) -> u64 {
        self.clock.now_ms().saturating_sub(self.origin).max(1)
    }

    /// An upper bound of [`now`](Self::now) that is cheaper to read, if the clock has one
    /// (see [`Now`]).
    fn now_upper_bound(&self) -> Option<u64> {
        let bound = self.clock.now_ms_upper_bound()?;
        Some(bound.saturating_sub(self.origin).max(1))
    }

    /// True if the word's deadline has passed at `now`.
    fn expired(word: u64, now: &Now<'_>) -> bool {
        now.reached(word::deadline_of(word))
    }

    /// True if the word's deadline has passed at the precise time `now`.
    fn expired_at(word: u64, now: u64) -> bool {
        let deadline = word::deadline_of(word);
        deadline != 0 && now >= deadline
    }

    /// The status a reader sees in `word` at `now`.
    fn visible_status(&self, word: u64, now: &Now<'_>) -> CommandStatus {
        let status = word::status_of(word);
        if !Self::expired(word, now) {
            status
        } else if status == CommandStatus::InProgress && self.lapse == LapsePolicy::Indeterminate {
            CommandStatus::Indeterminate
        } else {
            CommandStatus::NotFound
        }
    }

    /// Reads the id's record and its word, if it is visible (not expired) now.
    fn read<'g>(
        &'g self,
        at: &Located<'g>,
        id: &str,
        now: &Now<'_>,
        guard: &'g Guard,
    ) -> Option<(Record<'g, Stored>, u64, CommandStatus)> {
        let (record, word) = at.shard.read(at.hash, id.as_bytes(), guard)?;
        match self.visible_status(word, now) {
            CommandStatus::NotFound => None,
            status => Some((record, word, status)),
        }
    }

    /// The id's status.
    pub fn status(&self, id: &str) -> Result<CommandStatus, StoreError> {
        let at = self.locate(id)?;
        let now = Now::new(self);
        let guard = epoch::pin();
        Ok(self
            .read(&at, id, &now, &guard)
            .map_or(CommandStatus::NotFound, |(_, _, s)| s))
    }

    /// The id's result, if it is Completed.
    pub fn result(&self, id: &str) -> Result<Option<CommandResult>, StoreError> {
        let at = self.locate(id)?;
        let now = Now::new(self);
        let guard = epoch::pin();
        Ok(self.read_result(&at, id, &now, &guard))
    }

    fn read_result(
        &self,
        at: &Located<'_>,
        id: &str,
        now: &Now<'_>,
        guard: &Guard,
    ) -> Option<CommandResult> {
        loop {
            let (record, word, status) = self.read(at, id, now, guard)?;
            if status != CommandStatus::Completed {
                return None;
            }
            if let Some(Stored::Result(result)) = stored_of(record, word, guard) {
                return Some(result.clone());
            }
            // The word said Completed at a generation whose cell a newer owner has since
            // replaced (an override moved the record on), or the record was removed and its
            // cell discarded: read the newer state. A word that did not move would mean a
            // Completed status without its result, which no path writes; never spin on it.
            match self.read(at, id, now, guard) {
                Some((_, again, _)) if again != word => continue,
                Some(_) => {
                    debug_assert!(false, "Completed at generation {} without its result", {
                        word::generation_of(word)
                    });
                    return None;
                }
                None => return None,
            }
        }
    }

    /// The failure recorded by the id's latest run, if the id is Failed now. `None` when it is
    /// not Failed, when an override set the status without recording a failure, or when
    /// `fingerprint` conflicts with the one the record was created with.
    pub fn failure(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
    ) -> Result<Option<Failure>, StoreError> {
        let at = self.locate(id)?;
        let fingerprint = Fingerprint::raw(fingerprint);
        let now = Now::new(self);
        let guard = epoch::pin();
        loop {
            let Some((record, word, CommandStatus::Failed)) = self.read(&at, id, &now, &guard)
            else {
                return Ok(None);
            };
            let theirs = record.fingerprint();
            if fingerprint != 0 && theirs != 0 && theirs != fingerprint {
                return Ok(None);
            }
            if let Some(Stored::Failure(failure)) = stored_of(record, word, &guard) {
                return Ok(Some(failure.clone()));
            }
            // The cell belongs to another generation. If the word moved on meanwhile, a newer
            // owner wrote it: read the newer state. If not, this Failed status was set by an
            // override that records no failure.
            match self.read(&at, id, &now, &guard) {
                Some((_, again, _)) if again != word => continue,
                _ => return Ok(None),
            }
        }
    }

    /// Statuses of many ids. Repeated ids are fine; every id appears in the answer.
    pub fn statuses<I, S>(&self, ids: I) -> Result<HashMap<String, CommandStatus>, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.batch_read(ids, |at, id, now, guard| {
            self.read(at, id, now, guard)
                .map_or(CommandStatus::NotFound, |r| r.2)
        })
    }

    /// Results of many ids: `None` for ids that are not Completed. Every id appears.
    pub fn results<I, S>(
        &self,
        ids: I,
    ) -> Result<HashMap<String, Option<CommandResult>>, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.batch_read(ids, |at, id, now, guard| {
            self.read_result(at, id, now, guard)
        })
    }

    /// Reads every id at one instant and under one guard. An invalid id fails the whole batch
    /// with its typed error.
    fn batch_read<I, S, T>(
        &self,
        ids: I,
        read: impl Fn(&Located<'_>, &str, &Now<'_>, &Guard) -> T,
    ) -> Result<HashMap<String, T>, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let now = Now::new(self);
        let guard = epoch::pin();
        let mut answer = HashMap::new();
        for id in ids {
            let id = id.as_ref();
            let at = self.locate(id)?;
            answer.insert(id.to_owned(), read(&at, id, &now, &guard));
        }
        Ok(answer)
    }

    /// Records physically present, summed over shards (exact when no write is in flight).
    /// Expired records count until they are removed.
    pub fn len(&self) -> usize {
        let guard = epoch::pin();
        self.shards
            .iter()
            .map(|shard| shard.occupancy(&guard).1)
            .sum()
    }

    /// True when no record is present.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slots allocated across all shards' current tables (16 bytes each).
    pub fn slot_capacity(&self) -> usize {
        let guard = epoch::pin();
        self.shards
            .iter()
            .map(|shard| shard.occupancy(&guard).0)
            .sum()
    }

    /// Tombstones awaiting the next rebuild of their table.
    pub fn removed_slots(&self) -> usize {
        let guard = epoch::pin();
        self.shards
            .iter()
            .map(|shard| shard.occupancy(&guard).2)
            .sum()
    }

    /// Under [`LapsePolicy::Indeterminate`], the word an expired InProgress `word` becomes.
    fn lapse_to_indeterminate(&self, word: u64) -> Option<u64> {
        let lapsed = word::status_of(word) == CommandStatus::InProgress
            && self.lapse == LapsePolicy::Indeterminate;
        // The owner is fenced by the status change itself (an ending needs InProgress), so
        // the generation stays.
        lapsed.then(|| {
            let (tag, generation) = (word::tag_of(word), word::generation_of(word));
            word::pack(CommandStatus::Indeterminate, tag, generation, 0)
        })
    }
}

/// The cell of the word's generation, if the cell still belongs to it.
fn stored_of<'g>(record: Record<'g, Stored>, word: u64, guard: &'g Guard) -> Option<&'g Stored> {
    record
        .cell(guard)
        .filter(|cell| cell.generation == word::generation_of(word))
        .map(|cell| &cell.value)
}
