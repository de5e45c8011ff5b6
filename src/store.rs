//! The store trait every backend implements, and its implementation for [`MemoryStore`].
//!
//! The trait is object safe: `Arc<dyn IdempotencyStore>` works, which is how the helpers and
//! the command-line tool hold a backend chosen at run time. Methods are async so that networked
//! backends fit; the in-memory backend answers each one synchronously inside the future and
//! holds no lock or guard across an `.await`.

use std::collections::HashMap;

use async_trait::async_trait;

use std::time::Duration;

use crate::{
    Acquire, ClaimOutcome, ClaimTicket, CommandResult, CommandStatus, Failure, Fingerprint,
    HealthMetrics, MemoryStore, Resolution, StoreError,
};

/// Records each command id's status and result so that a command runs once.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The id's status; `NotFound` if it has no record.
    async fn status(&self, id: &str) -> Result<CommandStatus, StoreError>;

    /// The id's result, if it is Completed.
    async fn result(&self, id: &str) -> Result<Option<CommandResult>, StoreError>;

    /// Removes the id's status and result together. Returns false if there was no record.
    async fn remove(&self, id: &str) -> Result<bool, StoreError>;

    /// Administrative override: sets the status unconditionally, bypassing the transition
    /// table and fencing any current claim. `NotFound` removes the record; `Completed` is
    /// refused with [`StoreError::InvalidTransition`] (use [`set_result`](Self::set_result)).
    async fn set_status(&self, id: &str, status: CommandStatus) -> Result<(), StoreError>;

    /// Stores the result and marks the id Completed: no reader ever sees Completed without
    /// this result, or this result without Completed. An override like
    /// [`set_status`](Self::set_status): it fences any claim, and a backend may show the id
    /// InProgress for the moment the override takes.
    async fn set_result(&self, id: &str, result: CommandResult) -> Result<(), StoreError>;

    /// Compare-and-set of the status: succeeds only if the status is `expected` now. The pair
    /// must be a legal transition ([`crate::status`]); `new` may not be Completed.
    async fn try_set_status(
        &self,
        id: &str,
        expected: CommandStatus,
        new: CommandStatus,
    ) -> Result<bool, StoreError>;

    /// Atomic get-and-set of the status. Returns `(previous, true)` when the transition table
    /// allows the change, and `(current, false)`, changing nothing, when it does not.
    async fn get_and_set_status(
        &self,
        id: &str,
        new: CommandStatus,
    ) -> Result<(CommandStatus, bool), StoreError>;

    /// Statuses of many ids; repeated ids are fine and every id appears in the answer.
    async fn statuses(&self, ids: &[&str]) -> Result<HashMap<String, CommandStatus>, StoreError>;

    /// Results of many ids; `None` for ids that are not Completed. Every id appears.
    async fn results(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, Option<CommandResult>>, StoreError>;

    /// Registers the id as NotStarted if it has no record. False if it had one.
    async fn register(&self, id: &str) -> Result<bool, StoreError>;

    /// Acquires the id for a run, or reports what stands (running, completed with its result,
    /// terminally failed, a fingerprint conflict, or indeterminate). `lease` overrides the
    /// store's InProgress age for this claim.
    async fn acquire(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
        lease: Option<Duration>,
    ) -> Result<Acquire, StoreError>;

    /// Claims the id with the default lease and no fingerprint: NotFound, NotStarted and
    /// retryably Failed become InProgress, owned by the caller.
    async fn claim(&self, id: &str) -> Result<ClaimOutcome, StoreError> {
        Ok(match self.acquire(id, None, None).await? {
            Acquire::Acquired(ticket) => ClaimOutcome::Acquired(ticket),
            Acquire::Running => ClaimOutcome::Existing(CommandStatus::InProgress),
            Acquire::Completed(_) => ClaimOutcome::Existing(CommandStatus::Completed),
            Acquire::Failed(_) => ClaimOutcome::Existing(CommandStatus::Failed),
            Acquire::Indeterminate => ClaimOutcome::Existing(CommandStatus::Indeterminate),
            Acquire::Conflict => ClaimOutcome::Existing(self.status(id).await?),
        })
    }

    /// The failure recorded by the id's latest run, if the id is Failed now. `None` when it is
    /// not Failed, when no failure was recorded (an override set the status), or when
    /// `fingerprint` conflicts with the record's (which [`acquire`](Self::acquire) reports
    /// as a conflict). How a caller that waited on a run that failed learns why without
    /// claiming the id and running it again.
    async fn failure(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
    ) -> Result<Option<Failure>, StoreError>;

    /// Stores the result and completes the claim in one step. False if the ticket is stale.
    async fn complete(
        &self,
        id: &str,
        ticket: ClaimTicket,
        result: CommandResult,
    ) -> Result<bool, StoreError>;

    /// Records the failure and marks the claim Failed. False if the ticket is stale.
    async fn fail(
        &self,
        id: &str,
        ticket: ClaimTicket,
        failure: Failure,
    ) -> Result<bool, StoreError>;

    /// Gives the claim back (the work never ran). False if the ticket is stale.
    async fn release(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError>;

    /// Extends the claim's lease to `lease` from now. False if the ticket is stale.
    async fn renew(
        &self,
        id: &str,
        ticket: ClaimTicket,
        lease: Duration,
    ) -> Result<bool, StoreError>;

    /// Marks the claim Indeterminate. False if the ticket is stale.
    async fn mark_indeterminate(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError>;

    /// An operator settles an Indeterminate id. False if it is not Indeterminate.
    async fn resolve(&self, id: &str, resolution: Resolution) -> Result<bool, StoreError>;

    /// An operator forgets an Indeterminate id. False if it is not Indeterminate.
    async fn reset(&self, id: &str) -> Result<bool, StoreError>;

    /// Waits, by notification, until the id is not InProgress or `timeout` passes; returns the
    /// status then (InProgress if the wait timed out).
    async fn wait(&self, id: &str, timeout: Duration) -> Result<CommandStatus, StoreError>;

    /// Removes records of any status but Indeterminate whose last status change is older
    /// than `max_age`. Returns how many it removed.
    async fn cleanup_expired(&self, max_age: Duration) -> Result<u64, StoreError>;

    /// Removes records with `status` whose last status change is older than `max_age`
    /// (never Indeterminate ones). Returns how many it removed.
    async fn cleanup_by_status(
        &self,
        status: CommandStatus,
        max_age: Duration,
    ) -> Result<u64, StoreError>;

    /// Removes Completed, Failed and InProgress records older than their ages. Returns how
    /// many it removed in total.
    async fn auto_cleanup(
        &self,
        completed_age: Duration,
        failed_age: Duration,
        in_progress_age: Duration,
    ) -> Result<u64, StoreError>;

    /// Records per status, kept as running counts.
    async fn count_by_status(&self) -> Result<HashMap<CommandStatus, u64>, StoreError>;

    /// A health snapshot.
    async fn health_metrics(&self) -> Result<HealthMetrics, StoreError>;
}

/// Batch reads over any iterator of ids, for every store.
#[async_trait]
pub trait IdempotencyStoreExt: IdempotencyStore {
    /// [`IdempotencyStore::statuses`] for any iterator of ids.
    async fn statuses_of<I, S>(&self, ids: I) -> Result<HashMap<String, CommandStatus>, StoreError>
    where
        I: IntoIterator<Item = S> + Send,
        S: AsRef<str> + Send,
    {
        let owned: Vec<S> = ids.into_iter().collect();
        let borrowed: Vec<&str> = owned.iter().map(AsRef::as_ref).collect();
        self.statuses(&borrowed).await
    }

    /// [`IdempotencyStore::results`] for any iterator of ids.
    async fn results_of<I, S>(
        &self,
        ids: I,
    ) -> Result<HashMap<String, Option<CommandResult>>, StoreError>
    where
        I: IntoIterator<Item = S> + Send,
        S: AsRef<str> + Send + Sync,
    {
        let owned: Vec<S> = ids.into_iter().collect();
        let borrowed: Vec<&str> = owned.iter().map(AsRef::as_ref).collect();
        self.results(&borrowed).await
    }
}

impl<T: IdempotencyStore + ?Sized> IdempotencyStoreExt for T {}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn status(&self, id: &str) -> Result<CommandStatus, StoreError> {
        MemoryStore::status(self, id)
    }

    async fn result(&self, id: &str) -> Result<Option<CommandResult>, StoreError> {
        MemoryStore::result(self, id)
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        MemoryStore::remove(self, id)
    }

    async fn set_status(&self, id: &str, status: CommandStatus) -> Result<(), StoreError> {
        MemoryStore::set_status(self, id, status)
    }

    async fn set_result(&self, id: &str, result: CommandResult) -> Result<(), StoreError> {
        MemoryStore::set_result(self, id, result)
    }

    async fn try_set_status(
        &self,
        id: &str,
        expected: CommandStatus,
        new: CommandStatus,
    ) -> Result<bool, StoreError> {
        MemoryStore::try_set_status(self, id, expected, new)
    }

    async fn get_and_set_status(
        &self,
        id: &str,
        new: CommandStatus,
    ) -> Result<(CommandStatus, bool), StoreError> {
        MemoryStore::get_and_set_status(self, id, new)
    }

    async fn statuses(&self, ids: &[&str]) -> Result<HashMap<String, CommandStatus>, StoreError> {
        MemoryStore::statuses(self, ids)
    }

    async fn results(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, Option<CommandResult>>, StoreError> {
        MemoryStore::results(self, ids)
    }

    async fn register(&self, id: &str) -> Result<bool, StoreError> {
        MemoryStore::register(self, id)
    }

    async fn acquire(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
        lease: Option<Duration>,
    ) -> Result<Acquire, StoreError> {
        MemoryStore::acquire(self, id, fingerprint, lease)
    }

    async fn claim(&self, id: &str) -> Result<ClaimOutcome, StoreError> {
        MemoryStore::claim(self, id)
    }

    async fn failure(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
    ) -> Result<Option<Failure>, StoreError> {
        MemoryStore::failure(self, id, fingerprint)
    }

    async fn complete(
        &self,
        id: &str,
        ticket: ClaimTicket,
        result: CommandResult,
    ) -> Result<bool, StoreError> {
        MemoryStore::complete(self, id, ticket, result)
    }

    async fn fail(
        &self,
        id: &str,
        ticket: ClaimTicket,
        failure: Failure,
    ) -> Result<bool, StoreError> {
        MemoryStore::fail(self, id, ticket, failure)
    }

    async fn release(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        MemoryStore::release(self, id, ticket)
    }

    async fn renew(
        &self,
        id: &str,
        ticket: ClaimTicket,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        MemoryStore::renew(self, id, ticket, lease)
    }

    async fn mark_indeterminate(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        MemoryStore::mark_indeterminate(self, id, ticket)
    }

    async fn resolve(&self, id: &str, resolution: Resolution) -> Result<bool, StoreError> {
        MemoryStore::resolve(self, id, resolution)
    }

    async fn reset(&self, id: &str) -> Result<bool, StoreError> {
        MemoryStore::reset(self, id)
    }

    async fn wait(&self, id: &str, timeout: Duration) -> Result<CommandStatus, StoreError> {
        MemoryStore::wait(self, id, timeout).await
    }

    // LIMITATION: the sweeps below run synchronously on the calling task's thread; on a
    // store of millions of records that is tens of milliseconds without yielding. The
    // background cleaner runs them on its own thread or task for that reason.
    async fn cleanup_expired(&self, max_age: Duration) -> Result<u64, StoreError> {
        Ok(MemoryStore::cleanup_expired(self, max_age))
    }

    async fn cleanup_by_status(
        &self,
        status: CommandStatus,
        max_age: Duration,
    ) -> Result<u64, StoreError> {
        Ok(MemoryStore::cleanup_by_status(self, status, max_age))
    }

    async fn auto_cleanup(
        &self,
        completed_age: Duration,
        failed_age: Duration,
        in_progress_age: Duration,
    ) -> Result<u64, StoreError> {
        Ok(MemoryStore::auto_cleanup(
            self,
            completed_age,
            failed_age,
            in_progress_age,
        ))
    }

    async fn count_by_status(&self) -> Result<HashMap<CommandStatus, u64>, StoreError> {
        Ok(MemoryStore::count_by_status(self))
    }

    async fn health_metrics(&self) -> Result<HealthMetrics, StoreError> {
        Ok(MemoryStore::health_metrics(self))
    }
}
