//! Calling a command again after an outcome that another attempt may cure, with exponential,
//! jittered backoff between attempts.
//!
//! Each attempt is a whole [`execute_with`](Executor::execute_with): another attempt may find
//! the command completed by someone else meanwhile, wait for a new owner, or run it itself.
//! Which outcomes are worth another attempt is [`ExecuteError::is_retryable`]. Between attempts
//! the call only sleeps, so dropping its future stops it at once, attempts and all.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::options::{JITTER_MAX, JITTER_MIN};
use super::{Backoff, CallOptions, ExecuteError, Executed, Executor};
use crate::Fingerprint;

impl Executor {
    /// [`execute`](Self::execute), called again up to `max_retries` times while the outcome is
    /// retryable (see [`ExecuteError::is_retryable`]): retry `n` waits
    /// `base_delay × 2^(n−1) × U[0.8, 1.2]`. `op` is called once per attempt that runs the
    /// command. Returns the last attempt's outcome.
    pub async fn execute_with_retry<T, E, F, Fut>(
        &self,
        id: &str,
        max_retries: u32,
        base_delay: Duration,
        op: F,
    ) -> Result<Executed<T>, ExecuteError<E>>
    where
        F: FnMut(CancellationToken) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
        T: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let backoff = Backoff {
            max_retries,
            base_delay,
        };
        self.execute_with_backoff(id, None, CallOptions::default(), backoff, op)
            .await
    }

    /// [`execute_with_retry`](Self::execute_with_retry) with a payload fingerprint and per-call
    /// overrides, as [`execute_with`](Self::execute_with) takes them.
    pub async fn execute_with_backoff<T, E, F, Fut>(
        &self,
        id: &str,
        fingerprint: Option<Fingerprint>,
        call: CallOptions,
        backoff: Backoff,
        mut op: F,
    ) -> Result<Executed<T>, ExecuteError<E>>
    where
        F: FnMut(CancellationToken) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
        T: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let policy = call.failure_policy.unwrap_or(self.options.failure_policy);
        let mut retry = 0;
        loop {
            let outcome = self
                .execute_with(id, fingerprint, call.clone(), &mut op)
                .await;
            let error = match outcome {
                Err(error) if retry < backoff.max_retries && error.is_retryable(policy) => error,
                settled => return settled,
            };

            retry += 1;
            let factor = rand::thread_rng().gen_range(JITTER_MIN..=JITTER_MAX);
            let delay = backoff.delay(retry, factor);
            tracing::debug!(id, retry, ?delay, %error, "retrying after a retryable outcome");
            tokio::time::sleep(delay).await;
        }
    }
}
