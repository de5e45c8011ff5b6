//! Many threads of random operations over a shared key space, with every side effect counted
//! per id.
//!
//! # What is checked
//!
//! Each id has a ledger. An owner that wins a claim raises the id's `running` flag (finding it
//! already raised means two owners at once), counts one execution, reads the id (which must
//! show InProgress), lowers the flag, then completes, fails or releases, each of which must
//! succeed since nothing in this workload overrides an owner. Finished ids (Completed,
//! Failed, NotStarted) are removed only through compare-and-set from the status just read,
//! so a removal never overtakes a running owner.
//! At the end, for every id:
//!
//! - executions = completions + failures + releases (each run ended exactly once);
//! - completions = removals of a Completed record + (1 if it is Completed now): a command
//!   completes at most once per claim cycle, a cycle being NotFound to removal;
//! - the final status and result agree, and no flag is left raised.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use idemstore::{ClaimOutcome, CommandStatus, IdempotencyStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Plan;
use super::support::{Ids, bytes, result_of, retryable};

/// How hard the stress behaviour pushes a backend.
#[derive(Clone, Copy, Debug)]
pub struct StressSize {
    /// OS threads issuing operations at once.
    pub threads: usize,
    /// Operations each thread issues.
    pub ops_per_thread: usize,
    /// Ids the operations are spread over.
    pub ids: usize,
}

impl StressSize {
    /// The in-process store's size: 8 threads × 1,000,000 operations over 100,000 ids in an
    /// optimised build. Unoptimised builds (plain `cargo test`) run 8 × 100,000 over 10,000
    /// ids: the same 80 operations per id, a tenth as long, which takes a few seconds on two
    /// cores where the full size would take minutes.
    pub const fn in_process() -> Self {
        if cfg!(debug_assertions) {
            StressSize {
                threads: 8,
                ops_per_thread: 100_000,
                ids: 10_000,
            }
        } else {
            StressSize {
                threads: 8,
                ops_per_thread: 1_000_000,
                ids: 100_000,
            }
        }
    }
}

/// Everything observed about one id.
#[derive(Default)]
struct Ledger {
    running: AtomicBool,
    executions: AtomicU64,
    completions: AtomicU64,
    failures: AtomicU64,
    releases: AtomicU64,
    completed_removals: AtomicU64,
}

/// What the threads share.
struct Shared {
    store: Arc<dyn IdempotencyStore>,
    ids: Vec<String>,
    ledgers: Vec<Ledger>,
    seed: u64,
}

pub async fn random_operations_from_many_threads_run_each_claim_exactly_once(
    store: Arc<dyn IdempotencyStore>,
    plan: &Plan,
) {
    let size = plan.stress;
    let names = Ids::for_behaviour("stress");
    let shared = Arc::new(Shared {
        store,
        ids: (0..size.ids).map(|n| names.id(n)).collect(),
        ledgers: (0..size.ids).map(|_| Ledger::default()).collect(),
        seed: rand::random(),
    });

    let runtime = tokio::runtime::Handle::current();
    let workers = shared.clone();
    tokio::task::spawn_blocking(move || {
        std::thread::scope(|scope| {
            for thread in 0..size.threads {
                let (workers, runtime) = (&workers, &runtime);
                scope.spawn(move || {
                    runtime.block_on(operate(workers, thread, size.ops_per_thread));
                });
            }
        });
    })
    .await
    .expect("a stress thread failed");

    audit(&shared).await;
}

