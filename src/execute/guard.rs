//! The claim guard: whoever drops a run before it reaches the store, the claim still ends.
//!
//! An owner's future can be dropped at any `.await`: a caller's timeout, a `select!` that
//! took another branch, an aborted task, a runtime shutting down. Rust has no async drop, so
//! the guard's `Drop` spawns the store call that ends the claim onto the current tokio runtime.
//!
//! # States
//!
//! ```text
//!   Running ──finished──> Ending(outcome) ──stored──> Settled
//!      │                       │
//!    dropped                dropped
//!      v                       v
//!   release or            store the outcome
//!   mark_indeterminate    (complete or fail)
//! ```
//!
//! While the command runs, a drop ends the claim as [`CancelPolicy`] says. Once the command has
//! an outcome, a drop while that outcome is being stored stores it anyway: the command did run,
//! so giving the claim back would let the next caller run it a second time.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::CancelPolicy;
use crate::{ClaimTicket, CommandResult, Failure, IdempotencyStore};

/// An outcome on its way to the store.
#[derive(Clone, Debug)]
pub(super) enum Ending {
    Complete(CommandResult),
    Fail(Failure),
}

/// How far the run has come, which decides what a drop does.
enum State {
    Running,
    Ending(Ending),
    Settled,
}

/// Ends a claim in the background if the run is dropped before ending it itself.
pub(super) struct ClaimGuard {
    /// Shared with the executor, so the spawned ending outlives the dropped call.
    store: Arc<dyn IdempotencyStore>,
    id: String,
    ticket: ClaimTicket,
    on_cancel: CancelPolicy,
    /// The token the command was given: a dropped run cancels it, so that any work the command
    /// handed the token to learns that nobody waits for it any more.
    token: CancellationToken,
    state: State,
}

impl ClaimGuard {
    /// A guard for a claim whose command is about to run.
    pub(super) fn running(
        store: Arc<dyn IdempotencyStore>,
        id: &str,
        ticket: ClaimTicket,
        on_cancel: CancelPolicy,
        token: CancellationToken,
    ) -> Self {
        ClaimGuard {
            store,
            id: id.to_owned(),
            ticket,
            on_cancel,
            token,
            state: State::Running,
        }
    }

    /// The command finished with this outcome: from now on a drop stores it.
    pub(super) fn ending(&mut self, ending: Ending) {
        self.state = State::Ending(ending);
    }

    /// The claim was ended (or was lost): a drop does nothing.
    pub(super) fn settle(&mut self) {
        self.state = State::Settled;
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let action = match std::mem::replace(&mut self.state, State::Settled) {
            State::Settled => return,
            State::Running => {
                self.token.cancel();
                Action::Abandon(self.on_cancel)
            }
            State::Ending(ending) => Action::Store(ending),
        };
        let (store, id, ticket) = (Arc::clone(&self.store), self.id.clone(), self.ticket);
        let ending = async move { action.apply(&*store, &id, ticket).await };
        // A backend that answers without suspending (the memory store does) ends the claim
        // right here, whatever becomes of the runtime; only one that must wait for I/O needs
        // a task.
        let Some(ending) = futures::FutureExt::boxed(ending).now_or_never_pending() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // LIMITATION: without a runtime there is nothing to run a backend's pending store
            // call on; the claim stands until its lease lapses, and waiters wait until then.
            tracing::warn!(
                id = %self.id,
                "command dropped outside a tokio runtime; its claim stays InProgress until \
                 its lease lapses"
            );
            return;
        };
        runtime.spawn(ending);
    }
}

/// Polls a future once: `None` if it finished, the future itself if it is still pending.
trait PollOnce: Sized {
    fn now_or_never_pending(self) -> Option<Self>;
}

impl PollOnce for futures::future::BoxFuture<'static, ()> {
    fn now_or_never_pending(mut self) -> Option<Self> {
        let waker = futures::task::noop_waker();
        let mut context = std::task::Context::from_waker(&waker);
        match self.as_mut().poll(&mut context) {
            std::task::Poll::Ready(()) => None,
            std::task::Poll::Pending => Some(self),
        }
    }
}

/// What a dropped guard asks of the store.
enum Action {
    /// The command did not finish: end the claim as the policy says.
    Abandon(CancelPolicy),
    /// The command finished: store its outcome.
    Store(Ending),
}

impl Action {
    async fn apply(self, store: &dyn IdempotencyStore, id: &str, ticket: ClaimTicket) {
        let (what, ended) = match self {
            Action::Abandon(CancelPolicy::Release) => ("release", store.release(id, ticket).await),
            Action::Abandon(CancelPolicy::Indeterminate) => (
                "mark_indeterminate",
                store.mark_indeterminate(id, ticket).await,
            ),
            Action::Store(Ending::Complete(result)) => {
                ("complete", store.complete(id, ticket, result).await)
            }
            Action::Store(Ending::Fail(failure)) => ("fail", store.fail(id, ticket, failure).await),
        };
        match ended {
            Ok(true) => tracing::debug!(id, what, "dropped run's claim ended"),
            // Someone fenced the claim first (its lease lapsed, an override): theirs stands.
            Ok(false) => tracing::debug!(id, what, "dropped run's claim was already gone"),
            Err(error) => tracing::warn!(
                id,
                what,
                %error,
                "could not end a dropped run's claim; it stays InProgress until its lease lapses"
            ),
        }
    }
}
