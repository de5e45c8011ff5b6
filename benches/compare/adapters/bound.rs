//! The hardware bound: what the machine allows for claim and complete, with nothing a real
//! store must do. No real store can beat it; every table reports contenders as a fraction of it.
//!
//! A pre-sized array of atomic words (a power of two, at least twice the run's ids), indexed
//! by a hash computed before anything is timed. It keeps no keys and no results:
//!
//! ```text
//!  63                                                      2 1   0
//! +---------------------------------------------------------+-----+
//! |                 tag: the id's hash, bits 2..63           |stat.|
//! +---------------------------------------------------------+-----+
//! ```
//!
//! A word is 0 when empty, else the tag and a status (1 InProgress, 2 Completed), never 0. A
//! claim probes linearly from the hash: an empty word is won by one compare-and-swap from 0 to
//! tag|InProgress; a word with the id's tag reports its status. The ticket is the word's index,
//! and complete is one store. Two ids whose hashes agree on 62 bits would be taken for one id;
//! the invariant checks (one winner per distinct id) would report it.
//!
//! Waiting shares one `Notify` across the array, and a flag keeps completions that nobody
//! waits for off that shared line (the same SeqCst pairing as `Slot`, with the flag in front).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use idemstore::CommandStatus;
use tokio::sync::Notify;

use super::{Claim, Contender, Key, Spec};

const STATUS_BITS: u64 = 0b11;
const IN_PROGRESS: u64 = 1;
const COMPLETED: u64 = 2;

pub struct BoundAdapter {
    words: Box<[AtomicU64]>,
    mask: usize,
    /// Set by the first waiter; completions notify only when it is set.
    waited_on: AtomicBool,
    notify: Notify,
}

impl BoundAdapter {
    /// The index of the id's word, if its tag is present.
    fn find(&self, hash: u64) -> Option<usize> {
        let tag = hash & !STATUS_BITS;
        let mut index = hash as usize & self.mask;
        for _ in 0..self.words.len() {
            match self.words[index].load(Ordering::Acquire) {
                0 => return None,
                word if word & !STATUS_BITS == tag => return Some(index),
                _ => index = (index + 1) & self.mask,
            }
        }
        None
    }

    fn status_at(&self, index: usize) -> CommandStatus {
        status_of(self.words[index].load(Ordering::SeqCst))
    }
}

fn status_of(word: u64) -> CommandStatus {
    match word & STATUS_BITS {
        IN_PROGRESS => CommandStatus::InProgress,
        COMPLETED => CommandStatus::Completed,
        _ => CommandStatus::NotFound,
    }
}

impl Contender for BoundAdapter {
    type Ticket = usize;

    fn build(spec: &Spec) -> Self {
        let len = (2 * spec.ids_hint).next_power_of_two().max(1024);
        BoundAdapter {
            words: (0..len).map(|_| AtomicU64::new(0)).collect(),
            mask: len - 1,
            waited_on: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    fn claim<'a>(&'a self, key: Key<'a>) -> impl Future<Output = Claim<usize>> + Send {
        async move {
            let tag = key.hash & !STATUS_BITS;
            let mut index = key.hash as usize & self.mask;
            for _ in 0..self.words.len() {
                let word = &self.words[index];
                let mut seen = word.load(Ordering::Acquire);
                if seen == 0 {
                    match word.compare_exchange(
                        0,
                        tag | IN_PROGRESS,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return Claim::Won(index),
                        Err(now) => seen = now,
                    }
                }
                if seen & !STATUS_BITS == tag {
                    return Claim::Saw(status_of(seen));
                }
                index = (index + 1) & self.mask;
            }
            panic!("the hardware bound's array is full: it was sized for fewer ids than the run");
        }
    }

    fn complete<'a>(
        &'a self,
        key: Key<'a>,
        index: usize,
        _: u64,
    ) -> impl Future<Output = bool> + Send {
        async move {
            // SeqCst: orders this store before the flag load below, against a waiter's flag
            // store and status load (see the module docs).
            self.words[index].store((key.hash & !STATUS_BITS) | COMPLETED, Ordering::SeqCst);
            if self.waited_on.load(Ordering::SeqCst) {
                self.notify.notify_waiters();
            }
            true
        }
    }

    fn status<'a>(&'a self, key: Key<'a>) -> impl Future<Output = CommandStatus> + Send {
        async move {
            self.find(key.hash)
                .map_or(CommandStatus::NotFound, |index| self.status_at(index))
        }
    }

    fn wait<'a>(
        &'a self,
        key: Key<'a>,
        registered: impl FnOnce() + Send + 'a,
    ) -> impl Future<Output = CommandStatus> + Send {
        async move {
            self.waited_on.store(true, Ordering::SeqCst);
            let mut registered = Some(registered);
            loop {
                let notified = self.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let status = self
                    .find(key.hash)
                    .map_or(CommandStatus::NotFound, |index| self.status_at(index));
                if let Some(registered) = registered.take() {
                    registered();
                }
                if status != CommandStatus::InProgress {
                    return status;
                }
                notified.await;
            }
        }
    }

    fn present(&self) -> u64 {
        let held = self.words.iter();
        held.filter(|word| word.load(Ordering::Relaxed) != 0)
            .count() as u64
    }
}
