//! Many commands in one call, with a bound on how many run or wait at once.
//!
//! # Steps
//!
//! 1. Occurrences are grouped by id and fingerprint: an id repeated within the batch runs
//!    once, and its later occurrences share the first one's outcome (a run reads as a wait to
//!    them). The same id with another fingerprint is a separate group, so the store decides
//!    between them exactly as between two callers (one runs, the other conflicts or shares).
//! 2. Groups without a fingerprint are looked up in one batch read; those already Completed
//!    are answered from it without running anything. Groups with a fingerprint skip this,
//!    because the batch read does not check fingerprints: their `acquire` does, and it runs
//!    nothing for a completed id either.
//! 3. The remaining groups go through [`execute_with`](Executor::execute_with), at most
//!    [`batch_concurrency`](super::ExecuteOptions::batch_concurrency) at a time.
//!
//! One command's failure, or a bad id, only affects that command's answer. If the batch read
//! itself fails (one id the store rejects fails the whole read), every group takes step 3.

use std::collections::HashMap;
use std::future::Future;

use futures::StreamExt;
use futures::stream;
use tokio_util::sync::CancellationToken;

use super::outcome::{shared_outcome, stored};
use super::{CallOptions, ExecuteError, Executed, Executor, Served};
use crate::{CommandResult, Fingerprint};

/// One command of a batch.
#[derive(Debug)]
pub struct BatchItem<F> {
    /// The command id.
    pub id: String,
    /// The payload fingerprint, checked as [`Executor::execute_with`] checks it.
    pub fingerprint: Option<Fingerprint>,
    /// Overrides for this command.
    pub call: CallOptions,
    /// The command.
    pub op: F,
}

impl<F> BatchItem<F> {
    /// A command with no fingerprint and no overrides.
    pub fn new(id: impl Into<String>, op: F) -> Self {
        BatchItem {
            id: id.into(),
            fingerprint: None,
            call: CallOptions::default(),
            op,
        }
    }
}

/// The occurrences of one (id, fingerprint) in a batch.
struct Group<F> {
    item: BatchItem<F>,
    /// Positions in the batch of this group's occurrences, the first one first.
    positions: Vec<usize>,
}

/// One answer for every position of a batch.
type Answers<T, E> = Vec<(String, Result<Executed<T>, ExecuteError<E>>)>;

impl Executor {
    /// Executes every `(id, op)`, at most
    /// [`batch_concurrency`](super::ExecuteOptions::batch_concurrency) at a time, and answers
    /// per id. An id repeated within the batch runs once (later occurrences' ops are dropped
    /// unrun); ids already Completed are answered from one batch read without running
    /// anything; one command's failure loses none of the others.
    ///
    /// A panic is not a failure but a bug: as in [`execute`](Self::execute) it fails its own
    /// command for everyone else and then resumes here, which drops the rest of the batch. Runs
    /// in flight then end as [`on_cancel`](super::ExecuteOptions::on_cancel) says, and
    /// commands not yet started stay unclaimed.
    pub async fn execute_batch<I, T, E, F, Fut>(
        &self,
        ops: I,
    ) -> HashMap<String, Result<Executed<T>, ExecuteError<E>>>
    where
        I: IntoIterator<Item = (String, F)>,
        F: FnOnce(CancellationToken) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
        T: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let items = ops.into_iter().map(|(id, op)| BatchItem::new(id, op));
        let mut answers = HashMap::new();
        for (id, outcome) in self.execute_batch_with(items).await {
            answers.entry(id).or_insert(outcome);
        }
        answers
    }

    /// [`execute_batch`](Self::execute_batch) with fingerprints and per-command overrides,
    /// answering per item in the order given (so occurrences of one id with different
    /// fingerprints each get their own answer).
    pub async fn execute_batch_with<I, T, E, F, Fut>(&self, items: I) -> Answers<T, E>
    where
        I: IntoIterator<Item = BatchItem<F>>,
        F: FnOnce(CancellationToken) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
        T: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let (groups, len) = group(items);
        let completed = self.completed_among(&groups).await;

        // Per group: its id, its positions, and the policy a failure of its run is kept under.
        let mut shapes = Vec::with_capacity(groups.len());
        let mut outcomes: Vec<Option<Result<Executed<T>, ExecuteError<E>>>> =
            Vec::with_capacity(groups.len());
        let mut pending = Vec::new();
        for (at, Group { item, positions }) in groups.into_iter().enumerate() {
            let policy = item
                .call
                .failure_policy
                .unwrap_or(self.options.failure_policy);
            let done = item
                .fingerprint
                .is_none()
                .then(|| completed.get(&item.id))
                .flatten();
            outcomes.push(done.map(|result| stored(result, Served::Cached)));
            shapes.push((item.id.clone(), positions, policy));
            if done.is_none() {
                pending.push((at, item));
            }
        }

        let limit = self.options.batch_concurrency.max(1);
        let ran: Vec<_> = stream::iter(pending)
            .map(|(at, item)| async move {
                let BatchItem {
                    id,
                    fingerprint,
                    call,
                    op,
                } = item;
                (at, self.execute_with(&id, fingerprint, call, op).await)
            })
            .buffer_unordered(limit)
            .collect()
            .await;
        for (at, outcome) in ran {
            outcomes[at] = Some(outcome);
        }

        let mut answers: Vec<Option<_>> = (0..len).map(|_| None).collect();
        for ((id, positions, policy), outcome) in shapes.into_iter().zip(outcomes) {
            let outcome = outcome.expect("every group is answered by the read or its run");
            for &position in &positions[1..] {
                answers[position] = Some((id.clone(), shared_outcome(&outcome, policy)));
            }
            answers[positions[0]] = Some((id, outcome));
        }
        answers
            .into_iter()
            .map(|answer| answer.expect("every position belongs to a group"))
            .collect()
    }

    /// The stored results of the groups that a batch read may answer, by id. Empty if the read
    /// fails: every group is then asked about on its own, which reports its own error.
    async fn completed_among<F>(&self, groups: &[Group<F>]) -> HashMap<String, CommandResult> {
        let ids: Vec<&str> = groups
            .iter()
            .filter(|group| group.item.fingerprint.is_none() && !group.item.id.is_empty())
            .map(|group| group.item.id.as_str())
            .collect();
        if ids.is_empty() {
            return HashMap::new();
        }
        match self.store.results(&ids).await {
            Ok(results) => results
                .into_iter()
                .filter_map(|(id, result)| Some((id, result?)))
                .collect(),
            Err(error) => {
                tracing::debug!(%error, "batch read failed; asking about each command alone");
                HashMap::new()
            }
        }
    }
}

/// Groups a batch's items by (id, fingerprint), in order of first occurrence. Returns the
/// groups and the number of items.
fn group<F>(items: impl IntoIterator<Item = BatchItem<F>>) -> (Vec<Group<F>>, usize) {
    let mut groups: Vec<Group<F>> = Vec::new();
    let mut index: HashMap<(String, Option<Fingerprint>), usize> = HashMap::new();
    let mut len = 0;
    for (position, item) in items.into_iter().enumerate() {
        len = position + 1;
        let key = (item.id.clone(), item.fingerprint);
        match index.get(&key) {
            // A repeat: its op is dropped unrun; it shares the first occurrence's outcome.
            Some(&at) => groups[at].positions.push(position),
            None => {
                index.insert(key, groups.len());
                groups.push(Group {
                    item,
                    positions: vec![position],
                });
            }
        }
    }
    (groups, len)
}
