//! Waiting for an InProgress id to finish, by notification.
//!
//! A waiter takes the record's `Notify` (created by the first waiter), takes a `notified()`
//! future from it, fences, and only then re-reads the word (see `Record::wake` for the fence
//! pair). Every transition out of InProgress, and every removal, wakes the record's waiters in
//! the same step. The waiter holds an `Arc` to the `Notify`, never a guard, across `.await`.

use std::time::Duration;

use tokio::time::Instant;

use super::MemoryStore;
use crate::raw::record::waiter_fence;
use crate::sync::epoch;
use crate::{CommandStatus, StoreError};

impl MemoryStore {
    /// Waits until the id is no longer InProgress, or until `timeout` passes, and returns the
    /// status it has then (InProgress if the wait timed out). Returns at once if the id is not
    /// InProgress. Must be called inside a tokio runtime (for the timer).
    pub async fn wait(&self, id: &str, timeout: Duration) -> Result<CommandStatus, StoreError> {
        // A timeout too long to represent is no deadline at all.
        let deadline = Instant::now().checked_add(timeout);
        let at = self.locate(id)?;
        loop {
            let (notify, incarnation) = {
                let guard = epoch::pin();
                let now = self.clock.now_ms();
                match self.read(&at, id, now, &guard) {
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

            let still_running = {
                let guard = epoch::pin();
                let now = self.clock.now_ms();
                match self.read(&at, id, now, &guard) {
                    Some((record, _, CommandStatus::InProgress)) => {
                        record.incarnation() == incarnation
                    }
                    // A different record, or a finished one: look again from the top.
                    _ => false,
                }
            };
            if still_running {
                match deadline {
                    Some(deadline) => {
                        if tokio::time::timeout_at(deadline, notified).await.is_err() {
                            return Ok(CommandStatus::InProgress);
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
