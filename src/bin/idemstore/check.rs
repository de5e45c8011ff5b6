//! The checks that decide whether the replay ran every command once.
//!
//! Three witnesses are compared, none trusted on its own word:
//!
//! - the handler's ledger: how many times each command really executed, and which run of it
//!   succeeded (it shares nothing with the store);
//! - the answers: what `execute` told each delivery (value and how it was served, or error);
//! - the store: its running counts, its health snapshot, and each id's status.
//!
//! | check          | holds when                                                           |
//! | -------------- | -------------------------------------------------------------------- |
//! | side effects   | each command executed once, plus once more after each failed attempt |
//! |                | when failures are retryable                                          |
//! | runs reported  | each execution was reported to exactly one delivery as its own run   |
//! | answers        | each delivery got its command's successful run's value, or the       |
//! |                | failure of one of its runs, and no delivery went unanswered          |
//! | store          | counts, health and each id's status match what the ledger implies    |

use std::collections::HashMap;

use idemstore::{CommandStatus, FailurePolicy, HealthMetrics, IdempotencyStore, StoreError};
use serde::Serialize;

use crate::handler::{Handler, InjectedFailure};
use crate::replay::{Answer, Replayed};
use crate::report::grouped;
use crate::stream::Stream;
use crate::tally::Tally;

/// Problems listed per failed check; the rest are only counted.
const EXAMPLES: usize = 5;

/// One check's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked (`side_effects`, `runs_reported`, `answers`, `store`).
    pub name: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// The count the check expected.
    pub expected: u64,
    /// The count it found.
    pub observed: u64,
    /// What was expected and why, in words.
    pub explanation: String,
    /// The first few problems found, if any.
    pub problems: Vec<String>,
}

/// What the store says about itself after the replay.
pub struct StoreView {
    /// `count_by_status`.
    pub counts: HashMap<CommandStatus, u64>,
    /// `health_metrics`.
    pub health: HealthMetrics,
    /// Each replayed id's status.
    pub statuses: HashMap<String, CommandStatus>,
}

impl StoreView {
    /// Reads the store's counts, health and the status of every id in `ids`.
    pub async fn read(store: &dyn IdempotencyStore, ids: &[Box<str>]) -> Result<Self, StoreError> {
        let counts = store.count_by_status().await?;
        let health = store.health_metrics().await?;
        let borrowed: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        let statuses = store.statuses(&borrowed).await?;
        Ok(StoreView {
            counts,
            health,
            statuses,
        })
    }

    /// The store's count of `status`.
    pub fn count(&self, status: CommandStatus) -> u64 {
        self.counts.get(&status).copied().unwrap_or(0)
    }
}

/// What the checks look at.
pub struct Evidence<'a> {
    /// The deliveries replayed.
    pub stream: &'a Stream,
    /// What each delivery was answered.
    pub replayed: &'a Replayed,
    /// The tool's counts of those answers.
    pub tally: &'a Tally,
    /// The handler, with its ledger.
    pub handler: &'a Handler,
    /// The failure policy the replay ran under.
    pub policy: FailurePolicy,
    /// The store after the replay.
    pub store: &'a StoreView,
}

/// Runs every check.
pub fn verify(evidence: &Evidence<'_>) -> Vec<Check> {
    vec![
        side_effects(evidence),
        runs_reported(evidence),
        answers(evidence),
        store(evidence),
    ]
}

