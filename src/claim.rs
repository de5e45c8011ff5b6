//! The vocabulary of fenced claims: tickets, fingerprints, failures and what an acquire finds.

use std::fmt;
use std::sync::Arc;

use crate::CommandResult;

/// Proof of a successful claim: which record, and which generation of it, the caller owns.
///
/// Every call that finishes a claim ([`complete`](crate::IdempotencyStore::complete),
/// [`fail`](crate::IdempotencyStore::fail), [`release`](crate::IdempotencyStore::release),
/// [`renew`](crate::IdempotencyStore::renew),
/// [`mark_indeterminate`](crate::IdempotencyStore::mark_indeterminate)) succeeds only while the
/// record still shows this exact claim, so an owner that was overtaken (by a removal, an
/// override, expiry, or a later claim after its lease lapsed) can never change the newer
/// owner's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimTicket {
    /// Identifies the record instance: unique per record a process ever creates, so a ticket
    /// from before a removal never matches the record created after it.
    pub incarnation: u64,
    /// The generation the claim moved the record to.
    pub generation: u64,
}

/// What a plain claim found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The caller now owns the command and must complete, fail or release it.
    Acquired(ClaimTicket),
    /// Somebody else's record stands: the command is running, done, or indeterminate.
    Existing(crate::CommandStatus),
}

impl ClaimOutcome {
    /// The ticket, if the claim was acquired.
    pub fn ticket(self) -> Option<ClaimTicket> {
        match self {
            ClaimOutcome::Acquired(ticket) => Some(ticket),
            ClaimOutcome::Existing(_) => None,
        }
    }
}

/// A digest of a command's payload. Two deliveries of one id with different fingerprints are
/// different commands sharing an id by mistake: the second gets [`Acquire::Conflict`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The fingerprint of a payload (XXH3, 64 bits; stable across processes and versions).
    ///
    /// ```
    /// use idemstore::Fingerprint;
    /// assert_eq!(Fingerprint::of(b"order 17"), Fingerprint::of(b"order 17"));
    /// assert_ne!(Fingerprint::of(b"order 17"), Fingerprint::of(b"order 18"));
    /// ```
    pub fn of(payload: &[u8]) -> Self {
        // 0 is the record's "no fingerprint"; a payload that hashes to it is nudged off it.
        Fingerprint(xxhash_rust::xxh3::xxh3_64(payload).max(1))
    }

    pub(crate) fn raw(fingerprint: Option<Fingerprint>) -> u64 {
        fingerprint.map_or(0, |f| f.0.max(1))
    }
}

/// What happens to the next call of a command whose run failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FailurePolicy {
    /// The next call runs the command again.
    #[default]
    Retryable,
    /// The failure is kept for the store's failed age and replayed to later callers without
    /// running anything.
    Terminal,
}

/// A failed run, as the store keeps it for waiters and later callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The failure's message.
    pub message: Arc<str>,
    /// Whether later calls may run the command again.
    pub policy: FailurePolicy,
}

impl Failure {
    /// A failure with this message and policy.
    pub fn new(message: impl Into<Arc<str>>, policy: FailurePolicy) -> Self {
        Failure {
            message: message.into(),
            policy,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What [`acquire`](crate::IdempotencyStore::acquire) found.
#[derive(Clone, Debug)]
pub enum Acquire {
    /// The caller owns the command now and must complete, fail or release it.
    Acquired(ClaimTicket),
    /// Another owner is running it, within its lease.
    Running,
    /// It ran; here is the stored result.
    Completed(CommandResult),
    /// It failed terminally; the failure is replayed.
    Failed(Failure),
    /// The id is taken by a command with a different payload fingerprint.
    Conflict,
    /// An owner lost its lease mid-run: an operator must resolve or reset it.
    Indeterminate,
}

/// How an operator settles an Indeterminate command.
#[derive(Clone, Debug)]
pub enum Resolution {
    /// The side effect happened: store this result.
    Completed(CommandResult),
    /// It did not, or it failed: record this failure.
    Failed(Failure),
}

/// What happens when an owner's lease lapses while its command is InProgress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LapsePolicy {
    /// The record expires and the next caller claims it afresh; the old owner is fenced.
    #[default]
    TakeOver,
    /// The record becomes Indeterminate and stays so until an operator resolves or resets it
    /// (for side effects that must never repeat).
    Indeterminate,
}

/// What the store keeps in a record's cell.
#[derive(Clone, Debug)]
pub(crate) enum Stored {
    Result(CommandResult),
    Failure(Failure),
}
