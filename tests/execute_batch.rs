//! Batches: bounded concurrency, one run per id, completed ids answered from one batch read,
//! and one command's failure losing none of the others.

mod execute_support;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use execute_support::Observed;
use idemstore::{
    BatchItem, ExecuteError, ExecuteOptions, Executor, IdempotencyStore, MemoryStore, Served,
    StoreError,
};
use tokio_util::sync::CancellationToken;

type Command = Box<dyn FnOnce(CancellationToken) -> Reply + Send>;
type Reply = Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

/// A command that counts its run under its id and answers `reply`.
fn command(runs: &Arc<Runs>, id: &str, reply: Result<&str, &str>) -> Command {
    let (runs, id) = (runs.clone(), id.to_owned());
    let reply = reply.map(str::to_owned).map_err(str::to_owned);
    Box::new(move |_| {
        Box::pin(async move {
            runs.ran(&id);
            reply
        })
    })
}

/// Runs per id.
#[derive(Default)]
struct Runs(std::sync::Mutex<HashMap<String, usize>>);

impl Runs {
    fn ran(&self, id: &str) {
        *self.0.lock().unwrap().entry(id.to_owned()).or_default() += 1;
    }

    fn of(&self, id: &str) -> usize {
        self.0.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_repeated_within_a_batch_runs_once() {
    let executor = Executor::new(Arc::new(MemoryStore::new()));
    let runs = Arc::new(Runs::default());
    let ops = ["a", "b", "a", "a"].map(|id| (id.to_owned(), command(&runs, id, Ok(id))));

    let answers = executor.execute_batch(ops).await;

    assert_eq!((runs.of("a"), runs.of("b")), (1, 1));
    assert_eq!(answers.len(), 2);
    assert_eq!(*answers["a"].as_ref().unwrap().value, "a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_within_a_batch_share_the_first_occurrences_value() {
    let executor = Executor::new(Arc::new(MemoryStore::new()));
    let runs = Arc::new(Runs::default());
    let items = ["a", "b", "a"].map(|id| BatchItem::new(id, command(&runs, id, Ok(id))));

    let answers = executor.execute_batch_with(items).await;

    let [(_, first), _, (_, repeat)] = <[_; 3]>::try_from(answers).unwrap();
    let (first, repeat) = (first.unwrap(), repeat.unwrap());
    assert_eq!((first.served, repeat.served), (Served::Ran, Served::Waited));
    assert!(Arc::ptr_eq(&first.value, &repeat.value));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_ids_are_answered_from_one_batch_read_without_running() {
    let store = Observed::memory();
    let executor = Executor::new(store.clone());
    let runs = Arc::new(Runs::default());
    for id in ["done-1", "done-2"] {
        executor
            .execute(id, command(&runs, id, Ok(id)))
            .await
            .unwrap();
    }
    let acquires_before = store.acquires();
    let ops =
        ["done-1", "done-2", "new-1"].map(|id| (id.to_owned(), command(&runs, id, Ok("fresh"))));

    let answers = executor.execute_batch(ops).await;

    assert_eq!(store.batch_reads(), 1);
    assert_eq!(
        store.acquires() - acquires_before,
        1,
        "only the new id is acquired"
    );
    assert_eq!(
        (runs.of("done-1"), runs.of("done-2"), runs.of("new-1")),
        (1, 1, 1)
    );
    let done = answers["done-1"].as_ref().unwrap();
    assert_eq!(
        (done.value.as_str(), done.served),
        ("done-1", Served::Cached)
    );
    assert_eq!(answers["new-1"].as_ref().unwrap().served, Served::Ran);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_commands_failure_loses_none_of_the_others() {
    let executor = Executor::new(Arc::new(MemoryStore::new()));
    let runs = Arc::new(Runs::default());
    let ids: Vec<String> = (0..20).map(|n| format!("item-{n}")).collect();
    let ops = ids.iter().map(|id| {
        let reply = if id == "item-7" {
            Err("out of stock")
        } else {
            Ok("packed")
        };
        (id.clone(), command(&runs, id, reply))
    });

    let answers = executor.execute_batch(ops).await;

    assert_eq!(answers.len(), 20);
    assert!(matches!(&answers["item-7"], Err(ExecuteError::Failed(e)) if e == "out of stock"));
    let packed = answers
        .values()
        .filter(|a| matches!(a, Ok(e) if *e.value == "packed"));
    assert_eq!(packed.count(), 19);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_the_store_rejects_loses_none_of_the_others() {
    let store = Observed::memory();
    let executor = Executor::new(store.clone());
    let runs = Arc::new(Runs::default());
    executor
        .execute("done-3", command(&runs, "done-3", Ok("kept")))
        .await
        .unwrap();
    let too_long = "x".repeat(4096);
    let ops = [too_long.as_str(), "", "done-3", "new-2"]
        .map(|id| (id.to_owned(), command(&runs, id, Ok("fresh"))));

    let answers = executor.execute_batch(ops).await;

    assert!(matches!(
        answers[&too_long],
        Err(ExecuteError::Store(StoreError::IdTooLong { .. }))
    ));
    assert!(matches!(
        answers[""],
        Err(ExecuteError::Store(StoreError::EmptyId))
    ));
    let done = answers["done-3"].as_ref().unwrap();
    assert_eq!((done.value.as_str(), done.served), ("kept", Served::Cached));
    assert_eq!(answers["new-2"].as_ref().unwrap().served, Served::Ran);
    assert_eq!(
        runs.total(),
        2,
        "the earlier run of done-3 and the run of new-2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_never_runs_more_commands_at_once_than_its_bound() {
    let options = ExecuteOptions {
        batch_concurrency: 4,
        ..Default::default()
    };
    let executor = Executor::with_options(Arc::new(MemoryStore::new()), options);
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let ops = (0..40).map(|n| {
        let (in_flight, most) = (in_flight.clone(), most.clone());
        let op = move |_| async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, String>(n)
        };
        (format!("job-{n}"), op)
    });

    let answers = executor.execute_batch(ops).await;

    assert_eq!(answers.values().filter(|a| a.is_ok()).count(), 40);
    assert_eq!(
        most.load(Ordering::SeqCst),
        4,
        "the bound is reached and never passed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_completed_ids_answers_every_occurrence_in_order() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    let executor = Executor::new(store.clone());
    let runs = Arc::new(Runs::default());
    executor
        .execute("done-4", command(&runs, "done-4", Ok("kept")))
        .await
        .unwrap();
    let items = ["done-4", "done-4"].map(|id| BatchItem::new(id, command(&runs, id, Ok("fresh"))));

    let answers = executor.execute_batch_with(items).await;

    assert_eq!(runs.total(), 1);
    let served: Vec<Served> = answers
        .into_iter()
        .map(|(_, a)| a.unwrap().served)
        .collect();
    assert_eq!(served, [Served::Cached, Served::Cached]);
}
