//! Claims and their endings on `MemoryStore`: acquire, complete, fail, release, renew, and
//! mark_indeterminate.
//!
//! A claim moves the record to a new generation; every ending checks the ticket (record
//! incarnation and generation) against the live word inside the same decision that changes
//! it, so a stale owner changes nothing. An ending that stores side data (a result or a
//! failure) writes the record's cell first, re-checking ownership as it does, and then flips
//! the word: a reader that sees the new status sees the cell with it.

use std::time::Duration;

use super::now::Now;
use super::{Located, MemoryStore, stored_of};
use crate::claim::Stored;
use crate::raw::record::Record;
use crate::raw::shard::{Current, Decision};
use crate::raw::word;
use crate::sync::Ordering;
use crate::sync::epoch;
use crate::{
    Acquire, ClaimOutcome, ClaimTicket, CommandResult, CommandStatus, Failure, FailurePolicy,
    Fingerprint, StoreError,
};

/// What an acquire decision settled on.
enum Settled {
    Answer(Acquire),
    /// Completed, answered from the word alone for a caller that did not ask for the result.
    Completed,
    /// A new record was inserted; its ticket is read from the inserted record.
    Inserted,
    /// The cell no longer matched the word (an override moved on): decide again.
    Again,
}

impl MemoryStore {
    /// Claims the id with the store's default lease and no fingerprint: NotFound, NotStarted
    /// and retryably Failed become InProgress, owned by the caller.
    pub fn claim(&self, id: &str) -> Result<ClaimOutcome, StoreError> {
        // Without `with_result` a Completed record is answered from its word alone: a
        // redelivery of a finished command never touches the result's memory.
        Ok(match self.acquire_inner(id, None, None, false)? {
            None => ClaimOutcome::Existing(CommandStatus::Completed),
            Some(Acquire::Acquired(ticket)) => ClaimOutcome::Acquired(ticket),
            Some(Acquire::Running) => ClaimOutcome::Existing(CommandStatus::InProgress),
            Some(Acquire::Completed(_)) => ClaimOutcome::Existing(CommandStatus::Completed),
            Some(Acquire::Failed(_)) => ClaimOutcome::Existing(CommandStatus::Failed),
            Some(Acquire::Indeterminate) => ClaimOutcome::Existing(CommandStatus::Indeterminate),
            Some(Acquire::Conflict) => {
                unreachable!("a claim without a fingerprint never conflicts")
            }
        })
    }

    /// Acquires the id for a run, or reports what stands: see [`Acquire`]. `lease` overrides
    /// the store's InProgress age for this claim. A fingerprint that differs from the one the
    /// record was created with is a [`Acquire::Conflict`], whatever the record's status.
    pub fn acquire(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
        lease: Option<Duration>,
    ) -> Result<Acquire, StoreError> {
        let answer = self.acquire_inner(id, fingerprint, lease, true)?;
        Ok(answer.unwrap_or_else(|| unreachable!("asked for, a Completed result is read")))
    }

    /// [`acquire`](Self::acquire); with `with_result` false, a Completed record is answered
    /// `None`, from its word alone. It touches neither the result's memory nor any shared
    /// placeholder, whose reference count would bounce between the cores of every caller.
    fn acquire_inner(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
        lease: Option<Duration>,
        with_result: bool,
    ) -> Result<Option<Acquire>, StoreError> {
        let at = self.locate(id)?;
        let fingerprint = Fingerprint::raw(fingerprint);
        let guard = epoch::pin();
        if fingerprint == 0 && !with_result {
            // A redelivery of a running or finished command changes nothing: answer it from a
            // plain read, linearised at the read, without the update loop. An expired word is
            // left to the update, which removes it or records its lapse.
            let now = Now::new(self);
            let seen = at.shard.read(at.hash, id.as_bytes(), &guard);
            match seen.map(|(_, word)| word) {
                Some(word) if !Self::expired(word, &now) => match word::status_of(word) {
                    CommandStatus::Completed => return Ok(None),
                    CommandStatus::InProgress => return Ok(Some(Acquire::Running)),
                    CommandStatus::Indeterminate => return Ok(Some(Acquire::Indeterminate)),
                    _ => {}
                },
                _ => {}
            }
        }
        loop {
            let updated = self.update(&at, id, fingerprint, &guard, |current, now| {
                // Computed only for a claim that takes the id: a duplicate's answer needs no
                // precise clock reading.
                let deadline = || {
                    self.expiry
                        .deadline(CommandStatus::InProgress, now.get(), lease)
                };
                let Current::Live { record, word, .. } = current else {
                    let fresh = word::pack(CommandStatus::InProgress, at.tag(), 0, deadline());
                    return Decision::Set(fresh, Settled::Inserted);
                };
                if fingerprint != 0
                    && record.fingerprint() != 0
                    && record.fingerprint() != fingerprint
                {
                    return Decision::Done(Settled::Answer(Acquire::Conflict));
                }
                let answer = match word::status_of(word) {
                    CommandStatus::InProgress => Acquire::Running,
                    CommandStatus::Indeterminate => Acquire::Indeterminate,
                    CommandStatus::Completed if !with_result => {
                        return Decision::Done(Settled::Completed);
                    }
                    CommandStatus::Completed => match stored_of(record, word, &guard) {
                        Some(Stored::Result(result)) => Acquire::Completed(result.clone()),
                        _ => return Decision::Done(Settled::Again),
                    },
                    CommandStatus::Failed => match stored_of(record, word, &guard) {
                        Some(Stored::Failure(failure))
                            if failure.policy == FailurePolicy::Terminal =>
                        {
                            Acquire::Failed(failure.clone())
                        }
                        _ => return claim_next(&at, record, word, deadline()),
                    },
                    CommandStatus::NotStarted => return claim_next(&at, record, word, deadline()),
                    CommandStatus::NotFound => unreachable!("a live word has a live status"),
                };
                Decision::Done(Settled::Answer(answer))
            });
            match updated.value {
                Settled::Answer(answer) => return Ok(Some(answer)),
                Settled::Completed => return Ok(None),
                Settled::Again => continue,
                Settled::Inserted => {
                    let record = updated.record.expect("an insert reports its record");
                    let ticket = ClaimTicket {
                        incarnation: record.incarnation(),
                        generation: 0,
                    };
                    return Ok(Some(Acquire::Acquired(ticket)));
                }
            }
        }
    }

