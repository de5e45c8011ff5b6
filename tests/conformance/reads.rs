//! Reads: batch answers, and what a reader racing a completion may observe.

use std::collections::HashMap;
use std::sync::Arc;

use idemstore::{CommandStatus, IdempotencyStore, IdempotencyStoreExt};
use tokio::sync::Barrier;

use super::Plan;
use super::support::{Ids, bytes, claim_free, expected, result_of};

/// Rounds of the reader-versus-completion race, each on a fresh id.
const READER_ROUNDS: usize = 2_000;
/// Times the completing task yields before it completes, so the reader gets to poll the
/// InProgress state first in most rounds.
const YIELDS_BEFORE_COMPLETE: usize = 3;

/// Three ids in three states: `done` Completed with result "done", `running` InProgress, and
/// `unknown` never written.
async fn three_ids(store: &dyn IdempotencyStore, behaviour: &str) -> [String; 3] {
    let ids = Ids::for_behaviour(behaviour);
    let [done, running, unknown] = [ids.id("done"), ids.id("running"), ids.id("unknown")];
    let ticket = claim_free(store, &done).await;
    assert!(
        store
            .complete(&done, ticket, result_of("done"))
            .await
            .unwrap()
    );
    claim_free(store, &running).await;
    [done, running, unknown]
}

/// Result bytes by id, for comparison.
fn result_bytes(
    answer: HashMap<String, Option<idemstore::CommandResult>>,
) -> HashMap<String, Option<Vec<u8>>> {
    answer
        .into_iter()
        .map(|(id, result)| (id, bytes(&result)))
        .collect()
}

pub async fn batch_reads_answer_every_id_once_including_repeated_and_unknown_ids(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let [done, running, unknown] = three_ids(&*store, "batch-reads").await;
    let asked = [&done, &unknown, &done, &running, &unknown, &done].map(String::as_str);

    let statuses = store.statuses(&asked).await.unwrap();
    let results = store.results(&asked).await.unwrap();

    let expected_statuses = HashMap::from([
        (done.clone(), CommandStatus::Completed),
        (running.clone(), CommandStatus::InProgress),
        (unknown.clone(), CommandStatus::NotFound),
    ]);
    let expected_results =
        HashMap::from([(done, expected("done")), (running, None), (unknown, None)]);
    assert_eq!(statuses, expected_statuses);
    assert_eq!(result_bytes(results), expected_results);
}

pub async fn batch_reads_over_iterators_answer_every_id(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let [done, running, unknown] = three_ids(&*store, "batch-reads-iter").await;
    let owned = || [&done, &running, &unknown, &done].into_iter().cloned();

    let statuses = store.statuses_of(owned()).await.unwrap();
    let by_ref = store
        .statuses_of(vec![unknown.as_str(), done.as_str()])
        .await
        .unwrap();
    let results = store.results_of(owned()).await.unwrap();
    let lazily = store
        .results_of((0..2).map(|_| running.clone()))
        .await
        .unwrap();

    assert_eq!(
        statuses,
        HashMap::from([
            (done.clone(), CommandStatus::Completed),
            (running.clone(), CommandStatus::InProgress),
            (unknown.clone(), CommandStatus::NotFound),
        ])
    );
    assert_eq!(
        by_ref,
        HashMap::from([
            (unknown.clone(), CommandStatus::NotFound),
            (done.clone(), CommandStatus::Completed),
        ])
    );
    assert_eq!(
        result_bytes(results),
        HashMap::from([
            (done, expected("done")),
            (running.clone(), None),
            (unknown, None),
        ])
    );
    assert_eq!(result_bytes(lazily), HashMap::from([(running, None)]));
}

pub async fn empty_batch_reads_answer_nothing(store: Arc<dyn IdempotencyStore>, _: &Plan) {
    let statuses = store.statuses(&[]).await.unwrap();
    let results = store.results(&[]).await.unwrap();
    let none_of = store
        .statuses_of(std::iter::empty::<String>())
        .await
        .unwrap();

    assert!(statuses.is_empty(), "{statuses:?}");
    assert!(results.is_empty(), "{results:?}");
    assert!(none_of.is_empty(), "{none_of:?}");
}

pub async fn reader_never_sees_completed_without_its_result_or_a_result_before_completed(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("reader-vs-complete");
    let mut rounds_seen_running = 0;

    for round in 0..READER_ROUNDS {
        let id = Arc::new(ids.id(round));
        let label = Arc::new(format!("result of round {round}"));
        let ticket = claim_free(&*store, &id).await;
        let start = Arc::new(Barrier::new(2));

        let reader = {
            let (store, id, label, start) =
                (store.clone(), id.clone(), label.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                poll_until_completed(&*store, &id, &label).await
            })
        };
        let completer = {
            let (store, id, label) = (store.clone(), id.clone(), label.clone());
            tokio::spawn(async move {
                start.wait().await;
                for _ in 0..YIELDS_BEFORE_COMPLETE {
                    tokio::task::yield_now().await;
                }
                store
                    .complete(&id, ticket, result_of(&label))
                    .await
                    .unwrap()
            })
        };

        assert!(
            completer.await.unwrap(),
            "round {round}: the owner's complete"
        );
        if reader.await.unwrap() {
            rounds_seen_running += 1;
        }
    }

    assert!(
        rounds_seen_running > 0,
        "in none of {READER_ROUNDS} rounds did the reader poll before the completion, so the \
         race was never observed"
    );
}

/// Polls status-then-result and result-then-status until the id reads Completed, checking
/// that the two always agree. Completed is terminal here, so a result seen first must be
/// followed by Completed. Returns true if the id was seen InProgress before that.
async fn poll_until_completed(store: &dyn IdempotencyStore, id: &str, label: &str) -> bool {
    let mut seen_running = false;
    loop {
        let status = store.status(id).await.unwrap();
        let result = bytes(&store.result(id).await.unwrap());
        match status {
            CommandStatus::Completed => {
                assert_eq!(
                    result,
                    expected(label),
                    "{id}: Completed read without its result"
                );
                return seen_running;
            }
            CommandStatus::InProgress => seen_running = true,
            other => panic!("{id}: a claimed id read as {other}"),
        }

        let result = bytes(&store.result(id).await.unwrap());
        if result.is_some() {
            let status = store.status(id).await.unwrap();
            assert_eq!(
                result,
                expected(label),
                "{id}: a result that is not the owner's"
            );
            assert_eq!(
                status,
                CommandStatus::Completed,
                "{id}: result read before Completed"
            );
            return seen_running;
        }
        tokio::task::yield_now().await;
    }
}