/// One thread's share: a seeded random mix of claims (run and ended at once), removals of
/// finished ids, and reads.
async fn operate(shared: &Shared, thread: usize, ops: usize) {
    let seed = shared.seed ^ (thread as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..ops {
        let n = rng.gen_range(0..shared.ids.len());
        let (id, ledger) = (shared.ids[n].as_str(), &shared.ledgers[n]);
        match rng.gen_range(0..10) {
            0..=4 => claim_and_run(shared, id, ledger, rng.gen_range(0..10)).await,
            5..=6 => remove_if_finished(&*shared.store, id, ledger).await,
            _ => {
                let result = bytes(&shared.store.result(id).await.unwrap());
                let own = Some(id.as_bytes().to_vec());
                assert!(result.is_none() || result == own, "{id}: holds {result:?}");
            }
        }
    }
}

/// Claims `id` and, if that wins, runs it once and ends the run: complete for `ending` 0 to
/// 6, fail for 7 and 8, release for 9.
async fn claim_and_run(shared: &Shared, id: &str, ledger: &Ledger, ending: u32) {
    let store = &*shared.store;
    let ticket = match store.claim(id).await.unwrap() {
        ClaimOutcome::Acquired(ticket) => ticket,
        ClaimOutcome::Existing(status) => {
            let refusing = matches!(status, CommandStatus::InProgress | CommandStatus::Completed);
            assert!(refusing, "{id}: claim refused by {status}");
            return;
        }
    };

    let overlapping = ledger.running.swap(true, Ordering::SeqCst);
    assert!(
        !overlapping,
        "{id}: two owners at once (seed {})",
        shared.seed
    );
    ledger.executions.fetch_add(1, Ordering::SeqCst);
    let shown = store.status(id).await.unwrap();
    assert_eq!(
        shown,
        CommandStatus::InProgress,
        "{id}: while its owner runs"
    );
    ledger.running.store(false, Ordering::SeqCst);

    let (ended, counter) = match ending {
        0..=6 => (
            store.complete(id, ticket, result_of(id)).await,
            &ledger.completions,
        ),
        7..=8 => (store.fail(id, ticket, retryable()).await, &ledger.failures),
        _ => (store.release(id, ticket).await, &ledger.releases),
    };
    assert!(
        ended.unwrap(),
        "{id}: owner overtaken (seed {})",
        shared.seed
    );
    counter.fetch_add(1, Ordering::SeqCst);
}

/// Removes `id` if it is finished (Completed, Failed or NotStarted), by compare-and-set from
/// the status just read, so that a removal never overtakes an owner that claimed meanwhile.
async fn remove_if_finished(store: &dyn IdempotencyStore, id: &str, ledger: &Ledger) {
    let status = store.status(id).await.unwrap();
    if matches!(status, CommandStatus::NotFound | CommandStatus::InProgress) {
        return;
    }

    let removed = store
        .try_set_status(id, status, CommandStatus::NotFound)
        .await;

    if removed.unwrap() && status == CommandStatus::Completed {
        ledger.completed_removals.fetch_add(1, Ordering::SeqCst);
    }
}

/// Checks every ledger against the store's final state.
async fn audit(shared: &Shared) {
    let mut executions = 0;
    for (id, ledger) in shared.ids.iter().zip(&shared.ledgers) {
        let load = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        let status = shared.store.status(id).await.unwrap();
        let result = bytes(&shared.store.result(id).await.unwrap());
        let completed_now = u64::from(status == CommandStatus::Completed);
        let ran = load(&ledger.executions);
        let ended = load(&ledger.completions) + load(&ledger.failures) + load(&ledger.releases);

        assert_eq!(ran, ended, "{id}: runs that did not end exactly once");
        assert_eq!(
            load(&ledger.completions),
            load(&ledger.completed_removals) + completed_now,
            "{id}: completions per claim cycle (now {status})"
        );
        assert!(
            !ledger.running.load(Ordering::SeqCst),
            "{id}: an owner never finished"
        );
        assert!(
            !matches!(
                status,
                CommandStatus::InProgress | CommandStatus::Indeterminate
            ),
            "{id}: left {status} with every owner finished"
        );
        assert_eq!(
            result.is_some(),
            status == CommandStatus::Completed,
            "{id}: {status}"
        );
        executions += ran;
    }
    assert!(executions > 0, "the stress run executed nothing");
}
