//! What every behaviour shares: the factory adapter, the run plan, unique ids, result values,
//! and the arrangement of an id into a given status through ordinary trait calls.

use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use idemstore::{
    ClaimOutcome, ClaimTicket, CommandResult, CommandStatus, Failure, FailurePolicy,
    IdempotencyStore,
};

use super::StressSize;

/// The sizes one backend runs the suite at.
#[derive(Clone, Debug)]
pub struct Plan {
    /// How hard the stress behaviour pushes. A networked backend passes a smaller one.
    pub stress: StressSize,
    /// The longest id the backend under test accepts, in bytes. Ids one byte longer must be
    /// refused with `IdTooLong`.
    pub max_id_len: usize,
}

impl Default for Plan {
    /// The in-process sizes, and the default id limit every backend starts with.
    fn default() -> Self {
        Plan {
            stress: StressSize::in_process(),
            max_id_len: 1024,
        }
    }
}

/// A way to build a fresh store, answering at once or after an `.await`.
///
/// `Marker` only tells the two implementations apart: a closure returning a store and a
/// closure returning a future of one would otherwise overlap.
pub trait StoreFactory<Marker> {
    /// Builds the store.
    fn build(self) -> impl Future<Output = Arc<dyn IdempotencyStore>>;
}

/// Marks a factory that returns the store directly.
pub enum Immediate {}

/// Marks a factory that returns a future of the store.
pub struct Awaited<Fut>(PhantomData<Fut>);

impl<F> StoreFactory<Immediate> for F
where
    F: FnOnce() -> Arc<dyn IdempotencyStore>,
{
    fn build(self) -> impl Future<Output = Arc<dyn IdempotencyStore>> {
        std::future::ready(self())
    }
}

impl<F, Fut> StoreFactory<Awaited<Fut>> for F
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    fn build(self) -> impl Future<Output = Arc<dyn IdempotencyStore>> {
        self()
    }
}

/// Runs the factory, awaiting it if it is async.
pub async fn fresh_store<M>(factory: impl StoreFactory<M>) -> Arc<dyn IdempotencyStore> {
    factory.build().await
}

/// Ids that no other test, and no earlier run against the same backend, has used.
pub struct Ids {
    prefix: String,
}

impl Ids {
    /// Ids for one behaviour: `conformance/<behaviour>/<run>/<n>`.
    pub fn for_behaviour(behaviour: &str) -> Self {
        Ids {
            prefix: format!("conformance/{behaviour}/{}/", run_nonce()),
        }
    }

    /// The `n`th id of this behaviour.
    pub fn id(&self, n: impl Display) -> String {
        format!("{}{n}", self.prefix)
    }

    /// An id of exactly `len` bytes (at least the prefix's length), unique to this behaviour.
    pub fn id_of_len(&self, len: usize) -> String {
        let mut id = self.prefix.clone();
        assert!(
            len >= id.len(),
            "id length {len} shorter than the prefix {id:?}"
        );
        id.extend(std::iter::repeat_n('x', len - id.len()));
        id
    }
}

/// Distinct for every call in this process, and (through the pid and the clock) across runs.
fn run_nonce() -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos:x}-{call}", std::process::id())
}

/// A result carrying `label` as bytes.
pub fn result_of(label: &str) -> CommandResult {
    CommandResult::from_bytes(label.as_bytes().to_vec())
}

/// A failure after which the next call runs the command again.
pub fn retryable() -> Failure {
    Failure::new("conformance: retryable failure", FailurePolicy::Retryable)
}

/// The bytes of a stored result, for comparison by content.
pub fn bytes(result: &Option<CommandResult>) -> Option<Vec<u8>> {
    result.as_ref().map(|result| {
        result
            .as_bytes()
            .unwrap_or_else(|| panic!("a byte result came back as {result:?}"))
            .to_vec()
    })
}

/// The bytes `result_of(label)` stores.
pub fn expected(label: &str) -> Option<Vec<u8>> {
    Some(label.as_bytes().to_vec())
}

/// Claims `id`, which must be free.
pub async fn claim_free(store: &dyn IdempotencyStore, id: &str) -> ClaimTicket {
    match store.claim(id).await.unwrap() {
        ClaimOutcome::Acquired(ticket) => ticket,
        ClaimOutcome::Existing(status) => panic!("claim of free id {id:?} found {status}"),
    }
}

/// Brings a fresh `id` to `status` through the ordinary paths (claim, complete, fail, release,
/// compare-and-set), never an override. Returns the ticket when the status is InProgress.
/// A Completed id carries the result `"arranged"`.
pub async fn arrange(
    store: &dyn IdempotencyStore,
    id: &str,
    status: CommandStatus,
) -> Option<ClaimTicket> {
    let mut owned = None;
    match status {
        CommandStatus::NotFound => {}
        CommandStatus::InProgress => owned = Some(claim_free(store, id).await),
        CommandStatus::NotStarted => {
            let ticket = claim_free(store, id).await;
            assert!(store.release(id, ticket).await.unwrap());
        }
        CommandStatus::Completed => {
            let ticket = claim_free(store, id).await;
            let completed = store.complete(id, ticket, result_of("arranged")).await;
            assert!(completed.unwrap());
        }
        CommandStatus::Failed => {
            let ticket = claim_free(store, id).await;
            assert!(store.fail(id, ticket, retryable()).await.unwrap());
        }
        CommandStatus::Indeterminate => {
            claim_free(store, id).await;
            let marked = store
                .try_set_status(id, CommandStatus::InProgress, status)
                .await;
            assert!(marked.unwrap());
        }
    }
    assert_eq!(store.status(id).await.unwrap(), status, "arranging {id:?}");
    owned
}

/// The status and the result bytes of `id`, read one after the other.
pub async fn snapshot(store: &dyn IdempotencyStore, id: &str) -> (CommandStatus, Option<Vec<u8>>) {
    let status = store.status(id).await.unwrap();
    let result = bytes(&store.result(id).await.unwrap());
    (status, result)
}
