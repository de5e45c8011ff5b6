//! The slot word: one `u64` that holds everything a transition must check and change.
//!
//! ```text
//!  63                                     24 23            12 11        4   3   2     0
//! +-----------------------------------------+----------------+-----------+----+--------+
//! |            deadline (40 bits)           | generation (12)|  tag (8)  | MV | status |
//! +-----------------------------------------+----------------+-----------+----+--------+
//! ```
//!
//! - `status`: [`EMPTY`] (the slot was never used), one of the five live statuses, or
//!   [`REMOVED`] (a tombstone: the record was removed and its memory retired).
//! - `MV` (moved): set by a migration when it freezes the slot. A frozen word never changes
//!   again; the record continues in the next table.
//! - `tag`: eight bits of the key's hash, so a probe skips most foreign slots without touching
//!   their key bytes. It is a filter only; the key bytes decide.
//! - `generation`: bumped by every claim and every administrative override, so a claim that has
//!   been overtaken can recognise itself as stale. Equality is all that is ever asked of it. It
//!   never wraps: a record whose generations run out is replaced by a fresh record.
//! - `deadline`: milliseconds since the store's clock origin after which the record reads as
//!   expired, or 0 for none. Forty bits reach 34 years past the origin. Keeping it in the
//!   word means a status change and its new deadline are one compare-and-swap, and expiry
//!   can compare the exact word it scheduled.
//!
//! An all-zero word is an empty slot, which is why no live status is coded as 0.

use crate::CommandStatus;

pub(crate) const STATUS_BITS: u32 = 3;
pub(crate) const STATUS_MASK: u64 = (1 << STATUS_BITS) - 1;

pub(crate) const MOVED: u64 = 1 << STATUS_BITS;

pub(crate) const TAG_SHIFT: u32 = 4;
pub(crate) const TAG_BITS: u32 = 8;
pub(crate) const TAG_MASK: u64 = ((1 << TAG_BITS) - 1) << TAG_SHIFT;

pub(crate) const GEN_SHIFT: u32 = TAG_SHIFT + TAG_BITS;
pub(crate) const GEN_BITS: u32 = 12;
pub(crate) const GEN_MASK: u64 = ((1 << GEN_BITS) - 1) << GEN_SHIFT;

pub(crate) const DEADLINE_SHIFT: u32 = GEN_SHIFT + GEN_BITS;
/// The largest deadline a word can hold (about 34.8 years of milliseconds).
pub(crate) const DEADLINE_MAX: u64 = (1 << (64 - DEADLINE_SHIFT)) - 1;

/// The slot was never used: a probe for any key ends here.
pub(crate) const EMPTY: u64 = 0;
/// The slot's record was removed: probes pass over it, inserts never reuse it.
pub(crate) const REMOVED: u64 = 6;

/// Encodes a live status. `NotFound` has no live code: a record that is not found is either
/// absent or [`REMOVED`].
pub(crate) fn status_code(status: CommandStatus) -> u64 {
    match status {
        CommandStatus::NotFound => REMOVED,
        CommandStatus::NotStarted => 1,
        CommandStatus::InProgress => 2,
        CommandStatus::Completed => 3,
        CommandStatus::Failed => 4,
        CommandStatus::Indeterminate => 5,
    }
}

/// The status a word shows to a reader. Empty and removed slots read as `NotFound`.
pub(crate) fn status_of(word: u64) -> CommandStatus {
    match word & STATUS_MASK {
        1 => CommandStatus::NotStarted,
        2 => CommandStatus::InProgress,
        3 => CommandStatus::Completed,
        4 => CommandStatus::Failed,
        5 => CommandStatus::Indeterminate,
        _ => CommandStatus::NotFound,
    }
}

pub(crate) fn is_empty(word: u64) -> bool {
    word & STATUS_MASK == EMPTY
}

pub(crate) fn is_removed(word: u64) -> bool {
    word & STATUS_MASK == REMOVED
}

