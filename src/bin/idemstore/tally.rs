//! The tool's own counts of what the deliveries were answered, kept apart from the store's.

use std::collections::BTreeMap;

use idemstore::Served;
use serde::Serialize;

use crate::replay::{Answer, Replayed};

/// How the deliveries were served, counted from their answers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tally {
    /// Deliveries answered, whatever the answer.
    pub deliveries: u64,
    /// Deliveries that ran the command and got its value.
    pub ran: u64,
    /// Duplicates that found the command running and waited for its value.
    pub waited: u64,
    /// Duplicates that found the command completed and got the stored value.
    pub cached: u64,
    /// Deliveries that ran the command and saw the run fail.
    pub failed_runs: u64,
    /// Deliveries answered with another delivery's failed run.
    pub failed_elsewhere: u64,
    /// Deliveries that got no outcome, by reason.
    pub refused: BTreeMap<&'static str, u64>,
}

impl Tally {
    /// Counts the answers the replay recorded.
    pub fn of(replayed: &Replayed) -> Tally {
        let mut tally = Tally::default();
        for (_, answer) in replayed.answers() {
            tally.deliveries += 1;
            match answer {
                Answer::Value {
                    served: Served::Ran,
                    ..
                } => tally.ran += 1,
                Answer::Value {
                    served: Served::Waited,
                    ..
                } => tally.waited += 1,
                Answer::Value {
                    served: Served::Cached,
                    ..
                } => tally.cached += 1,
                Answer::Failed(_) => tally.failed_runs += 1,
                Answer::FailedElsewhere(_) => tally.failed_elsewhere += 1,
                Answer::Refused(refusal) => *tally.refused.entry(refusal.name()).or_default() += 1,
            }
        }
        tally
    }

    /// Deliveries whose `execute` call ran the handler, successfully or not.
    pub fn runs(&self) -> u64 {
        self.ran + self.failed_runs
    }

    /// Deliveries answered with their command's outcome without running anything: the
    /// duplicates the store absorbed.
    pub fn absorbed(&self) -> u64 {
        self.waited + self.cached + self.failed_elsewhere
    }

    /// Deliveries that got no outcome of their command.
    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }
}
