//! What a call of the executor hands back: the value and how it was served, or why not.

use std::fmt;
use std::sync::Arc;

use super::ExecuteError;
use crate::{CommandResult, FailurePolicy};

/// A command's value, and how this caller came by it.
pub struct Executed<T> {
    /// The value the command's one run produced: every caller of the id shares this `Arc`.
    pub value: Arc<T>,
    /// Whether this caller ran the command, waited for the run, or found it done.
    pub served: Served,
}

impl<T> Clone for Executed<T> {
    fn clone(&self) -> Self {
        Executed {
            value: Arc::clone(&self.value),
            served: self.served,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Executed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executed")
            .field("value", &self.value)
            .field("served", &self.served)
            .finish()
    }
}

/// How a caller came by a command's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Served {
    /// This caller claimed the command and ran it.
    Ran,
    /// A duplicate: it found the command running and waited for the owner's result.
    Waited,
    /// The command had already completed; its stored result was returned and nothing ran.
    Cached,
}

/// A stored result as `T`, or [`ExecuteError::ResultType`].
pub(super) fn stored<T, E>(
    result: &CommandResult,
    served: Served,
) -> Result<Executed<T>, ExecuteError<E>>
where
    T: Send + Sync + 'static,
{
    match result.downcast::<T>() {
        Some(value) => Ok(Executed { value, served }),
        None => Err(ExecuteError::ResultType),
    }
}

/// Another caller's copy of an outcome: a run becomes a wait, the rest stays as it was.
pub(super) fn shared_outcome<T, E: fmt::Display>(
    outcome: &Result<Executed<T>, ExecuteError<E>>,
    policy: FailurePolicy,
) -> Result<Executed<T>, ExecuteError<E>> {
    match outcome {
        Ok(executed) => Ok(Executed {
            value: Arc::clone(&executed.value),
            served: match executed.served {
                Served::Ran => Served::Waited,
                other => other,
            },
        }),
        Err(error) => Err(error.shared(policy)),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn another_callers_copy_of_a_run_reads_as_a_wait_on_the_same_value() {
        let value = Arc::new(7_u32);
        let outcome: Result<_, ExecuteError<String>> = Ok(Executed {
            value: Arc::clone(&value),
            served: Served::Ran,
        });

        let copy = shared_outcome(&outcome, FailurePolicy::Retryable).unwrap();

        assert_eq!(copy.served, Served::Waited);
        assert!(Arc::ptr_eq(&copy.value, &value));
    }
}
