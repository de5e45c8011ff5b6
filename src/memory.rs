//! `MemoryStore`: the in-process backend, a set of lock-free shards keyed by command id.
//!
//! Every method here is synchronous and never blocks on another thread's progress, except
//! that a writer that runs into a shard migration helps it finish (see [`crate::raw`]). The
//! async [`IdempotencyStore`](crate::IdempotencyStore) implementation delegates to these
//! methods without holding anything across an `.await`.
//!
//! # Claims and fencing
//!
//! A successful [`MemoryStore::claim`] returns a [`ClaimTicket`] naming the record's
//! incarnation (unique per record ever allocated) and the generation the claim created.
//! [`complete`](MemoryStore::complete), [`fail`](MemoryStore::fail) and
//! [`release`](MemoryStore::release) succeed only while the record still shows that exact
//! claim, so an owner that was overtaken (by a removal, an override, or a later claim) can
//! never change the newer owner's record.

use std::collections::HashMap;

use crossbeam_utils::CachePadded;

use crate::raw::record::Record;
use crate::raw::shard::{Current, Decision, Shard};
use crate::raw::word;
use crate::sync::Ordering;
use crate::sync::epoch;
use crate::{CommandResult, CommandStatus, StoreError, transition_allowed};

/// Proof of a successful claim: which record, and which generation of it, the caller owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimTicket {
    /// The record the claim was made on.
    pub incarnation: u64,
    /// The generation the claim moved the record to.
    pub generation: u64,
}

/// What a claim found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The caller now owns the command and must complete, fail or release it.
    Acquired(ClaimTicket),
    /// Somebody else's record stands: the command is running, done, or indeterminate.
    Existing(CommandStatus),
}

impl ClaimOutcome {
    /// The ticket, if the claim was acquired.
    pub fn ticket(self) -> Option<ClaimTicket> {
        match self {
            ClaimOutcome::Acquired(ticket) => Some(ticket),
            ClaimOutcome::Existing(_) => None,
        }
    }
}

