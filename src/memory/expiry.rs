//! Expiry on `MemoryStore`: the update wrapper that treats expired records as gone, and the
//! timing wheel that removes them physically.
//!
//! # Scheduling
//!
//! Every change that gives a record a deadline hands the record to the wheel, unless the wheel
//! already holds it. The wheel looks at a record no later than `shortest` (the shortest
//! configured age) after it was handed over or last looked at, and no later than its deadline.
//! Since any later change sets a deadline at least `shortest` after itself, the wheel is never
//! late for a deadline that moved earlier while it held the record. When it looks, it either
//! removes the record (if expired), lets go of it (no deadline any more, or already removed),
//! or places it again.
//!
//! # Removal by the wheel
//!
//! The wheel removes through the same decide-then-CAS update as every other writer, deciding
//! on the record it holds (by identity, not only by key) and on the word it reads there: if a
//! claim, completion or removal changed the word first, the CAS fails and the wheel decides
//! again on the new word, so it never removes a generation it did not find expired.

use super::now::Now;
use super::{Located, MemoryStore};
use crate::claim::Stored;
use crate::raw::record::Record;
use crate::raw::schedule::ExpiryQueue;
use crate::raw::shard::{Current, Decision, Lookup, Updated};
use crate::raw::word;
use crate::sync::epoch::{self, Guard};
use crate::wheel::Entry;

/// The wheel, the stacks that feed it, and how often it looks at a record.
pub(crate) struct Expirer {
    pub(super) queue: ExpiryQueue<Stored>,
    /// Milliseconds between looks at a record: the shortest configured age, at least 1.
    pub(super) revisit: u64,
}

/// What one expiry step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpiryStep {
    /// Records removed because they had expired.
    pub removed: u64,
    /// Records made Indeterminate because their lease lapsed (with that lapse policy).
    pub lapsed: u64,
    /// Records looked at and placed again because they were not due yet.
    pub rescheduled: u64,
    /// True if the step stopped at its budget with more due: call again.
    pub more: bool,
}

/// What the wheel decided about one record it held.
enum Verdict {
    /// Not found any more: it was removed by someone else, or replaced.
    Gone,
    /// Removed by this step.
    Removed,
    /// Made Indeterminate by this step (a lapsed lease, with that lapse policy).
    Lapsed,
    /// Still live: look again at this deadline (0: it has none, let go of it).
    Later(u64),
}