/// Executions per command match what the failure policy allows.
fn side_effects(evidence: &Evidence<'_>) -> Check {
    let Evidence {
        stream,
        handler,
        policy,
        ..
    } = evidence;
    let mut problems = Problems::default();
    let (mut expected, mut observed, mut reruns, mut failed_commands) = (0, 0, 0, 0);
    for (number, id) in stream.ids.iter().enumerate() {
        let number = number as u32;
        let runs = handler.executions(number);
        // Attempts before the last that failed: each may be followed by one more run when
        // failures are retryable.
        let failed_before_last = (0..runs.saturating_sub(1))
            .filter(|&attempt| handler.failures().fails(number, attempt))
            .count() as u32;
        let allowed = match policy {
            FailurePolicy::Retryable => 1 + failed_before_last,
            FailurePolicy::Terminal => 1,
        };
        if handler.successful_run(number).is_none() && runs > 0 {
            failed_commands += 1;
        }
        expected += u64::from(allowed);
        observed += u64::from(runs);
        reruns += u64::from(allowed - 1);
        if runs != allowed {
            problems.push(|| format!("command {id} executed {runs} times; expected {allowed}"));
        }
    }

    let distinct = stream.ids.len() as u64;
    let explanation = match policy {
        _ if handler.total_executions() == 0 => "no command executed at all".to_owned(),
        FailurePolicy::Retryable if reruns > 0 => format!(
            "{} first executions (one per distinct id) + {} re-runs, each after a retryable \
             failure of the same command's previous attempt",
            grouped(distinct),
            grouped(reruns)
        ),
        FailurePolicy::Terminal if failed_commands > 0 => format!(
            "one execution per distinct id; {} commands failed terminally, and their failure \
             is replayed to later deliveries, never re-run",
            grouped(failed_commands)
        ),
        _ => "one execution per distinct id (no failed attempt to re-run)".to_owned(),
    };
    problems.into_check("side_effects", expected, observed, explanation)
}

/// Each execution the ledger counts was reported to one delivery as its own run.
fn runs_reported(evidence: &Evidence<'_>) -> Check {
    let Evidence {
        stream,
        replayed,
        handler,
        tally,
        ..
    } = evidence;
    let mut reported = vec![0_u32; stream.ids.len()];
    for (position, answer) in replayed.answers() {
        if matches!(
            answer,
            Answer::Value {
                served: idemstore::Served::Ran,
                ..
            } | Answer::Failed(_)
        ) {
            reported[stream.deliveries[position] as usize] += 1;
        }
    }

    let mut problems = Problems::default();
    for (number, (&reported, id)) in reported.iter().zip(&stream.ids).enumerate() {
        let executed = handler.executions(number as u32);
        if executed != reported {
            problems.push(|| {
                format!(
                    "command {id} executed {executed} times but {reported} deliveries were \
                     told they ran it"
                )
            });
        }
    }
    let explanation = "every execution in the ledger was reported by execute to exactly one \
                       delivery as its own run (Served::Ran or its own failure)"
        .to_owned();
    problems.into_check(
        "runs_reported",
        handler.total_executions(),
        tally.runs(),
        explanation,
    )
}

/// Each delivery got the outcome of its command's execution.
fn answers(evidence: &Evidence<'_>) -> Check {
    let Evidence {
        stream,
        replayed,
        handler,
        tally,
        ..
    } = evidence;
    // The failure text of every run that failed, per command, as the store recorded it.
    let mut failures: HashMap<u32, Vec<String>> = HashMap::new();
    for (position, answer) in replayed.answers() {
        if let Answer::Failed(failure) = answer {
            let number = stream.deliveries[position];
            failures
                .entry(number)
                .or_default()
                .push(failure.to_string());
        }
    }

    let mut problems = Problems::default();
    let mut matched = 0;
    for (position, answer) in replayed.answers() {
        let number = stream.deliveries[position];
        let id = &stream.ids[number as usize];
        let problem = match answer {
            Answer::Value { served, value } => {
                let executed = handler.successful_run(number);
                (value.id != number || executed != Some(value.run)).then(|| {
                    let executed = executed.map_or("none".to_owned(), |run| format!("run {run}"));
                    format!(
                        "delivery {position} of {id} ({served:?}) got run {} of command #{}; \
                         the command's successful execution was {executed}",
                        value.run, value.id
                    )
                })
            }
            Answer::Failed(InjectedFailure {
                id: failed,
                attempt,
                run,
            }) => {
                let drawn = handler.failures().fails(number, *attempt);
                (*failed != number || !drawn).then(|| {
                    format!(
                        "delivery {position} of {id} was told its run {run} (command #{failed}, \
                         attempt {attempt}) failed, which the failure draw did not decide"
                    )
                })
            }
            Answer::FailedElsewhere(message) => {
                let known = failures
                    .get(&number)
                    .is_some_and(|f| f.iter().any(|m| **m == **message));
                (!known).then(|| {
                    format!(
                        "delivery {position} of {id} got a failure no run of it raised: {message}"
                    )
                })
            }
            Answer::Refused(refusal) => Some(format!(
                "delivery {position} of {id} got no outcome: {refusal:?}"
            )),
        };
        match problem {
            None => matched += 1,
            Some(problem) => problems.push(|| problem),
        }
    }
    let explanation = "every delivery got the value of its command's one successful execution \
                       (or the recorded failure of one of its runs), whether it ran the command, \
                       waited for it or found it stored"
        .to_owned();
    problems.into_check("answers", tally.deliveries, matched, explanation)
}