/// Builds a [`MemoryStore`].
#[derive(Clone, Debug)]
pub struct MemoryStoreBuilder {
    shards: usize,
    capacity: usize,
    max_id_len: usize,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        MemoryStoreBuilder {
            shards: default_shards(),
            capacity: 0,
            max_id_len: 1024,
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

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        let per_shard = (self.capacity / self.shards) * 8 / 3;
        let shards = (0..self.shards)
            .map(|_| CachePadded::new(Shard::new(per_shard)))
            .collect();
        tracing::info!(
            shards = self.shards,
            capacity = self.capacity,
            "memory store built"
        );
        MemoryStore {
            shards,
            shard_shift: 64 - self.shards.trailing_zeros(),
            hasher: ahash::RandomState::new(),
            max_id_len: self.max_id_len,
        }
    }
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
    shards: Box<[CachePadded<Shard<CommandResult>>]>,
    /// `64 - log2(shards)`: the top bits of a hash pick the shard, so the low bits that pick
    /// the slot inside it stay independent of the choice.
    shard_shift: u32,
    hasher: ahash::RandomState,
    max_id_len: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Where an id lives: its hash and its shard.
struct Located<'s> {
    hash: u64,
    shard: &'s Shard<CommandResult>,
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
        Ok(Located {
            hash,
            shard: &self.shards[index],
        })
    }

    /// The id's status.
    pub fn status(&self, id: &str) -> Result<CommandStatus, StoreError> {
        let at = self.locate(id)?;
        let guard = epoch::pin();
        Ok(at
            .shard
            .read(at.hash, id.as_bytes(), &guard)
            .map_or(CommandStatus::NotFound, |(_, word)| word::status_of(word)))
    }

    /// The id's result, if it is Completed.
    pub fn result(&self, id: &str) -> Result<Option<CommandResult>, StoreError> {
        let at = self.locate(id)?;
        let guard = epoch::pin();
        Ok(read_result(&at, id, &guard))
    }

    /// Registers the id as NotStarted if it has no record. Returns false if it had one.
    pub fn register(&self, id: &str) -> Result<bool, StoreError> {
        let tag = self.tag(id)?;
        self.update(id, |current| match current {
            Current::Absent => {
                Decision::Set(word::pack(CommandStatus::NotStarted, tag, 0, 0), true)
            }
            Current::Live { .. } => Decision::Done(false),
        })
    }

    /// Claims the id: NotFound, NotStarted and Failed become InProgress, owned by the caller.
    pub fn claim(&self, id: &str) -> Result<ClaimOutcome, StoreError> {
        let at = self.locate(id)?;
        let tag = word::tag_for_hash(at.hash);
        let guard = epoch::pin();
        let (outcome, inserted) = at.shard.update(at.hash, id.as_bytes(), &guard, |current| {
            match current {
                // The new record's incarnation is known once it exists: see below.
                Current::Absent => {
                    Decision::Set(word::pack(CommandStatus::InProgress, tag, 0, 0), None)
                }
                Current::Live { record, word, .. } => {
                    let status = word::status_of(word);
                    if !status.is_claimable() {
                        return Decision::Done(Some(ClaimOutcome::Existing(status)));
                    }
                    let generation = word::next_generation(word::generation_of(word));
                    let ticket = ClaimTicket {
                        incarnation: record.incarnation(),
                        generation,
                    };
                    Decision::Set(
                        word::pack(CommandStatus::InProgress, tag, generation, 0),
                        Some(ClaimOutcome::Acquired(ticket)),
                    )
                }
            }
        });
        Ok(match (outcome, inserted) {
            (Some(outcome), _) => outcome,
            (None, Some(record)) => ClaimOutcome::Acquired(ClaimTicket {
                incarnation: record.incarnation(),
                generation: 0,
            }),
            (None, None) => unreachable!("an insert decision that stuck always reports its record"),
        })
    }

    /// Stores the result and marks the claim Completed, in one step as any reader sees it.
    /// Returns false, changing nothing, if the ticket is stale.
    pub fn complete(
        &self,
        id: &str,
        ticket: ClaimTicket,
        result: CommandResult,
    ) -> Result<bool, StoreError> {
        let mut result = Some(result);
        let guard = epoch::pin();
        let at = self.locate(id)?;
        let (completed, _) = at.shard.update(at.hash, id.as_bytes(), &guard, |current| {
            let Current::Live {
                record,
                word,
                slot_word,
            } = current
            else {
                return Decision::Done(false);
            };
            if !owns(record, word, ticket) {
                return Decision::Done(false);
            }
            if let Some(value) = result.take() {
                let published = record.publish_cell(ticket.generation, value, &guard, || {
                    owns(record, slot_word.load(Ordering::Acquire), ticket)
                });
                if !published {
                    return Decision::Done(false);
                }
            }
            Decision::Set(word::with_status(word, CommandStatus::Completed, 0), true)
        });
        Ok(completed)
    }

    /// Marks the claim Failed. Returns false, changing nothing, if the ticket is stale.
    pub fn fail(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        self.finish(id, ticket, CommandStatus::Failed)
    }

    /// Gives the claim back without running the command: the id returns to NotStarted.
    /// Returns false, changing nothing, if the ticket is stale.
    pub fn release(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        self.finish(id, ticket, CommandStatus::NotStarted)
    }

    /// Marks the claim Indeterminate: the side effect may or may not have happened.
    pub fn mark_indeterminate(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        self.finish(id, ticket, CommandStatus::Indeterminate)
    }

    fn finish(&self, id: &str, ticket: ClaimTicket, to: CommandStatus) -> Result<bool, StoreError> {
        self.update(id, |current| match current {
            Current::Live { record, word, .. } if owns(record, word, ticket) => {
                Decision::Set(word::with_status(word, to, 0), true)
            }
            _ => Decision::Done(false),
        })
    }

    /// Removes the id's record, status and result together. Returns false if there was none.
    pub fn remove(&self, id: &str) -> Result<bool, StoreError> {
        self.update(id, |current| match current {
            Current::Absent => Decision::Done(false),
            Current::Live { .. } => Decision::Remove(true),
        })
    }

    /// Administrative override: sets the status whatever it was, bypassing the transition
    /// table. Any claim on the id is fenced (its ticket goes stale). Setting `NotFound`
    /// removes the record. `Completed` is refused: it is only reached with a result, through
    /// [`set_result`](Self::set_result) or [`complete`](Self::complete).
    pub fn set_status(&self, id: &str, status: CommandStatus) -> Result<(), StoreError> {
        if status == CommandStatus::Completed {
            let from = self.status(id)?;
            return Err(StoreError::InvalidTransition { from, to: status });
        }
        if status == CommandStatus::NotFound {
            return self.remove(id).map(drop);
        }
        let tag = self.tag(id)?;
        self.update(id, |current| {
            let generation = match current {
                Current::Absent => 0,
                Current::Live { word, .. } => word::next_generation(word::generation_of(word)),
            };
            Decision::Set(word::pack(status, tag, generation, 0), ())
        })
    }

    /// Administrative override: stores `result` and marks the id Completed, whatever its
    /// status was. Any claim on the id is fenced. Readers never see Completed without this
    /// result; a concurrent reader may see the id InProgress for the moment the override takes.
    pub fn set_result(&self, id: &str, result: CommandResult) -> Result<(), StoreError> {
        let at = self.locate(id)?;
        let tag = word::tag_for_hash(at.hash);
        loop {
            let ticket = {
                let guard = epoch::pin();
                let (claimed, inserted) =
                    at.shard.update(at.hash, id.as_bytes(), &guard, |current| {
                        let (generation, incarnation) = match current {
                            Current::Absent => (0, None),
                            Current::Live { record, word, .. } => (
                                word::next_generation(word::generation_of(word)),
                                Some(record.incarnation()),
                            ),
                        };
                        Decision::Set(
                            word::pack(CommandStatus::InProgress, tag, generation, 0),
                            (generation, incarnation),
                        )
                    });
                let incarnation = match (claimed.1, inserted) {
                    (Some(incarnation), _) => incarnation,
                    (None, Some(record)) => record.incarnation(),
                    (None, None) => unreachable!("an insert that stuck reports its record"),
                };
                ClaimTicket {
                    incarnation,
                    generation: claimed.0,
                }
            };
            if self.complete(id, ticket, result.clone())? {
                return Ok(());
            }
        }
    }

    /// Compare-and-set: moves the id from `expected` to `new` only if its status is
    /// `expected` now. The pair must be a legal transition (see [`crate::status`]) and `new`
    /// may not be Completed, which needs a result.
    pub fn try_set_status(
        &self,
        id: &str,
        expected: CommandStatus,
        new: CommandStatus,
    ) -> Result<bool, StoreError> {
        if !transition_allowed(expected, new) || new == CommandStatus::Completed {
            return Err(StoreError::InvalidTransition {
                from: expected,
                to: new,
            });
        }
        let tag = self.tag(id)?;
        self.update(id, |current| {
            let (status, generation) = match &current {
                Current::Absent => (CommandStatus::NotFound, None),
                Current::Live { word, .. } => {
                    (word::status_of(*word), Some(word::generation_of(*word)))
                }
            };
            if status != expected {
                return Decision::Done(false);
            }
            transition_to(tag, generation, new, true)
        })
    }

    /// Atomic get-and-set: moves the id to `new` if the transition table allows it from the
    /// current status, and returns `(previous, true)`; otherwise changes nothing and returns
    /// `(current, false)`. `new == Completed` is always refused, as it needs a result.
    pub fn get_and_set_status(
        &self,
        id: &str,
        new: CommandStatus,
    ) -> Result<(CommandStatus, bool), StoreError> {
        let tag = self.tag(id)?;
        self.update(id, |current| {
            let (status, generation) = match &current {
                Current::Absent => (CommandStatus::NotFound, None),
                Current::Live { word, .. } => {
                    (word::status_of(*word), Some(word::generation_of(*word)))
                }
            };
            if !transition_allowed(status, new) || new == CommandStatus::Completed {
                return Decision::Done((status, false));
            }
            match transition_to(tag, generation, new, (status, true)) {
                Decision::Done(_) => Decision::Done((status, false)),
                other => other,
            }
        })
    }

    /// Statuses of many ids. Repeated ids are fine; every id appears in the answer.
    pub fn statuses<I, S>(&self, ids: I) -> Result<HashMap<String, CommandStatus>, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let guard = epoch::pin();
        let mut answer = HashMap::new();
        for id in ids {
            let id = id.as_ref();
            let at = self.locate(id)?;
            let status = at
                .shard
                .read(at.hash, id.as_bytes(), &guard)
                .map_or(CommandStatus::NotFound, |(_, word)| word::status_of(word));
            answer.insert(id.to_owned(), status);
        }
        Ok(answer)
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
        let guard = epoch::pin();
        let mut answer = HashMap::new();
        for id in ids {
            let id = id.as_ref();
            let at = self.locate(id)?;
            answer.insert(id.to_owned(), read_result(&at, id, &guard));
        }
        Ok(answer)
    }

    /// Live records, summed over shards (exact when no write is in flight).
    pub fn len(&self) -> usize {
        let guard = epoch::pin();
        self.shards
            .iter()
            .map(|shard| shard.occupancy(&guard).1)
            .sum()
    }

    /// True when no record is live.
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

    fn tag(&self, id: &str) -> Result<u64, StoreError> {
        Ok(word::tag_for_hash(self.locate(id)?.hash))
    }

    fn update<R>(
        &self,
        id: &str,
        decide: impl FnMut(Current<'_, CommandResult>) -> Decision<R>,
    ) -> Result<R, StoreError> {
        let at = self.locate(id)?;
        let guard = epoch::pin();
        Ok(at.shard.update(at.hash, id.as_bytes(), &guard, decide).0)
    }
}

