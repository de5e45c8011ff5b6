//! One level of the timing wheel: 64 slots of equal width and a bitmap of the occupied ones.

use super::Entry;

/// Slots per level.
pub(crate) const SLOTS: usize = 64;

/// A level whose slots are each `64^depth` milliseconds wide.
pub(crate) struct Level<E: Entry> {
    depth: u32,
    /// Bit `s` is set while slot `s` holds at least one entry: finding the next occupied slot
    /// is one rotate and one trailing-zeros count instead of a scan.
    occupied: u64,
    /// Each slot is the head of an intrusive list linked through the entries.
    slots: [Option<E>; SLOTS],
}

impl<E: Entry> Level<E> {
    pub(crate) fn new(depth: u32) -> Self {
        Level {
            depth,
            occupied: 0,
            slots: [None; SLOTS],
        }
    }

    /// Adds `entry`, due at `when`, to the slot that covers `when`.
    pub(crate) fn push(&mut self, entry: E, when: u64) {
        let slot = slot_for(when, self.depth);
        entry.set_next(self.slots[slot]);
        self.slots[slot] = Some(entry);
        self.occupied |= 1 << slot;
    }

    /// Removes and returns the whole list of a slot.
    pub(crate) fn take(&mut self, slot: usize) -> Option<E> {
        self.occupied &= !(1 << slot);
        self.slots[slot].take()
    }

    /// The first occupied slot at or after the one covering `now`, and the time its range
    /// starts, as long as it lies within this level's current rotation.
    pub(crate) fn next_occupied(&self, now: u64) -> Option<(usize, u64)> {
        if self.occupied == 0 {
            return None;
        }
        let width = slot_width(self.depth);
        let start = slot_for(now, self.depth);
        let distance = self.occupied.rotate_right(start as u32).trailing_zeros() as u64;
        let slot = (start + distance as usize) % SLOTS;

        // The rotation this level is in began at `now` rounded down to a whole level.
        let level_start = now - now % (width * SLOTS as u64);
        let mut deadline = level_start + slot as u64 * width;
        if slot < start {
            // Wrapped into the next rotation of this level.
            deadline += width * SLOTS as u64;
        }
        debug_assert!(
            deadline + width > now,
            "next_occupied: slot {slot} of depth {} ends at {} before now {now}",
            self.depth,
            deadline + width
        );
        Some((slot, deadline))
    }
}

/// Milliseconds one slot of a level of this depth covers.
pub(crate) fn slot_width(depth: u32) -> u64 {
    1 << (6 * depth)
}

/// The slot of a level of this depth that covers `when`.
pub(crate) fn slot_for(when: u64, depth: u32) -> usize {
    ((when >> (6 * depth)) % SLOTS as u64) as usize
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn slot_for_uses_six_bits_per_depth() {
        assert_eq!(slot_for(5, 0), 5);
        assert_eq!(slot_for(64 + 5, 0), 5);
        assert_eq!(slot_for(64 * 3 + 5, 1), 3);
        assert_eq!(slot_for(64 * 64 * 7, 2), 7);
    }

    #[test]
    fn slot_width_grows_by_sixty_four_per_depth() {
        assert_eq!(slot_width(0), 1);
        assert_eq!(slot_width(1), 64);
        assert_eq!(slot_width(3), 64 * 64 * 64);
    }
}
