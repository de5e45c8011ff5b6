//! The status of a command id, and the transitions between statuses that the store allows.
//!
//! # Legal transitions
//!
//! | from                            | to            | by                                      |
//! | ------------------------------- | ------------- | --------------------------------------- |
//! | NotFound                        | NotStarted    | register                                |
//! | NotFound, NotStarted, Failed    | InProgress    | claim                                   |
//! | InProgress                      | Completed     | complete (the result in the same step)  |
//! | InProgress                      | Failed        | fail                                    |
//! | InProgress                      | NotStarted    | release (the work never ran)            |
//! | InProgress                      | Indeterminate | the owner's lease lapsed mid-run        |
//! | any                             | NotFound      | remove, expiry                          |
//!
//! Completed is terminal until the record is removed or expires. Indeterminate leaves only by
//! removal or by an operator's override.
//!
//! [`transition_allowed`] is the one place this table is encoded; every conditional transition
//! in every backend asks it. The administrative override
//! ([`IdempotencyStore::set_status`](crate::IdempotencyStore::set_status)) is the only path that
//! bypasses it, and it is documented as such.

use std::fmt;

/// Where a command id stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandStatus {
    /// No record exists for the id (never seen, removed, or expired).
    NotFound,
    /// Registered, but nobody is running it.
    NotStarted,
    /// Claimed by one owner, who is running it now.
    InProgress,
    /// Ran to the end; its result is stored with it.
    Completed,
    /// Ran and failed.
    Failed,
    /// The owner lost its lease mid-run: nobody knows whether the side effect happened.
    Indeterminate,
}

impl CommandStatus {
    /// Every status, in declaration order.
    pub const ALL: [CommandStatus; 6] = [
        CommandStatus::NotFound,
        CommandStatus::NotStarted,
        CommandStatus::InProgress,
        CommandStatus::Completed,
        CommandStatus::Failed,
        CommandStatus::Indeterminate,
    ];

    /// The status's name as used in documentation, errors and the command-line tool.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandStatus::NotFound => "NotFound",
            CommandStatus::NotStarted => "NotStarted",
            CommandStatus::InProgress => "InProgress",
            CommandStatus::Completed => "Completed",
            CommandStatus::Failed => "Failed",
            CommandStatus::Indeterminate => "Indeterminate",
        }
    }

    /// True for the statuses from which a claim may start a run.
    pub fn is_claimable(self) -> bool {
        matches!(
            self,
            CommandStatus::NotFound | CommandStatus::NotStarted | CommandStatus::Failed
        )
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CommandStatus {
    type Err = crate::StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CommandStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| crate::StoreError::UnknownStatus(s.to_owned()))
    }
}

/// True when the table in this module's docs allows `from` to become `to`.
///
/// A status never "transitions" to itself: such a request changes nothing and is refused.
pub fn transition_allowed(from: CommandStatus, to: CommandStatus) -> bool {
    use CommandStatus::*;
    match (from, to) {
        (NotFound, NotFound) => false,
        (_, NotFound) => true,
        (NotFound, NotStarted) => true,
        (NotFound | NotStarted | Failed, InProgress) => true,
        (InProgress, Completed | Failed | NotStarted | Indeterminate) => true,
        _ => false,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use CommandStatus::*;

    #[test]
    fn completed_is_terminal_except_for_removal() {
        for to in CommandStatus::ALL {
            assert_eq!(
                transition_allowed(Completed, to),
                to == NotFound,
                "Completed -> {to}"
            );
        }
    }

    #[test]
    fn claim_starts_only_from_claimable_statuses() {
        for from in CommandStatus::ALL {
            assert_eq!(
                transition_allowed(from, InProgress),
                from.is_claimable(),
                "{from}"
            );
        }
    }

    #[test]
    fn only_in_progress_may_finish() {
        for to in [Completed, Failed, Indeterminate] {
            for from in CommandStatus::ALL {
                assert_eq!(
                    transition_allowed(from, to),
                    from == InProgress,
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip_through_from_str() {
        for status in CommandStatus::ALL {
            assert_eq!(status.as_str().parse::<CommandStatus>().unwrap(), status);
        }
        assert!("Done".parse::<CommandStatus>().is_err());
    }
}