    /// Stores the result and marks the claim Completed, in one step as any reader sees it.
    /// Returns false, changing nothing, if the ticket is stale.
    pub fn complete(
        &self,
        id: &str,
        ticket: ClaimTicket,
        result: CommandResult,
    ) -> Result<bool, StoreError> {
        self.end_with(
            id,
            ticket,
            CommandStatus::Completed,
            Some(Stored::Result(result)),
        )
    }

    /// Records the failure and marks the claim Failed. With [`FailurePolicy::Terminal`] later
    /// acquires get the failure back instead of a claim. False if the ticket is stale.
    pub fn fail(
        &self,
        id: &str,
        ticket: ClaimTicket,
        failure: Failure,
    ) -> Result<bool, StoreError> {
        self.end_with(
            id,
            ticket,
            CommandStatus::Failed,
            Some(Stored::Failure(failure)),
        )
    }

    /// Gives the claim back without running the command: the id returns to NotStarted.
    /// False, changing nothing, if the ticket is stale.
    pub fn release(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        self.end_with(id, ticket, CommandStatus::NotStarted, None)
    }

    /// Marks the claim Indeterminate: the side effect may or may not have happened, and only
    /// an operator's resolve or reset moves the id on. False if the ticket is stale.
    pub fn mark_indeterminate(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        self.end_with(id, ticket, CommandStatus::Indeterminate, None)
    }

    /// Extends the claim's lease to `lease` from now. False if the ticket is stale (which
    /// includes a lease that already lapsed).
    pub fn renew(
        &self,
        id: &str,
        ticket: ClaimTicket,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let at = self.locate(id)?;
        let guard = epoch::pin();
        let updated = self.update(&at, id, 0, &guard, |current, now| match current {
            Current::Live { record, word, .. } if owns(record, word, ticket) => {
                let deadline =
                    self.expiry
                        .deadline(CommandStatus::InProgress, now.get(), Some(lease));
                Decision::Set(
                    word::with_status(word, CommandStatus::InProgress, deadline),
                    true,
                )
            }
            _ => Decision::Done(false),
        });
        Ok(updated.value)
    }

    /// Moves an owned claim to `to`, storing `side` in the record's cell first if given.
    fn end_with(
        &self,
        id: &str,
        ticket: ClaimTicket,
        to: CommandStatus,
        side: Option<Stored>,
    ) -> Result<bool, StoreError> {
        let at = self.locate(id)?;
        let mut side = side;
        loop {
            let guard = epoch::pin();
            let updated = self.update(&at, id, 0, &guard, |current, now| {
                let Current::Live {
                    record,
                    word,
                    slot_word,
                } = current
                else {
                    return Decision::Done(Some(false));
                };
                if !owns(record, word, ticket) {
                    return Decision::Done(Some(false));
                }
                if let Some(value) = side.take() {
                    let published = record.publish_cell(ticket.generation, value, &guard, || {
                        let current = slot_word.load(Ordering::Acquire);
                        !word::is_moved(current)
                            && owns(record, current, ticket)
                            && !MemoryStore::expired(current, now)
                    });
                    if let Err(value) = published {
                        side = Some(value);
                        // A migration froze the slot meanwhile: ask again in the next table.
                        let moved = word::is_moved(slot_word.load(Ordering::Acquire));
                        return Decision::Done(if moved { None } else { Some(false) });
                    }
                }
                let deadline = self.expiry.deadline(to, now.get(), None);
                Decision::Set(word::with_status(word, to, deadline), Some(true))
            });
            if let Some(ended) = updated.value {
                return Ok(ended);
            }
        }
    }
}

/// The decision that claims a live record: the next generation, InProgress until `deadline`.
fn claim_next(
    at: &Located<'_>,
    record: Record<'_, Stored>,
    word: u64,
    deadline: u64,
) -> Decision<Settled> {
    let Some(generation) = word::next_generation(word::generation_of(word)) else {
        // The record's generations ran out: replace it; the next round claims a fresh record.
        return Decision::Remove(Settled::Again);
    };
    let ticket = ClaimTicket {
        incarnation: record.incarnation(),
        generation,
    };
    let claimed = word::pack(CommandStatus::InProgress, at.tag(), generation, deadline);
    Decision::Set(claimed, Settled::Answer(Acquire::Acquired(ticket)))
}

/// True when `word` still shows the claim `ticket` names, on the record it names.
pub(super) fn owns(record: Record<'_, Stored>, word: u64, ticket: ClaimTicket) -> bool {
    record.incarnation() == ticket.incarnation
        && word::status_of(word) == CommandStatus::InProgress
        && word::generation_of(word) == ticket.generation
}
