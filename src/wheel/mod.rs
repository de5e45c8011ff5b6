//! A hierarchical timing wheel that says which entries are due, doing bounded work per step.
//!
//! Six levels of 64 slots: a slot of level `d` covers `64^d` milliseconds, so level 0 resolves
//! single milliseconds within the next 64 ms and level 5 covers about 2.2 years. An entry sits
//! in the lowest level whose rotation still contains its due time; when the wheel reaches a
//! slot of a higher level, that slot's entries cascade into lower levels, one entry per step.
//!
//! # Invariants
//!
//! - `elapsed` never decreases. Every entry in level `d` is due within the level-`d` rotation
//!   that contains `elapsed`, and no lower level's rotation contains it.
//! - A due time already in the past is placed at `elapsed` (due at the next poll). A due time
//!   beyond the top level's reach is clamped to the farthest the wheel can hold: the caller
//!   re-checks any entry the wheel returns, and places it again if it is not really due.
//! - Entries are linked through themselves ([`Entry`]), so scheduling never allocates.
//!
//! The wheel is single-threaded; its owner serialises access.

mod level;

use level::{Level, SLOTS, slot_width};

/// Levels in the wheel.
pub(crate) const LEVELS: usize = 6;

/// The farthest ahead of `elapsed` an entry can be placed, in milliseconds.
const REACH: u64 = 1 << (6 * LEVELS);

/// Something the wheel can hold: a handle that stores its own due time and list link.
pub(crate) trait Entry: Copy {
    fn when(self) -> u64;
    fn set_when(self, when: u64);
    fn next(self) -> Option<Self>;
    fn set_next(self, next: Option<Self>);
}

pub(crate) struct Wheel<E: Entry> {
    /// The time up to which every slot has been taken.
    elapsed: u64,
    levels: Vec<Level<E>>,
    /// Entries of the last taken slot not yet handed out or cascaded: taking a slot is O(1),
    /// and each [`Wheel::poll`] then moves at most one of them.
    pending: Option<E>,
    /// Entries held, pending ones included.
    len: usize,
}

impl<E: Entry> Wheel<E> {
    pub(crate) fn new(now: u64) -> Self {
        Wheel {
            elapsed: now,
            levels: (0..LEVELS as u32).map(Level::new).collect(),
            pending: None,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Schedules `entry` to come due at `when`.
    pub(crate) fn insert(&mut self, entry: E, when: u64) {
        self.len += 1;
        self.place(entry, when);
    }

    fn place(&mut self, entry: E, when: u64) {
        // The farthest point is one top-level slot short of the full reach: a time in the
        // top level's current slot index but its next rotation would look due at once.
        let farthest = self.elapsed + REACH - slot_width(LEVELS as u32 - 1) - 1;
        let when = when.clamp(self.elapsed, farthest);
        entry.set_when(when);
        self.levels[level_for(self.elapsed, when)].push(entry, when);
    }

    /// The next entry due at `now`, or `None` once nothing more is due (the wheel then stands
    /// at `now`). Each call takes at most one slot and moves at most one entry, plus a check
    /// of each level's bitmap.
    pub(crate) fn poll(&mut self, now: u64) -> Option<E> {
        loop {
            if let Some(entry) = self.pending {
                self.pending = entry.next();
                entry.set_next(None);
                if entry.when() <= self.elapsed {
                    self.len -= 1;
                    return Some(entry);
                }
                // From a higher level: cascade it down, relative to the new `elapsed`.
                self.place(entry, entry.when());
                continue;
            }
            match self.next_slot() {
                Some((depth, slot, start)) if start <= now => {
                    self.elapsed = self.elapsed.max(start);
                    self.pending = self.levels[depth].take(slot);
                }
                _ => {
                    self.elapsed = self.elapsed.max(now);
                    return None;
                }
            }
        }
    }

    /// The earliest occupied slot: its level, index and start time. The lowest level with an
    /// occupied slot in its rotation always holds the earliest entries.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        self.levels.iter().enumerate().find_map(|(depth, level)| {
            level
                .next_occupied(self.elapsed)
                .map(|(slot, start)| (depth, slot, start))
        })
    }

    /// Removes every entry, due or not, handing each to `f` (used when the owner is dropped).
    pub(crate) fn drain(&mut self, mut f: impl FnMut(E)) {
        let mut lists: Vec<Option<E>> = vec![self.pending.take()];
        for level in &mut self.levels {
            for slot in 0..SLOTS {
                lists.push(level.take(slot));
            }
        }
        for mut list in lists {
            while let Some(entry) = list {
                list = entry.next();
                entry.set_next(None);
                f(entry);
            }
        }
        self.len = 0;
    }
}

/// The level an entry due at `when` belongs in while the wheel stands at `elapsed`: the level
/// of the highest six-bit group in which the two times differ.
fn level_for(elapsed: u64, when: u64) -> usize {
    let differing = (elapsed ^ when) | (SLOTS as u64 - 1);
    let highest_bit = 63 - differing.leading_zeros() as usize;
    (highest_bit / 6).min(LEVELS - 1)
}

#[cfg(all(test, not(loom)))]
mod tests;
