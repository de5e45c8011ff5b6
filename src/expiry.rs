//! How long each status is remembered.
//!
//! Every record carries a deadline that follows its status: a status change sets the deadline
//! for the new status, counted from the change (completing sets the full completion age, not
//! what was left of the claim's lease). From the instant its deadline passes a record reads as
//! `NotFound`, however late its physical removal comes, and a new claim on it succeeds at once.
//! Indeterminate records never expire: an operator resolves them.

use std::time::Duration;

use crate::CommandStatus;
use crate::clock::millis;

/// Ages per status. `None` means "never expires".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// How long a Completed result is kept and replayed (default 24 h).
    pub completed: Option<Duration>,
    /// How long a Failed record is kept (default 1 h).
    pub failed: Option<Duration>,
    /// The default lease of a claim: how long an InProgress record stands without being
    /// renewed before its owner is presumed gone (default 30 min).
    pub in_progress: Option<Duration>,
    /// How long a registered or released record is kept (default 30 min).
    pub not_started: Option<Duration>,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            completed: Some(Duration::from_secs(24 * 3600)),
            failed: Some(Duration::from_secs(3600)),
            in_progress: Some(Duration::from_secs(30 * 60)),
            not_started: Some(Duration::from_secs(30 * 60)),
        }
    }
}

impl Expiry {
    /// Nothing ever expires.
    pub fn never() -> Self {
        Expiry {
            completed: None,
            failed: None,
            in_progress: None,
            not_started: None,
        }
    }

    /// The age of a status (`None` for Indeterminate and NotFound).
    pub fn age_of(&self, status: CommandStatus) -> Option<Duration> {
        match status {
            CommandStatus::Completed => self.completed,
            CommandStatus::Failed => self.failed,
            CommandStatus::InProgress => self.in_progress,
            CommandStatus::NotStarted => self.not_started,
            CommandStatus::NotFound | CommandStatus::Indeterminate => None,
        }
    }

    /// The deadline (ms on the store's clock, 0 for none) of a record entering `status` at
    /// `now`; `lease` overrides the InProgress age for one claim.
    ///
    /// LIMITATION: a deadline more than about 34 years past the store's clock origin does not
    /// fit the slot word; it is treated as no deadline (never expires) rather than cut short,
    /// since forgetting early could run a command twice.
    pub(crate) fn deadline(&self, status: CommandStatus, now: u64, lease: Option<Duration>) -> u64 {
        let age = match (status, lease) {
            (CommandStatus::InProgress, Some(lease)) => Some(lease),
            _ => self.age_of(status),
        };
        let Some(age) = age else { return 0 };
        let deadline = now.saturating_add(millis(age).max(1));
        if deadline > crate::raw::word::DEADLINE_MAX {
            0
        } else {
            deadline
        }
    }

    /// The shortest configured age: a record is never expected to expire sooner after its
    /// last change, so the timing wheel revisits records at least this often.
    pub(crate) fn shortest(&self) -> Option<Duration> {
        [
            self.completed,
            self.failed,
            self.in_progress,
            self.not_started,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
