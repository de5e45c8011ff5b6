//! What the executor tests share: a store that lets a test see what the executor asks of it.
//!
//! [`Observed`] wraps a real store and forwards every call to it unchanged, counting the calls
//! a test needs to see: how many callers have gone to wait (so a test can hold the owner until
//! every duplicate is waiting, instead of sleeping and hoping), how many batch reads and
//! acquires were made, and how many renewals.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use idemstore::{
    Acquire, ClaimTicket, CommandResult, CommandStatus, Failure, Fingerprint, HealthMetrics,
    IdempotencyStore, MemoryStore, Resolution, StoreError,
};
use tokio::sync::watch;

/// A store that forwards to `inner` and counts what it is asked.
pub struct Observed {
    inner: Arc<dyn IdempotencyStore>,
    /// Calls of `wait` so far, published so a test can await a count.
    waits: watch::Sender<usize>,
    acquires: AtomicUsize,
    batch_reads: AtomicUsize,
    /// Renewals that have returned, published so a test can move a manual clock in step.
    renewals: watch::Sender<usize>,
    /// Calls of `complete` so far, published so a test can act while one is held.
    completes: watch::Sender<usize>,
    /// When set, `complete` waits for this gate before forwarding: a slow backend.
    held_completes: Mutex<Option<Gate>>,
}

impl Observed {
    /// Observes a fresh default `MemoryStore`.
    pub fn memory() -> Arc<Self> {
        Self::over(Arc::new(MemoryStore::new()))
    }

    /// Observes `inner`.
    pub fn over(inner: Arc<dyn IdempotencyStore>) -> Arc<Self> {
        Arc::new(Observed {
            inner,
            waits: watch::channel(0).0,
            acquires: AtomicUsize::new(0),
            batch_reads: AtomicUsize::new(0),
            renewals: watch::channel(0).0,
            completes: watch::channel(0).0,
            held_completes: Mutex::new(None),
        })
    }

    /// Returns once `wait` has been called at least `count` times.
    pub async fn waiting(&self, count: usize) {
        let mut waits = self.waits.subscribe();
        waits
            .wait_for(|&n| n >= count)
            .await
            .expect("the sender lives as long as the store");
    }

    pub fn waits(&self) -> usize {
        *self.waits.borrow()
    }

    pub fn acquires(&self) -> usize {
        self.acquires.load(Ordering::SeqCst)
    }

    pub fn batch_reads(&self) -> usize {
        self.batch_reads.load(Ordering::SeqCst)
    }

    /// Returns once `renew` has returned at least `count` times.
    pub async fn renewed(&self, count: usize) {
        let mut renewals = self.renewals.subscribe();
        renewals
            .wait_for(|&n| n >= count)
            .await
            .expect("the sender lives as long as the store");
    }

    /// From now on `complete` waits for `gate` before it reaches the store.
    pub fn hold_completes(&self, gate: Gate) {
        *self.held_completes.lock().unwrap() = Some(gate);
    }

    /// Returns once `complete` has been called at least `count` times.
    pub async fn completing(&self, count: usize) {
        let mut completes = self.completes.subscribe();
        completes
            .wait_for(|&n| n >= count)
            .await
            .expect("the sender lives as long as the store");
    }

    pub fn renewals(&self) -> usize {
        *self.renewals.borrow()
    }
}

#[async_trait]
impl IdempotencyStore for Observed {
    async fn status(&self, id: &str) -> Result<CommandStatus, StoreError> {
        self.inner.status(id).await
    }

    async fn result(&self, id: &str) -> Result<Option<CommandResult>, StoreError> {
        self.inner.result(id).await
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.remove(id).await
    }

    async fn set_status(&self, id: &str, status: CommandStatus) -> Result<(), StoreError> {
        self.inner.set_status(id, status).await
    }

    async fn set_result(&self, id: &str, result: CommandResult) -> Result<(), StoreError> {
        self.inner.set_result(id, result).await
    }