/// A live word holds a record: neither empty nor a tombstone.
pub(crate) fn is_live(word: u64) -> bool {
    !is_empty(word) && !is_removed(word)
}

pub(crate) fn is_moved(word: u64) -> bool {
    word & MOVED != 0
}

pub(crate) fn tag_of(word: u64) -> u64 {
    (word & TAG_MASK) >> TAG_SHIFT
}

/// The tag a key with this hash carries. Taken from bits that neither the shard choice (the
/// top bits) nor the home slot (the low bits) use, so it still filters inside one probe run.
pub(crate) fn tag_for_hash(hash: u64) -> u64 {
    (hash >> 40) & ((1 << TAG_BITS) - 1)
}

pub(crate) fn generation_of(word: u64) -> u64 {
    (word & GEN_MASK) >> GEN_SHIFT
}

/// The generation after `generation`, or `None` once the field is exhausted. A record whose
/// generation cannot move on is replaced by a fresh record (a new incarnation) instead, so that
/// a ticket never matches a claim 65,536 generations younger than its own.
pub(crate) fn next_generation(generation: u64) -> Option<u64> {
    (generation + 1 < (1 << GEN_BITS)).then_some(generation + 1)
}

#[allow(dead_code, reason = "read by tests; expiry reads it next")]
pub(crate) fn deadline_of(word: u64) -> u64 {
    word >> DEADLINE_SHIFT
}

/// Assembles a word from its fields. The caller keeps the deadline within [`DEADLINE_MAX`]
/// (see `Expiry::deadline`); a larger one saturates.
pub(crate) fn pack(status: CommandStatus, tag: u64, generation: u64, deadline: u64) -> u64 {
    debug_assert!(
        status != CommandStatus::NotFound,
        "pack: NotFound has no live word"
    );
    debug_assert!(tag < (1 << TAG_BITS), "pack: tag {tag} too wide");
    debug_assert!(
        generation < (1 << GEN_BITS),
        "pack: generation {generation} too wide"
    );
    status_code(status)
        | (tag << TAG_SHIFT)
        | (generation << GEN_SHIFT)
        | (deadline.min(DEADLINE_MAX) << DEADLINE_SHIFT)
}

/// The same word with another status and deadline, generation and tag kept.
pub(crate) fn with_status(word: u64, status: CommandStatus, deadline: u64) -> u64 {
    pack(status, tag_of(word), generation_of(word), deadline)
}

/// The tombstone a removal leaves: status REMOVED, the tag kept so the slot stays cheap to skip.
pub(crate) fn removed_from(word: u64) -> u64 {
    (word & TAG_MASK) | REMOVED
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_without_overlap() {
        for status in CommandStatus::ALL.into_iter().skip(1) {
            let word = pack(status, 0xAB, 0xBEE, 123_456_789_000);

            assert_eq!(status_of(word), status);
            assert_eq!(tag_of(word), 0xAB);
            assert_eq!(generation_of(word), 0xBEE);
            assert_eq!(deadline_of(word), 123_456_789_000);
            assert!(!is_moved(word) && is_live(word));
        }
    }

    #[test]
    fn deadline_saturates_instead_of_spilling_into_other_fields() {
        let word = pack(CommandStatus::Completed, 1, 2, u64::MAX);

        assert_eq!(deadline_of(word), DEADLINE_MAX);
        assert_eq!(generation_of(word), 2);
    }

    #[test]
    fn generation_is_exhausted_instead_of_wrapping() {
        assert_eq!(next_generation(7), Some(8));
        assert_eq!(next_generation((1 << GEN_BITS) - 1), None);
    }

    #[test]
    fn empty_and_removed_read_as_not_found() {
        assert_eq!(status_of(EMPTY), CommandStatus::NotFound);
        assert_eq!(
            status_of(removed_from(pack(CommandStatus::Failed, 9, 9, 9))),
            CommandStatus::NotFound
        );
        assert!(is_removed(removed_from(pack(
            CommandStatus::Failed,
            9,
            9,
            9
        ))));
    }
}