/// The store's counts, health and statuses match what the ledger implies.
fn store(evidence: &Evidence<'_>) -> Check {
    let Evidence {
        stream,
        handler,
        store,
        ..
    } = evidence;
    let mut problems = Problems::default();
    let mut expected_counts: HashMap<CommandStatus, u64> = HashMap::new();
    for (number, id) in stream.ids.iter().enumerate() {
        let number = number as u32;
        let expected = if handler.successful_run(number).is_some() {
            CommandStatus::Completed
        } else if handler.executions(number) > 0 {
            CommandStatus::Failed
        } else {
            CommandStatus::NotFound
        };
        *expected_counts.entry(expected).or_default() += 1;
        let found = store
            .statuses
            .get(&**id)
            .copied()
            .unwrap_or(CommandStatus::NotFound);
        if found != expected {
            problems.push(|| format!("command {id} is {found} in the store; expected {expected}"));
        }
    }

    for status in CommandStatus::ALL
        .into_iter()
        .filter(|s| *s != CommandStatus::NotFound)
    {
        let expected = expected_counts.get(&status).copied().unwrap_or(0);
        let (counted, health) = (store.count(status), store.health.by_status.get(&status));
        if counted != expected {
            problems
                .push(|| format!("count_by_status has {counted} {status}; expected {expected}"));
        }
        if health.copied().unwrap_or(0) != counted {
            problems
                .push(|| format!("health shows {health:?} {status}; count_by_status {counted}"));
        }
    }
    let expected_total = stream.ids.len() as u64
        - expected_counts
            .get(&CommandStatus::NotFound)
            .copied()
            .unwrap_or(0);
    if store.health.total != expected_total {
        let total = store.health.total;
        problems.push(|| format!("health counts {total} records; expected {expected_total}"));
    }

    let completed = expected_counts
        .get(&CommandStatus::Completed)
        .copied()
        .unwrap_or(0);
    let failed = expected_counts
        .get(&CommandStatus::Failed)
        .copied()
        .unwrap_or(0);
    let mut explanation = format!(
        "{} Completed (commands whose execution succeeded) and {} Failed (whose last execution \
         failed), nothing InProgress, NotStarted or Indeterminate; in count_by_status, \
         health_metrics and each id's status",
        grouped(completed),
        grouped(failed)
    );
    let expired = store.health.expired_removed_total + store.health.expired_unremoved;
    if expired > 0 {
        explanation.push_str(&format!(
            "; {} records expired during the replay: an age shorter than the replay forgets \
             commands before all their duplicates arrive",
            grouped(expired)
        ));
    }
    problems.into_check("store", expected_total, store.health.total, explanation)
}

/// Problems found by one check: the first few spelled out, all counted.
#[derive(Default)]
struct Problems {
    examples: Vec<String>,
    count: u64,
}

impl Problems {
    /// Counts a problem; `describe` runs only for the first few.
    fn push(&mut self, describe: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(describe());
        }
    }

    fn into_check(
        self,
        name: &'static str,
        expected: u64,
        observed: u64,
        explanation: String,
    ) -> Check {
        let mut problems = self.examples;
        if self.count > problems.len() as u64 {
            problems.push(format!(
                "… and {} more",
                grouped(self.count - problems.len() as u64)
            ));
        }
        Check {
            name,
            passed: self.count == 0 && expected == observed,
            expected,
            observed,
            explanation,
            problems,
        }
    }
}
