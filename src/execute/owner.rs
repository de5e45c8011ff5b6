//! Running a command as the owner of its claim: the lease kept alive, a panic caught, and the
//! outcome stored for every other caller.
//!
//! # What the owner guarantees
//!
//! - The claim never stays InProgress because of anything the command does: a value
//!   completes it, an error or a panic fails it, and a dropped run is ended by the
//!   [`ClaimGuard`]. Each of those leaves InProgress, which wakes every waiter.
//! - A claim the store took away (lease lapsed, override) is never completed: the outcome is
//!   [`ExecuteError::OwnershipLost`], and the command's token is cancelled as soon as a renewal
//!   finds out.
//! - Nothing is held across an `.await` but owned values and the guard, which holds no lock.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::guard::{ClaimGuard, Ending};
use super::{ExecuteError, Executed, Executor, Served};
use crate::{ClaimTicket, CommandResult, Failure, FailurePolicy, IdempotencyStore};

/// What became of the command while the owner drove it.
enum Ran<O> {
    /// It returned (or panicked) while the claim was still ours.
    Finished(O),
    /// A renewal found the claim gone; the command was told to stop and has returned.
    Lost,
}

/// A command's return, or the panic it raised.
type Caught<T, E> = Result<Result<T, E>, Box<dyn Any + Send>>;

impl Executor {
    /// Runs `op` under the claim `ticket` and stores its outcome.
    pub(super) async fn run_owned<T, E, F, Fut>(
        &self,
        id: &str,
        ticket: ClaimTicket,
        policy: FailurePolicy,
        op: F,
    ) -> Result<Executed<T>, ExecuteError<E>>
    where
        F: FnOnce(CancellationToken) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
        T: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let token = CancellationToken::new();
        let mut guard = ClaimGuard::running(
            Arc::clone(&self.store),
            id,
            ticket,
            self.options.on_cancel,
            token.clone(),
        );
        tracing::debug!(id, "claimed; running the command");

        // The command is called inside the caught future, so a panic while building its
        // future is caught like one while polling it.
        let given = token.clone();
        let work = AssertUnwindSafe(async move { op(given).await }).catch_unwind();
        let ran = match self.options.lease {
            Some(lease) => renewing(&*self.store, id, ticket, lease, &token, work).await,
            None => Ran::Finished(work.await),
        };

        match ran {
            Ran::Lost => {
                guard.settle();
                tracing::warn!(
                    id,
                    "claim lost while the command ran; its outcome is not stored"
                );
                Err(ExecuteError::OwnershipLost)
            }
            Ran::Finished(Ok(Ok(value))) => self.complete(id, ticket, guard, value).await,
            Ran::Finished(Ok(Err(error))) => {
                let failure = Failure::new(error.to_string(), policy);
                self.fail(id, ticket, guard, failure).await;
                Err(ExecuteError::Failed(error))
            }
            Ran::Finished(Err(panic)) => {
                let failure = Failure::new(format!("panicked: {}", panic_message(&*panic)), policy);
                self.fail(id, ticket, guard, failure).await;
                panic::resume_unwind(panic)
            }
        }
    }

    /// Stores the value as the command's result; the owner gets the very `Arc` waiters get.
    async fn complete<T, E>(
        &self,
        id: &str,
        ticket: ClaimTicket,
        mut guard: ClaimGuard,
        value: T,
    ) -> Result<Executed<T>, ExecuteError<E>>
    where
        T: Send + Sync + 'static,
    {
        let value = Arc::new(value);
        let result = CommandResult::from_arc(Arc::clone(&value));
        guard.ending(Ending::Complete(result.clone()));
        let completed = self.store.complete(id, ticket, result).await;
        guard.settle();
        match completed {
            Ok(true) => {
                tracing::debug!(id, "completed");
                Ok(Executed {
                    value,
                    served: Served::Ran,
                })
            }
            Ok(false) => {
                tracing::warn!(id, "claim lost before the result was stored");
                Err(ExecuteError::OwnershipLost)
            }
            // LIMITATION: the command ran but its result could not be stored; the claim stands
            // until its lease lapses, and then the command may run again.
            Err(error) => Err(ExecuteError::Store(error)),
        }
    }

    /// Records the failure. The owner's answer is its own error (or panic) whatever the store
    /// says, so a store that cannot record it is logged rather than returned.
    async fn fail(&self, id: &str, ticket: ClaimTicket, mut guard: ClaimGuard, failure: Failure) {
        guard.ending(Ending::Fail(failure.clone()));
        let failed = self.store.fail(id, ticket, failure).await;
        guard.settle();
        match failed {
            Ok(true) => tracing::debug!(id, "failed"),
            Ok(false) => tracing::debug!(id, "claim lost before the failure was recorded"),
            Err(error) => tracing::warn!(
                id,
                %error,
                "could not record the failure; the claim stands until its lease lapses"
            ),
        }
    }
}

/// Drives `work` while renewing the claim every third of `lease`. If a renewal finds the claim
/// gone, cancels `token` and lets `work` run to its end, so the command can stop at a point of
/// its choosing; its outcome is then discarded, unless it panicked.
async fn renewing<T, E, W>(
    store: &dyn IdempotencyStore,
    id: &str,
    ticket: ClaimTicket,
    lease: Duration,
    token: &CancellationToken,
    work: W,
) -> Ran<Caught<T, E>>
where
    W: Future<Output = Caught<T, E>>,
{
    // A third leaves two renewals' worth of slack: one late or failed renewal does not lose
    // the claim. The floor keeps a tiny lease from becoming a busy loop.
    let period = (lease / 3).max(Duration::from_millis(1));
    let renewals = async {
        let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.renew(id, ticket, lease).await {
                Ok(true) => {}
                Ok(false) => return,
                // The next renewal may get through; if the lease lapses first, it reports so.
                Err(error) => tracing::warn!(id, %error, "lease renewal failed"),
            }
        }
    };

    tokio::pin!(work);
    tokio::select! {
        biased;
        caught = &mut work => return Ran::Finished(caught),
        () = renewals => {}
    }

    token.cancel();
    if let Err(panic) = work.await {
        panic::resume_unwind(panic);
    }
    Ran::Lost
}

/// The text of a panic's payload: what `panic!` was given, when that was a string.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "a panic without a message"
    }
}
