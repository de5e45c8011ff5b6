//! Why a call of the executor has no value, and which of those reasons another attempt may
//! cure.

use std::fmt;

use crate::{Failure, FailurePolicy, StoreError};

/// Why a call of the executor has no value.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<E> {
    /// This caller ran the command and it returned this error. The store recorded the failure
    /// (its message is the error's `Display`) under the call's failure policy.
    #[error("command failed: {0}")]
    Failed(E),
    /// Another caller's run failed: the failure the store recorded. A duplicate that waited
    /// on that run, or any later caller of a terminally failed command, gets this.
    #[error("command failed in another caller: {0}")]
    FailedElsewhere(Failure),
    /// The command was still running elsewhere when this caller's wait deadline passed.
    #[error("timed out waiting for the command's running owner")]
    Timeout,
    /// The id belongs to a command with a different payload fingerprint.
    #[error("command id is taken by a command with a different payload fingerprint")]
    Conflict,
    /// A run's outcome is unknown; nothing runs it again until an operator resolves or resets
    /// it.
    #[error("command outcome is indeterminate: an operator must resolve or reset it")]
    Indeterminate,
    /// This caller's claim was taken from it while the command ran (its lease lapsed or an
    /// override fenced it), so its outcome was not stored. The command may have had its
    /// effect.
    #[error("claim was lost while the command ran; its outcome was not stored")]
    OwnershipLost,
    /// The stored result is not of the type this call asked for.
    ///
    /// LIMITATION: results travel as shared in-process values and are read back by
    /// downcasting, so a backend that stores bytes needs a codec before its results can be
    /// returned here; until then its completed ids report this error.
    #[error("stored result is not of the requested type")]
    ResultType,
    /// The store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
}

impl<E: fmt::Display> ExecuteError<E> {
    /// The same outcome as seen by another caller of the same id: the run's own error becomes
    /// the failure the store recorded for it.
    pub(super) fn shared(&self, policy: FailurePolicy) -> ExecuteError<E> {
        match self {
            ExecuteError::Failed(error) => {
                ExecuteError::FailedElsewhere(Failure::new(error.to_string(), policy))
            }
            ExecuteError::FailedElsewhere(failure) => {
                ExecuteError::FailedElsewhere(failure.clone())
            }
            ExecuteError::Timeout => ExecuteError::Timeout,
            ExecuteError::Conflict => ExecuteError::Conflict,
            ExecuteError::Indeterminate => ExecuteError::Indeterminate,
            ExecuteError::OwnershipLost => ExecuteError::OwnershipLost,
            ExecuteError::ResultType => ExecuteError::ResultType,
            ExecuteError::Store(error) => ExecuteError::Store(error.clone()),
        }
    }

    /// True if calling again may succeed: a failure the policy allows to run again, a wait
    /// that timed out, or a backend error. Bad input, conflicts, indeterminate and terminally
    /// failed commands, and lost claims need a person, not another attempt.
    pub fn is_retryable(&self, policy: FailurePolicy) -> bool {
        match self {
            ExecuteError::Failed(_) => policy == FailurePolicy::Retryable,
            ExecuteError::FailedElsewhere(failure) => failure.policy == FailurePolicy::Retryable,
            ExecuteError::Timeout => true,
            ExecuteError::Store(error) => matches!(error, StoreError::Backend(_)),
            ExecuteError::Conflict
            | ExecuteError::Indeterminate
            | ExecuteError::OwnershipLost
            | ExecuteError::ResultType => false,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn another_callers_copy_of_an_own_error_is_the_recorded_failure() {
        let outcome: ExecuteError<String> = ExecuteError::Failed("card declined".into());

        let copy = outcome.shared(FailurePolicy::Terminal);

        let expected = Failure::new("card declined", FailurePolicy::Terminal);
        assert!(matches!(copy, ExecuteError::FailedElsewhere(f) if f == expected));
    }

    #[test]
    fn only_transient_errors_are_retryable() {
        let retryable = |e: ExecuteError<&str>, p| e.is_retryable(p);

        assert!(retryable(
            ExecuteError::Failed("x"),
            FailurePolicy::Retryable
        ));
        assert!(!retryable(
            ExecuteError::Failed("x"),
            FailurePolicy::Terminal
        ));
        assert!(retryable(ExecuteError::Timeout, FailurePolicy::Terminal));
        assert!(retryable(
            ExecuteError::Store(StoreError::Backend("down".into())),
            FailurePolicy::Retryable
        ));
        assert!(!retryable(
            ExecuteError::Store(StoreError::EmptyId),
            FailurePolicy::Retryable
        ));
        assert!(!retryable(ExecuteError::Conflict, FailurePolicy::Retryable));
        assert!(!retryable(
            ExecuteError::Indeterminate,
            FailurePolicy::Retryable
        ));
    }
}
