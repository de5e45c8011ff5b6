//! One call of one command: claim it and run it, or wait for whoever runs it, or return what
//! the store already holds.
//!
//! # The loop
//!
//! ```text
//!        ┌──────────────> acquire ──Acquired──> run as owner (owner.rs)
//!        │                  │ Completed ──> the stored value (Cached, or Waited after a wait)
//!        │                  │ Failed ─────> FailedElsewhere (a terminal failure)
//!        │                  │ Conflict, Indeterminate ──> that error
//!        │               Running ──deadline passed──> Timeout
//!        │                  v
//!        │         wait, by notification, until the owner leaves InProgress or the deadline
//!        │                  │ Failed ──> read the failure ──> FailedElsewhere
//!        └──────────────────┘ anything else (Completed, released, expired, Indeterminate,
//!                               or the wait timed out)
//! ```
//!
//! A waiter that wakes to Failed reports the failure of the run it waited on, even a retryable
//! one: only a caller arriving after a retryable failure runs the command again. Every other
//! wake goes back to `acquire`, which checks the fingerprint again and either reports what
//! stands or, if the claim was given back or lapsed, lets this caller run the command.

use std::future::Future;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::outcome::stored;
use super::{CallOptions, ExecuteError, Executed, Executor, Served};
use crate::{Acquire, CommandStatus, Fingerprint};

impl Executor {
    /// Runs the command once across every caller of `id`, and hands each caller its outcome.
    ///
    /// The first caller claims the id and runs `op`; concurrent callers wait (by notification,
    /// up to [`ExecuteOptions::wait_timeout`](super::ExecuteOptions::wait_timeout)) and share
    /// its value or learn its failure; later callers get the stored value without running
    /// anything. `op` receives a token that is cancelled if this caller's claim is lost or this
    /// call is dropped mid-run; a long command should stop when it fires. After a lost claim
    /// this call still waits for `op` to return (so it can stop at a point of its choosing),
    /// then reports [`ExecuteError::OwnershipLost`] whatever `op` returned.
    ///
    /// A panic in `op` fails the command for everyone else (`panicked: <message>`) and resumes
    /// in this caller.
    pub async fn execute<T, E, F, Fut>(
        &self,
        id: &str,
        op: F,
    ) -> Result<Executed<T>, ExecuteError<E>>
    where
        F: FnOnce(CancellationToken) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
        T: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        self.execute_with(id, None, CallOptions::default(), op)
            .await
    }

    /// [`execute`](Self::execute) with a payload fingerprint and per-call overrides. A
    /// fingerprint that differs from the one the id was first claimed with is
    /// [`ExecuteError::Conflict`], whatever state the id is in.
    pub async fn execute_with<T, E, F, Fut>(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
        call: CallOptions,
        op: F,
    ) -> Result<Executed<T>, ExecuteError<E>>
    where
        F: FnOnce(CancellationToken) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
        T: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let policy = call.failure_policy.unwrap_or(self.options.failure_policy);
        // No representable deadline means waiting for as long as it takes.
        let deadline = Instant::now().checked_add(self.options.wait_timeout);
        let mut waited = false;
        loop {
            match self
                .store
                .acquire(id, fingerprint, self.options.lease)
                .await?
            {
                Acquire::Acquired(ticket) => {
                    return self.run_owned(id, ticket, policy, op).await;
                }
                Acquire::Completed(result) => {
                    let served = if waited {
                        Served::Waited
                    } else {
                        Served::Cached
                    };
                    return stored(&result, served);
                }
                Acquire::Failed(failure) => return Err(ExecuteError::FailedElsewhere(failure)),
                Acquire::Conflict => return Err(ExecuteError::Conflict),
                Acquire::Indeterminate => return Err(ExecuteError::Indeterminate),
                Acquire::Running => {}
            }

            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => self.options.wait_timeout,
            };
            if remaining.is_zero() {
                return Err(ExecuteError::Timeout);
            }
            tracing::trace!(id, ?remaining, "running elsewhere; waiting");
            let status = self.store.wait(id, remaining).await?;
            waited = true;
            if status == CommandStatus::Failed {
                if let Some(failure) = self.store.failure(id, fingerprint).await? {
                    return Err(ExecuteError::FailedElsewhere(failure));
                }
                // Already claimed again, or failed by an override that recorded nothing:
                // see what stands now.
            }
            // Anything else, a wait that timed out included, goes back to `acquire`: a claim
            // whose lease lapsed unnoticed is taken over rather than reported as a timeout.
        }
    }
}
