//! The wheel against a plain model: every entry comes out exactly once, at or after its due
//! time, and never before.

use std::cell::Cell;

use super::*;

struct Node {
    id: usize,
    when: Cell<u64>,
    next: Cell<Option<&'static Node>>,
}

impl Entry for &'static Node {
    fn when(self) -> u64 {
        self.when.get()
    }
    fn set_when(self, when: u64) {
        self.when.set(when)
    }
    fn next(self) -> Option<Self> {
        self.next.get()
    }
    fn set_next(self, next: Option<Self>) {
        self.next.set(next)
    }
}

fn nodes(count: usize) -> &'static [Node] {
    let nodes: Vec<Node> = (0..count)
        .map(|id| Node {
            id,
            when: Cell::new(0),
            next: Cell::new(None),
        })
        .collect();
    Box::leak(nodes.into_boxed_slice())
}

/// Polls until nothing is due at `now`, returning the ids that came out.
fn due(wheel: &mut Wheel<&'static Node>, now: u64) -> Vec<usize> {
    std::iter::from_fn(|| wheel.poll(now))
        .map(|node| node.id)
        .collect()
}

#[test]
fn an_entry_comes_due_at_its_time_and_not_before() {
    let node = nodes(1);
    let mut wheel = Wheel::new(1_000);
    wheel.insert(&node[0], 1_050);

    assert!(due(&mut wheel, 1_049).is_empty());
    assert_eq!(due(&mut wheel, 1_050), vec![0]);
    assert_eq!(wheel.len(), 0);
}

#[test]
fn deadlines_cascade_through_every_level() {
    let start = 7;
    let offsets: Vec<u64> = (0..LEVELS as u32).map(|d| slot_width(d) * 3 + 5).collect();
    let node = nodes(offsets.len());
    let mut wheel = Wheel::new(start);
    for (i, offset) in offsets.iter().enumerate() {
        wheel.insert(&node[i], start + offset);
    }

    for (i, offset) in offsets.iter().enumerate() {
        assert!(
            due(&mut wheel, start + offset - 1).is_empty(),
            "level {i} came out early"
        );
        assert_eq!(
            due(&mut wheel, start + offset),
            vec![i],
            "level {i} not due on time"
        );
    }
    assert_eq!(wheel.len(), 0);
}

#[test]
fn a_deadline_beyond_the_top_level_is_clamped_not_lost() {
    let farthest = REACH - slot_width(LEVELS as u32 - 1) - 1;
    for start in [0, 12_345, (1 << 30) + 7] {
        let node = nodes(1);
        let mut wheel = Wheel::new(start);
        wheel.insert(&node[0], u64::MAX / 2);

        assert!(
            due(&mut wheel, start + farthest - 1).is_empty(),
            "early, from {start}"
        );
        assert_eq!(
            due(&mut wheel, start + farthest),
            vec![0],
            "late, from {start}"
        );
    }
}

#[test]
fn a_deadline_in_the_past_is_due_at_once() {
    let node = nodes(1);
    let mut wheel = Wheel::new(5_000);
    wheel.insert(&node[0], 10);

    assert_eq!(due(&mut wheel, 5_000), vec![0]);
}

#[test]
fn many_random_deadlines_each_come_out_once_and_on_time() {
    let count = 20_000;
    let node = nodes(count);
    let mut wheel = Wheel::new(0);
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut due_at = Vec::with_capacity(count);
    for n in node {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let when = state % (slot_width(4) * 2);
        due_at.push(when);
        wheel.insert(n, when);
    }

    let mut seen = vec![false; count];
    let mut now = 0;
    while wheel.len() > 0 {
        now += 1 + now / 50;
        for id in due(&mut wheel, now) {
            assert!(!seen[id], "entry {id} came out twice");
            assert!(
                due_at[id] <= now,
                "entry {id} due at {} came out at {now}",
                due_at[id]
            );
            seen[id] = true;
        }
    }
    assert!(seen.iter().all(|s| *s));
}

#[test]
fn drain_hands_out_every_entry() {
    let node = nodes(100);
    let mut wheel = Wheel::new(0);
    for (i, n) in node.iter().enumerate() {
        wheel.insert(n, (i as u64) * 997);
    }

    let mut drained = 0;
    wheel.drain(|_| drained += 1);

    assert_eq!(drained, 100);
    assert_eq!(wheel.len(), 0);
}
