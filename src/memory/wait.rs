//! Waiting for an InProgress id to finish, by notification.
//!
//! A waiter takes the record's `Notify` (created by the first waiter), takes a `notified()`
//! future from it, fences, and only then re-reads the word (see `Record::wake` for the fence
//! pair). Every transition out of InProgress, and every removal, wakes the record's waiters in
//! the same step. The waiter holds an `Arc` to the `Notify`, never a guard, across `.await`.

use std::time::Duration;

use tokio::time::Instant;

use super::MemoryStore;
use super::now::Now;
use crate::raw::record::waiter_fence;
use crate::raw::word;
use crate::sync::epoch;
use crate::{CommandStatus, StoreError};

impl MemoryStore {
    /// Waits until the id is no longer InProgress (finished, removed, or its lease lapsed), or
    /// until `timeout` passes, and returns the status it has then (InProgress if the wait
    /// timed out). Returns at once if the id is not
    /// InProgress. Must be called inside a tokio runtime (for the timer).
    pub async fn wait(&self, id: &str, timeout: Duration) -> Result<CommandStatus, StoreError> {
        // A timeout too long to represent is no deadline at all.
        let deadline = Instant::now().checked_add(timeout);
        let at = self.locate(id)?;
        loop {
            let (notify, incarnation) = {
                let guard = epoch::pin();
                let now = Now::new(self);
                match self.read(&at, id, &now, &guard) {
                    Some((record, _, CommandStatus::InProgress)) => {
                        (record.waiters(), record.incarnation())
                    }
                    other => return Ok(other.map_or(CommandStatus::NotFound, |r| r.2)),
                }
            };
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            waiter_fence();

            // Besides a wakeup, the claim's own lease ends the wait: a lapse writes nothing,
            // so nobody would wake us for it.
            let lease_left = {
                let guard = epoch::pin();
                let now = Now::new(self);
                match self.read(&at, id, &now, &guard) {
                    Some((record, word, CommandStatus::InProgress))
                        if record.incarnation() == incarnation =>
                    {
                        Some(lease_remaining(word::deadline_of(word), now.get()))
                    }
                    // A different record, or a finished one: look again from the top.
                    _ => None,
                }
            };
            if let Some(lease_left) = lease_left {
                let lease_end = lease_left.and_then(|left| Instant::now().checked_add(left));
                let until = match (deadline, lease_end) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                match until {
                    Some(until) => {
                        let woken = tokio::time::timeout_at(until, notified).await.is_ok();
                        let ours_over = deadline.is_some_and(|d| Instant::now() >= d);
                        if !woken && ours_over {
                            return self.status(id);
                        }
                    }
                    None => notified.await,
                }
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return self.status(id);
            }
        }
    }
}

/// Real time until a deadline on the store's clock, or `None` for no deadline. One extra
/// millisecond makes sure the deadline has passed when the wait ends.
fn lease_remaining(deadline: u64, now: u64) -> Option<Duration> {
    (deadline != 0).then(|| Duration::from_millis(deadline.saturating_sub(now) + 1))
}