    async fn try_set_status(
        &self,
        id: &str,
        expected: CommandStatus,
        new: CommandStatus,
    ) -> Result<bool, StoreError> {
        self.inner.try_set_status(id, expected, new).await
    }

    async fn get_and_set_status(
        &self,
        id: &str,
        new: CommandStatus,
    ) -> Result<(CommandStatus, bool), StoreError> {
        self.inner.get_and_set_status(id, new).await
    }

    async fn statuses(&self, ids: &[&str]) -> Result<HashMap<String, CommandStatus>, StoreError> {
        self.inner.statuses(ids).await
    }

    async fn results(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, Option<CommandResult>>, StoreError> {
        self.batch_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.results(ids).await
    }

    async fn register(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.register(id).await
    }

    async fn acquire(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
        lease: Option<Duration>,
    ) -> Result<Acquire, StoreError> {
        self.acquires.fetch_add(1, Ordering::SeqCst);
        self.inner.acquire(id, fingerprint, lease).await
    }

    async fn failure(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
    ) -> Result<Option<Failure>, StoreError> {
        self.inner.failure(id, fingerprint).await
    }

    async fn complete(
        &self,
        id: &str,
        ticket: ClaimTicket,
        result: CommandResult,
    ) -> Result<bool, StoreError> {
        self.completes.send_modify(|n| *n += 1);
        let held = self.held_completes.lock().unwrap().clone();
        if let Some(gate) = held {
            gate.passed().await;
        }
        self.inner.complete(id, ticket, result).await
    }

    async fn fail(
        &self,
        id: &str,
        ticket: ClaimTicket,
        failure: Failure,
    ) -> Result<bool, StoreError> {
        self.inner.fail(id, ticket, failure).await
    }

    async fn release(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        self.inner.release(id, ticket).await
    }

    async fn renew(
        &self,
        id: &str,
        ticket: ClaimTicket,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let renewed = self.inner.renew(id, ticket, lease).await;
        self.renewals.send_modify(|n| *n += 1);
        renewed
    }

    async fn mark_indeterminate(&self, id: &str, ticket: ClaimTicket) -> Result<bool, StoreError> {
        self.inner.mark_indeterminate(id, ticket).await
    }

    async fn resolve(&self, id: &str, resolution: Resolution) -> Result<bool, StoreError> {
        self.inner.resolve(id, resolution).await
    }

    async fn reset(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.reset(id).await
    }

    async fn wait(&self, id: &str, timeout: Duration) -> Result<CommandStatus, StoreError> {
        // Counted before forwarding: a caller counted here has already been told the command
        // is running, so whatever the owner does from now on, this caller learns of it.
        self.waits.send_modify(|n| *n += 1);
        self.inner.wait(id, timeout).await
    }

    async fn cleanup_expired(&self, max_age: Duration) -> Result<u64, StoreError> {
        self.inner.cleanup_expired(max_age).await
    }

    async fn cleanup_by_status(
        &self,
        status: CommandStatus,
        max_age: Duration,
    ) -> Result<u64, StoreError> {
        self.inner.cleanup_by_status(status, max_age).await
    }

    async fn auto_cleanup(
        &self,
        completed_age: Duration,
        failed_age: Duration,
        in_progress_age: Duration,
    ) -> Result<u64, StoreError> {
        self.inner
            .auto_cleanup(completed_age, failed_age, in_progress_age)
            .await
    }

    async fn count_by_status(&self) -> Result<HashMap<CommandStatus, u64>, StoreError> {
        self.inner.count_by_status().await
    }

    async fn health_metrics(&self) -> Result<HealthMetrics, StoreError> {
        self.inner.health_metrics().await
    }
}

/// A gate a test opens once: commands await it to hold their run open until the test is ready.
#[derive(Clone)]
pub struct Gate {
    open: Arc<watch::Sender<bool>>,
}

impl Gate {
    pub fn new() -> Self {
        Gate {
            open: Arc::new(watch::channel(false).0),
        }
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    pub async fn passed(&self) {
        let mut open = self.open.subscribe();
        open.wait_for(|&o| o)
            .await
            .expect("the gate outlives its waiters");
    }
}
