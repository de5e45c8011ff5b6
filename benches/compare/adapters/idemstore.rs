//! idemstore's `MemoryStore` through its synchronous API.
//!
//! - `idemstore`: `MemoryStore::new()`, default settings (default shard count, expiry on with
//!   the default ages), or with the Completed age of the spec (the churn workload's 100 ms).
//! - `idemstore-noexpiry`: the same with `Expiry::never()`.
//!
//! Upkeep (`maintain`) is one round of what the store's background cleaner does: expiry wheel
//! steps until nothing is due, then `compact` (which also frees the tables that growth
//! replaced). The workloads call it on the same schedule as moka's `run_pending_tasks`, so the
//! two stores with TTL get the same upkeep; the cleaner itself would add a thread of its own.
//!
//! The ticket is idemstore's `ClaimTicket`; completing looks the id up again, as the API
//! requires. Waiting is `MemoryStore::wait`: its first poll registers the waiter on the
//! record's `Notify` before re-reading the status, so "registered" is reported after a first
//! poll that returns pending.

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use idemstore::{ClaimOutcome, ClaimTicket, CommandResult, CommandStatus, Expiry, MemoryStore};

use super::{Claim, Contender, Key, Kind, Spec};

/// Longer than any herd takes; a wait that times out shows up as an InProgress status, which
/// the herd workload reports as a violation.
const WAIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Record looks per expiry step: the background cleaner's budget.
const STEP_BUDGET: usize = 4096;

pub struct IdemstoreAdapter {
    store: Arc<MemoryStore>,
}

impl Contender for IdemstoreAdapter {
    type Ticket = ClaimTicket;

    fn build(spec: &Spec) -> Self {
        let store = match (spec.kind, spec.completed_ttl) {
            (Kind::IdemstoreNoExpiry, _) => {
                Arc::new(MemoryStore::builder().expiry(Expiry::never()).build())
            }
            (_, None) => Arc::new(MemoryStore::new()),
            (_, Some(ttl)) => {
                let expiry = Expiry {
                    completed: Some(ttl),
                    ..Expiry::default()
                };
                Arc::new(MemoryStore::builder().expiry(expiry).build())
            }
        };
        IdemstoreAdapter { store }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<ClaimTicket>> + Send {
        async move {
            match self.store.claim(key.id) {
                Ok(ClaimOutcome::Acquired(ticket)) => Claim::Won(ticket),
                Ok(ClaimOutcome::Existing(status)) => Claim::Saw(status),
                Err(e) => panic!("idemstore refused bench id {}: {e}", key.id),
            }
        }
    }

    fn complete<'a>(
        &'a self,
        key: Key<'a>,
        ticket: ClaimTicket,
        value: u64,
    ) -> impl Future<Output = bool> + Send {
        async move {
            self.store
                .complete(key.id, ticket, CommandResult::new(value))
                .unwrap_or_else(|e| panic!("idemstore refused bench id {}: {e}", key.id))
        }
    }

    fn status<'a>(&'a self, key: Key<'a>) -> impl Future<Output = CommandStatus> + Send {
        async move {
            self.store
                .status(key.id)
                .unwrap_or_else(|e| panic!("idemstore refused bench id {}: {e}", key.id))
        }
    }

    fn wait<'a>(
        &'a self,
        key: Key<'a>,
        registered: impl FnOnce() + Send + 'a,
    ) -> impl Future<Output = CommandStatus> + Send {
        async move {
            let mut waiting = pin!(self.store.wait(key.id, WAIT_TIMEOUT));
            let first = std::future::poll_fn(|cx| Poll::Ready(waiting.as_mut().poll(cx))).await;
            registered();
            let outcome = match first {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => waiting.await,
            };
            outcome.unwrap_or_else(|e| panic!("idemstore refused bench id {}: {e}", key.id))
        }
    }

    fn present(&self) -> u64 {
        self.store.len() as u64
    }

    fn maintain(&self) -> impl Future<Output = ()> + Send {
        async move {
            while self.store.run_expiry(STEP_BUDGET).more {}
            self.store.compact();
        }
    }
}
