//! Status-level operations on `MemoryStore`: register, remove, the administrative overrides,
//! compare-and-set and get-and-set, and an operator's resolve and reset of Indeterminate ids.
//!
//! Overrides that store side data (`set_result`, `resolve`) first take the record over as an
//! InProgress claim of a new generation, then end that claim with the data: the generation is
//! then owned by exactly one writer, which is what makes the cell safe to write (see the
//! record module). A concurrent reader may see InProgress for the moment this takes.

use super::MemoryStore;
use crate::claim::Stored;
use crate::raw::shard::{Current, Decision};
use crate::raw::word;
use crate::sync::epoch;
use crate::{
    ClaimTicket, CommandResult, CommandStatus, Failure, Resolution, StoreError, transition_allowed,
};

impl MemoryStore {
    /// Registers the id as NotStarted if it has no record. Returns false if it had one.
    pub fn register(&self, id: &str) -> Result<bool, StoreError> {
        self.try_set_status(id, CommandStatus::NotFound, CommandStatus::NotStarted)
    }

    /// Removes the id's record, status and result together. Returns false if there was none.
    pub fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let at = self.locate(id)?;
        let guard = epoch::pin();
        let updated = self.update(&at, id, 0, &guard, |current, _| match current {
            Current::Absent => Decision::Done(false),
            Current::Live { .. } => Decision::Remove(true),
        });
        Ok(updated.value)
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
        let at = self.locate(id)?;
        let guard = epoch::pin();
        self.update(&at, id, 0, &guard, |current, now| {
            let generation = match current {
                Current::Absent => 0,
                Current::Live { word, .. } => {
                    match word::next_generation(word::generation_of(word)) {
                        Some(generation) => generation,
                        // Exhausted: replace the record; the next round inserts a fresh one.
                        None => return Decision::Remove(Retry::Again),
                    }
                }
            };
            let deadline = self.expiry.deadline(status, now.get(), None);
            Decision::Set(
                word::pack(status, at.tag(), generation, deadline),
                Retry::Done(()),
            )
        })
        .value
        .settled(|| self.set_status(id, status))
    }

    /// Administrative override: stores `result` and marks the id Completed, whatever its
    /// status was. Any claim on the id is fenced. Readers never see Completed without this
    /// result, nor this result without Completed; for the moment the override takes, they may
    /// see the id InProgress (it is taken over as a claim of a new generation first).
    pub fn set_result(&self, id: &str, result: CommandResult) -> Result<(), StoreError> {
        self.override_with(id, None, CommandStatus::Completed, Stored::Result(result))
            .map(drop)
    }

    /// An operator settles an Indeterminate id. False if the id is not Indeterminate.
    pub fn resolve(&self, id: &str, resolution: Resolution) -> Result<bool, StoreError> {
        let (to, side) = match resolution {
            Resolution::Completed(result) => (CommandStatus::Completed, Stored::Result(result)),
            Resolution::Failed(failure) => (CommandStatus::Failed, Stored::Failure(failure)),
        };
        self.override_with(id, Some(CommandStatus::Indeterminate), to, side)
    }

    /// An operator forgets an Indeterminate id, so the next call runs it afresh. False if the
    /// id is not Indeterminate.
    pub fn reset(&self, id: &str) -> Result<bool, StoreError> {
        self.try_set_status(id, CommandStatus::Indeterminate, CommandStatus::NotFound)
    }

    /// Takes the record over as a new claim (only from `only_from`, if given), then ends that
    /// claim at `to` with `side` in the cell.
    fn override_with(
        &self,
        id: &str,
        only_from: Option<CommandStatus>,
        to: CommandStatus,
        side: Stored,
    ) -> Result<bool, StoreError> {
        let at = self.locate(id)?;
        // The status seen on a record that was replaced because its generations ran out.
        let mut replaced = None;
        loop {
            let ticket = {
                let guard = epoch::pin();
                let updated = self.update(&at, id, 0, &guard, |current, now| {
                    let (status, _) = status_and_generation(&current, replaced);
                    if only_from.is_some_and(|from| from != status) {
                        return Decision::Done(None);
                    }
                    let (generation, incarnation) = match current {
                        Current::Absent => (0, None),
                        Current::Live { record, word, .. } => {
                            let Some(next) = word::next_generation(word::generation_of(word))
                            else {
                                replaced = Some(status);
                                return Decision::Remove(Some((u64::MAX, None)));
                            };
                            (next, Some(record.incarnation()))
                        }
                    };
                    let deadline = self
                        .expiry
                        .deadline(CommandStatus::InProgress, now.get(), None);
                    let claimed =
                        word::pack(CommandStatus::InProgress, at.tag(), generation, deadline);
                    Decision::Set(claimed, Some((generation, incarnation)))
                });
                let Some((generation, incarnation)) = updated.value else {
                    return Ok(false);
                };
                if generation == u64::MAX {
                    continue;
                }
                let incarnation = incarnation.unwrap_or_else(|| {
                    updated
                        .record
                        .expect("an insert reports its record")
                        .incarnation()
                });
                ClaimTicket {
                    incarnation,
                    generation,
                }
            };
            let ended = match &side {
                Stored::Result(result) => self.complete(id, ticket, result.clone())?,
                Stored::Failure(failure) => {
                    debug_assert_eq!(to, CommandStatus::Failed);
                    self.fail(id, ticket, Failure::clone(failure))?
                }
            };
            if ended {
                return Ok(true);
            }
            tracing::debug!(id, "override overtaken by a concurrent change; retrying");
            // Two overrides of one id fence each other; yielding lets one of them finish.
            crate::sync::yield_now();
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
        let at = self.locate(id)?;
        let mut replaced = None;
        loop {
            let guard = epoch::pin();
            let updated = self.update(&at, id, 0, &guard, |current, now| {
                let (status, generation) = status_and_generation(&current, replaced);
                if status != expected {
                    return Decision::Done(Retry::Done(false));
                }
                self.transition_to(
                    at.tag(),
                    generation,
                    new,
                    now.get(),
                    true,
                    &mut replaced,
                    status,
                )
            });
            if let Retry::Done(set) = updated.value {
                return Ok(set);
            }
        }
    }

    /// Atomic get-and-set: moves the id to `new` if the transition table allows it from the
    /// current status, and returns `(previous, true)`; otherwise changes nothing and returns
    /// `(current, false)`. `new == Completed` is always refused, as it needs a result.
    pub fn get_and_set_status(
        &self,
        id: &str,
        new: CommandStatus,
    ) -> Result<(CommandStatus, bool), StoreError> {
        let at = self.locate(id)?;
        let mut replaced = None;
        loop {
            let guard = epoch::pin();
            let updated = self.update(&at, id, 0, &guard, |current, now| {
                let (status, generation) = status_and_generation(&current, replaced);
                if !transition_allowed(status, new) || new == CommandStatus::Completed {
                    return Decision::Done(Retry::Done((status, false)));
                }
                let then = (status, true);
                self.transition_to(
                    at.tag(),
                    generation,
                    new,
                    now.get(),
                    then,
                    &mut replaced,
                    status,
                )
            });
            if let Retry::Done(answer) = updated.value {
                return Ok(answer);
            }
        }
    }

    /// The decision that moves a record (or an absent id) to `new`, bumping the generation
    /// when `new` starts a claim. A record whose generations ran out is removed instead, with
    /// its status noted in `replaced`, and the next round inserts a fresh record.
    #[allow(clippy::too_many_arguments)]
    fn transition_to<R>(
        &self,
        tag: u64,
        generation: Option<u64>,
        new: CommandStatus,
        now: u64,
        then: R,
        replaced: &mut Option<CommandStatus>,
        status: CommandStatus,
    ) -> Decision<Retry<R>> {
        if new == CommandStatus::NotFound {
            return Decision::Remove(Retry::Done(then));
        }
        let generation = match (generation, new) {
            (None, _) => 0,
            (Some(g), CommandStatus::InProgress) => match word::next_generation(g) {
                Some(next) => next,
                None => {
                    *replaced = Some(status);
                    return Decision::Remove(Retry::Again);
                }
            },
            (Some(g), _) => g,
        };
        let deadline = self.expiry.deadline(new, now, None);
        Decision::Set(
            word::pack(new, tag, generation, deadline),
            Retry::Done(then),
        )
    }
}

/// A decision's outcome, or a request to decide again on the next state.
pub(super) enum Retry<R> {
    Done(R),
    Again,
}

impl<R> Retry<R> {
    /// The outcome, or whatever `again` returns.
    fn settled(self, again: impl FnOnce() -> Result<R, StoreError>) -> Result<R, StoreError> {
        match self {
            Retry::Done(value) => Ok(value),
            Retry::Again => again(),
        }
    }
}

/// The status and generation a decision works from. An absent id that this call itself just
/// removed (its generations ran out) still counts as the status it had.
fn status_and_generation(
    current: &Current<'_, Stored>,
    replaced: Option<CommandStatus>,
) -> (CommandStatus, Option<u64>) {
    match current {
        Current::Absent => (replaced.unwrap_or(CommandStatus::NotFound), None),
        Current::Live { word, .. } => (word::status_of(*word), Some(word::generation_of(*word))),
    }
}