impl MemoryStore {
    /// Applies `decide` to the id's state as of now, after clearing away an expired record,
    /// and keeps the counts and the wheel in step with whatever changed.
    pub(super) fn update<'g, R>(
        &'g self,
        at: &Located<'g>,
        id: &str,
        fingerprint: u64,
        guard: &'g Guard,
        mut decide: impl FnMut(Current<'g, Stored>, &Now<'_>) -> Decision<R>,
    ) -> Updated<'g, Stored, R> {
        loop {
            let now = Now::new(self);
            let now_ms = || now.get();
            let lookup = Lookup {
                hash: at.hash,
                key: id.as_bytes(),
                fingerprint,
                now: &now_ms,
            };
            let updated = at.shard.update(&lookup, guard, |current| {
                let record = match &current {
                    Current::Live { record, word, .. } => {
                        if Self::expired(*word, &now) {
                            record.touch(now.get());
                            return match self.lapse_to_indeterminate(*word) {
                                Some(indeterminate) => Decision::Set(indeterminate, None),
                                None => Decision::Remove(None),
                            };
                        }
                        Some(*record)
                    }
                    Current::Absent => None,
                };
                let decision = match decide(current, &now) {
                    Decision::Done(value) => return Decision::Done(Some(value)),
                    Decision::Set(word, value) => Decision::Set(word, Some(value)),
                    Decision::Remove(value) => Decision::Remove(Some(value)),
                };
                if let Some(record) = record {
                    record.touch(now.get());
                }
                decision
            });
            self.after_change(&updated, &now);
            match updated.value {
                Some(value) => {
                    let Updated {
                        record, from, to, ..
                    } = updated;
                    return Updated {
                        value,
                        record,
                        from,
                        to,
                    };
                }
                None if word::is_removed(updated.to) => {
                    self.counters.expired(1);
                    tracing::debug!(id, "expired record removed on access");
                }
                None => {}
            }
        }
    }

    /// Counts a change and hands the record to the wheel if it now has a deadline.
    fn after_change<R>(&self, updated: &Updated<'_, Stored, R>, now: &Now<'_>) {
        let Some(record) = updated.record else { return };
        self.counters.record(updated.from, updated.to);
        let deadline = word::deadline_of(updated.to);
        if deadline != 0 && word::is_live(updated.to) {
            let when = deadline.min(now.get().saturating_add(self.expirer.revisit));
            self.expirer.queue.incoming.schedule(record, when);
        }
    }

    /// Runs the wheel up to now, doing at most `budget` record looks. Returns what it did.
    /// Other threads keep working meanwhile; a concurrent call waits for this one.
    pub fn run_expiry(&self, budget: usize) -> ExpiryStep {
        let budget = budget.max(1);
        let mut wheel = self.expirer.queue.wheel.lock();
        let now = self.now();
        self.expirer
            .queue
            .incoming
            .take_all(|entry| wheel.insert(entry, entry.when()));

        let mut step = ExpiryStep::default();
        let mut looked = 0;
        while looked < budget {
            let Some(entry) = wheel.poll(now) else { break };
            looked += 1;
            let guard = epoch::pin();
            match self.judge(entry.record(&guard), now, &guard) {
                Verdict::Gone => entry.release(&guard),
                Verdict::Removed => {
                    step.removed += 1;
                    entry.release(&guard);
                }
                Verdict::Lapsed => {
                    step.lapsed += 1;
                    entry.release(&guard);
                    self.reschedule_if_needed(entry.record(&guard), now, &guard);
                }
                Verdict::Later(0) => {
                    entry.release(&guard);
                    self.reschedule_if_needed(entry.record(&guard), now, &guard);
                }
                Verdict::Later(deadline) => {
                    step.rescheduled += 1;
                    wheel.insert(
                        entry,
                        deadline.min(now.saturating_add(self.expirer.revisit)),
                    );
                }
            }
        }
        step.more = looked == budget;
        tracing::trace!(held = wheel.len(), ?step, "expiry step");
        drop(wheel);
        // Tables replaced by migrations are handed to the epoch here too, so a store nobody
        // compacts still frees them.
        let guard = epoch::pin();
        for shard in self.shards.iter() {
            shard.reclaim_tables(&guard);
        }
        if step.removed > 0 {
            self.counters.expired(step.removed);
        }
        step
    }

    /// After the wheel let go of a record it judged to have no deadline: a change that gave
    /// it one meanwhile found the record still held and did not hand it over, so hand it
    /// over now. The guard taken before the release keeps the record readable even if it was
    /// retired since.
    fn reschedule_if_needed(&self, held: Record<'_, Stored>, now: u64, guard: &Guard) {
        let at = self.locate_hash(held.hash());
        let Some((record, word)) = at.shard.read(held.hash(), held.key(), guard) else {
            return;
        };
        let deadline = word::deadline_of(word);
        if record.as_ptr() == held.as_ptr() && deadline != 0 {
            let when = deadline.min(now.saturating_add(self.expirer.revisit));
            self.expirer.queue.incoming.schedule(record, when);
        }
    }

    /// Decides on a record the wheel holds, removing it if it has expired.
    fn judge(&self, held: Record<'_, Stored>, now: u64, guard: &Guard) -> Verdict {
        let (hash, key) = (held.hash(), held.key());
        let at = self.locate_hash(hash);
        let lookup = Lookup {
            hash,
            key,
            fingerprint: 0,
            now: &|| now,
        };
        let updated = at.shard.update(&lookup, guard, |current| match current {
            Current::Live { record, word, .. } if record.as_ptr() == held.as_ptr() => {
                if !Self::expired_at(word, now) {
                    return Decision::Done(Verdict::Later(word::deadline_of(word)));
                }
                record.touch(now);
                match self.lapse_to_indeterminate(word) {
                    Some(indeterminate) => Decision::Set(indeterminate, Verdict::Lapsed),
                    None => Decision::Remove(Verdict::Removed),
                }
            }
            _ => Decision::Done(Verdict::Gone),
        });
        if updated.record.is_some() {
            self.counters.record(updated.from, updated.to);
        }
        updated.value
    }
}
