//! The value every peer map holds for an id: its status, its result and its waiters.
//!
//! # Invariants
//!
//! - The status is `CommandStatus as u8`. A slot is created InProgress by the claim that
//!   inserts it; a claimable status (NotStarted, Failed) is taken by one compare-and-swap to
//!   InProgress; InProgress becomes Completed once, by its owner.
//! - The result is written before the status says Completed, so whoever reads Completed finds
//!   the result (the result cell's own synchronisation orders the two).
//! - No lost wake-up. A waiter takes a `notified()` future and enables it, then re-reads the
//!   status; the owner writes Completed, then calls `notify_waiters`. Both status accesses are
//!   SeqCst and tokio's `Notify` uses SeqCst on its state, so in the single order of those
//!   operations either the waiter's re-read follows the owner's write (it sees Completed and
//!   returns) or its registration precedes the owner's `notify_waiters` (it is woken).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use idemstore::{CommandResult, CommandStatus};
use tokio::sync::Notify;

use super::{Claim, status_from_u8};

const IN_PROGRESS: u8 = CommandStatus::InProgress as u8;
const COMPLETED: u8 = CommandStatus::Completed as u8;

pub struct Slot {
    status: AtomicU8,
    /// Set once, by the owner, just before Completed: only Completed carries a result and it
    /// is terminal, so a write-once cell is enough.
    result: OnceLock<CommandResult>,
    /// Duplicates that found the id running wait here.
    notify: Notify,
}

impl Slot {
    /// A fresh slot, InProgress, for the claim about to insert it.
    pub fn claimed() -> Arc<Slot> {
        Arc::new(Slot {
            status: AtomicU8::new(IN_PROGRESS),
            result: OnceLock::new(),
            notify: Notify::new(),
        })
    }

    pub fn status(&self) -> CommandStatus {
        // Acquire pairs with the owner's write of Completed: the result is visible after it.
        status_from_u8(self.status.load(Ordering::Acquire))
    }

    /// A claim that found this slot already in the map: takes it if its status is claimable,
    /// else reports the status.
    pub fn take(self: &Arc<Self>) -> Claim<Arc<Slot>> {
        let mut seen = self.status.load(Ordering::Acquire);
        loop {
            let status = status_from_u8(seen);
            if !status.is_claimable() {
                return Claim::Saw(status);
            }
            match self.status.compare_exchange(
                seen,
                IN_PROGRESS,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Claim::Won(Arc::clone(self)),
                Err(now) => seen = now,
            }
        }
    }

    /// The owner's completion. False if the slot was not InProgress or already had a result.
    pub fn complete(&self, result: CommandResult) -> bool {
        if self.status.load(Ordering::Acquire) != IN_PROGRESS || self.result.set(result).is_err() {
            return false;
        }
        // SeqCst: one half of the wake-up argument in the module docs.
        let completed = self
            .status
            .compare_exchange(IN_PROGRESS, COMPLETED, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok();
        self.notify.notify_waiters();
        completed
    }

    /// Waits until the slot is no longer InProgress. `registered` runs once this waiter can
    /// no longer miss the completion's wake-up.
    pub async fn wait(&self, registered: impl FnOnce()) -> CommandStatus {
        let mut registered = Some(registered);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // SeqCst: the other half of the wake-up argument.
            let status = status_from_u8(self.status.load(Ordering::SeqCst));
            if let Some(registered) = registered.take() {
                registered();
            }
            if status != CommandStatus::InProgress {
                return status;
            }
            notified.await;
        }
    }
}