/// True when `word` still shows the claim `ticket` names, on the record it names.
fn owns(record: Record<'_, CommandResult>, word: u64, ticket: ClaimTicket) -> bool {
    record.incarnation() == ticket.incarnation
        && word::status_of(word) == CommandStatus::InProgress
        && word::generation_of(word) == ticket.generation
}

/// The decision that moves a record (or an absent id) to `new`, bumping the generation when
/// `new` starts a claim.
fn transition_to<R>(tag: u64, generation: Option<u64>, new: CommandStatus, then: R) -> Decision<R> {
    if new == CommandStatus::NotFound {
        return match generation {
            Some(_) => Decision::Remove(then),
            None => Decision::Done(then),
        };
    }
    let generation = match (generation, new) {
        (None, _) => 0,
        (Some(g), CommandStatus::InProgress) => word::next_generation(g),
        (Some(g), _) => g,
    };
    Decision::Set(word::pack(new, tag, generation, 0), then)
}

fn read_result(at: &Located<'_>, id: &str, guard: &epoch::Guard) -> Option<CommandResult> {
    let (record, word) = at.shard.read(at.hash, id.as_bytes(), guard)?;
    if word::status_of(word) != CommandStatus::Completed {
        return None;
    }
    let cell = record.cell(guard);
    match cell {
        Some(cell) if cell.generation == word::generation_of(word) => Some(cell.value.clone()),
        // The word said Completed at a generation whose cell has since been replaced by a
        // newer owner (an override moved the record on): the record is no longer Completed
        // with that result, so read again.
        _ => {
            debug_assert!(cell.is_some(), "Completed word without a result cell");
            read_result(at, id, guard)
        }
    }
}
