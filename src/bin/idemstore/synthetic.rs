//! The built-in delivery stream: at-least-once delivery, made up from a seed.
//!
//! A broker that delivers at least once sends most commands once and some again shortly
//! after, often while the first delivery is still being handled. The generator walks the
//! stream position by position. At each position it sends a redelivery that has come due, or
//! else a new command; each new command is scheduled to come again `1..=distance` positions
//! later (uniformly) with a probability chosen so that redeliveries make up `duplicate_share`
//! of all deliveries:
//!
//! ```text
//! share = q / (1 + q)   where q = redeliveries per new command   ⇒   q = share / (1 − share)
//! ```
//!
//! A share above one half needs more than one redelivery per command; the whole part of `q`
//! is always scheduled and the fraction drawn. A redelivery drawn to fall at or past `count` is
//! never scheduled, nor one for which no position is left (pending ones each need a position
//! of their own), so the pending queue never outgrows the stream and the share comes out
//! slightly under the one asked for; the report counts what was generated, never what was
//! asked. Redeliveries that fall due at the same position go out one after another, a little
//! later than drawn.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::stream::{Source, Stream, StreamBuilder};

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct SyntheticOptions {
    /// Seeds every draw: the same options give the same stream.
    pub seed: u64,
    /// Deliveries in the stream.
    pub count: u32,
    /// Share of deliveries that are redeliveries, in `[0, 1)`.
    pub duplicate_share: f64,
    /// Longest distance, in deliveries, from a delivery to its redelivery (at least 1).
    pub redelivery_distance: u32,
}

/// Generates the stream `options` describe.
pub fn generate(options: SyntheticOptions) -> Stream {
    let SyntheticOptions {
        seed,
        count,
        duplicate_share,
        redelivery_distance,
    } = options;
    debug_assert!(
        (0.0..1.0).contains(&duplicate_share) && redelivery_distance >= 1,
        "options are validated before generation: share {duplicate_share}, \
         distance {redelivery_distance}"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let per_command = duplicate_share / (1.0 - duplicate_share);
    // `as` saturates: a share within a hair of 1 asks for at most u32::MAX redeliveries.
    let (always, sometimes) = (per_command.trunc() as u32, per_command.fract());

    let mut builder = StreamBuilder::with_capacity(count as usize);
    // Redeliveries not yet sent, earliest position first: (position due, command number).
    let mut pending: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let mut commands = 0_u32;
    for position in 0..u64::from(count) {
        if let Some(&Reverse((due, command))) = pending.peek()
            && due <= position
        {
            pending.pop();
            builder.push(command, command_id);
            continue;
        }

        let command = commands;
        commands += 1;
        builder.push(command, command_id);
        let redeliveries = always.saturating_add(u32::from(rng.gen_bool(sometimes)));
        // Positions after this one; each pending redelivery needs one of them, so no more
        // are drawn than could ever be sent.
        let left = u64::from(count) - position - 1;
        for _ in 0..u64::from(redeliveries).min(left) {
            if pending.len() as u64 >= left {
                break;
            }
            let due = position + u64::from(rng.gen_range(1..=redelivery_distance));
            if due < u64::from(count) {
                pending.push(Reverse((due, command)));
            }
        }
    }

    builder.finish(Source::Synthetic {
        duplicate_share,
        redelivery_distance,
    })
}

fn command_id(command: &u32) -> Box<str> {
    format!("cmd-{command}").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(seed: u64) -> SyntheticOptions {
        SyntheticOptions {
            seed,
            count: 30_000,
            duplicate_share: 1.0 / 3.0,
            redelivery_distance: 8,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let (first, second) = (generate(options(7)), generate(options(7)));

        assert_eq!(first.deliveries, second.deliveries);
        assert_ne!(first.deliveries, generate(options(8)).deliveries);
    }

    #[test]
    fn redeliveries_make_up_about_the_share_asked_for() {
        let stream = generate(options(1));

        let share = stream.duplicates() as f64 / stream.deliveries.len() as f64;

        assert_eq!(stream.deliveries.len(), 30_000);
        assert!((share - 1.0 / 3.0).abs() < 0.02, "share {share}");
    }

    #[test]
    fn a_redelivery_follows_its_first_delivery_within_the_distance_or_soon_after() {
        let stream = generate(options(3));
        let mut first_seen = vec![None; stream.ids.len()];

        let mut longest = 0;
        for (position, &id) in stream.deliveries.iter().enumerate() {
            match first_seen[id as usize] {
                None => first_seen[id as usize] = Some(position),
                Some(first) => longest = longest.max(position - first),
            }
        }

        // Redeliveries due at one position queue behind each other, so a few run late.
        assert!((8..=16).contains(&longest), "longest distance {longest}");
    }

    #[test]
    fn a_share_near_one_redelivers_without_outgrowing_the_count() {
        let stream = generate(SyntheticOptions {
            count: 1_000,
            duplicate_share: 1.0 - 1e-12,
            ..options(9)
        });

        assert_eq!(stream.deliveries.len(), 1_000);
        assert!(
            stream.duplicates() >= 990,
            "{} duplicates",
            stream.duplicates()
        );
    }

    #[test]
    fn no_share_gives_no_duplicates() {
        let stream = generate(SyntheticOptions {
            duplicate_share: 0.0,
            ..options(5)
        });

        assert_eq!(stream.duplicates(), 0);
    }
}
