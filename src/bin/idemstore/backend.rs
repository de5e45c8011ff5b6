//! Choosing and opening the store a replay runs against.
//!
//! `--backend` takes a name for an in-process store (`memory`) or a URL for a networked one
//! (`redis://host:6379/0`). Only `memory` exists in this build; a URL is understood as a
//! backend request and refused with "not supported yet", so scripts written against the URL
//! form keep their meaning when a networked backend arrives.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use idemstore::{CleanerOptions, Expiry, IdempotencyStore, MemoryStore};

use crate::errors::CliError;
use crate::stream::MAX_ID_BYTES;

/// A backend named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendSpec {
    /// The in-process lock-free store.
    Memory,
}

impl BackendSpec {
    /// Parses `--backend`.
    pub fn parse(given: &str) -> Result<BackendSpec, CliError> {
        let trimmed = given.trim();
        if trimmed.eq_ignore_ascii_case("memory") {
            return Ok(BackendSpec::Memory);
        }
        if trimmed.contains("://") {
            return Err(CliError::BackendNotSupported {
                url: trimmed.to_owned(),
            });
        }
        Err(CliError::UnknownBackend {
            given: given.to_owned(),
        })
    }
}

impl fmt::Display for BackendSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendSpec::Memory => f.write_str("memory"),
        }
    }
}

/// An open store, and what the tool must do to shut it down.
pub struct Backend {
    /// The store, as every backend is used.
    pub store: Arc<dyn IdempotencyStore>,
    /// The memory store behind `store`, kept to stop its cleaner before the final checks.
    memory: Option<Arc<MemoryStore>>,
}

/// How often the cleaner steps the expiry wheel during a replay: often enough that short
/// ages given on the command line show as removals while the replay runs.
const EXPIRY_STEP: Duration = Duration::from_millis(100);

impl Backend {
    /// Opens the store `spec` names with `expiry`, sized for `ids` distinct ids. Call inside
    /// the tokio runtime: the memory store's cleaner runs as a task on it.
    pub fn open(spec: &BackendSpec, expiry: Expiry, ids: usize) -> Backend {
        match spec {
            BackendSpec::Memory => {
                let cleaner = CleanerOptions {
                    completed_age: expiry.completed.unwrap_or(Duration::MAX),
                    failed_age: expiry.failed.unwrap_or(Duration::MAX),
                    in_progress_age: expiry.in_progress.unwrap_or(Duration::MAX),
                    log_health: false,
                    expiry_interval: EXPIRY_STEP,
                    ..CleanerOptions::default()
                };
                let memory = MemoryStore::builder()
                    .capacity(ids)
                    .max_id_len(MAX_ID_BYTES)
                    .expiry(expiry)
                    .build_with_cleaner(cleaner);
                Backend {
                    store: Arc::clone(&memory) as Arc<dyn IdempotencyStore>,
                    memory: Some(memory),
                }
            }
        }
    }

    /// Stops background work, so the store holds still while it is checked.
    pub fn quiesce(&self) {
        if let Some(memory) = &self.memory {
            memory.stop_cleaner();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_the_one_backend_of_this_build() {
        assert_eq!(BackendSpec::parse("memory").unwrap(), BackendSpec::Memory);
        assert_eq!(BackendSpec::parse("Memory").unwrap(), BackendSpec::Memory);
    }

    #[test]
    fn a_url_is_a_backend_not_supported_yet() {
        let refused = BackendSpec::parse("redis://127.0.0.1:6379/0");

        assert!(matches!(refused, Err(CliError::BackendNotSupported { .. })));
    }

    #[test]
    fn any_other_name_is_unknown() {
        assert!(matches!(
            BackendSpec::parse("mem"),
            Err(CliError::UnknownBackend { .. })
        ));
    }
}
