//! The typed errors every store operation can return.

use crate::CommandStatus;

/// What went wrong in a store operation. Bad input is always one of these, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The command id was the empty string.
    #[error("command id is empty")]
    EmptyId,

    /// The command id is longer than the store's configured maximum.
    #[error("command id is {len} bytes long; this store accepts at most {max}")]
    IdTooLong {
        /// The id's length in bytes.
        len: usize,
        /// The store's limit in bytes.
        max: usize,
    },

    /// The requested status change is not in the table of legal transitions, or needs a
    /// result that the call cannot carry (Completed is only reached with a result).
    #[error("transition {from} -> {to} is not allowed")]
    InvalidTransition {
        /// The status the request started from.
        from: CommandStatus,
        /// The status it asked for.
        to: CommandStatus,
    },

    /// A status name that is not one of [`CommandStatus::ALL`].
    #[error("unknown command status {0:?}")]
    UnknownStatus(String),

    /// The backend could not be reached or answered with an error.
    #[error("backend error: {0}")]
    Backend(String),
}
