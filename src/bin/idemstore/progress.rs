//! The progress bar on stderr, for replays that take more than a moment.
//!
//! Workers only bump a shared counter; a separate task draws. The bar appears after
//! [`SHOW_AFTER`], so a quick replay prints nothing but its summary, and never when stderr is
//! not a terminal or the output is JSON (a pipe or a log gets no control sequences).

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

/// How long a replay runs before it earns a progress bar.
const SHOW_AFTER: Duration = Duration::from_millis(300);
/// How often the bar is redrawn.
const REDRAW: Duration = Duration::from_millis(100);

/// Deliveries done so far, shared by the workers and the drawing task.
pub struct Progress {
    done: AtomicU64,
    finished: AtomicBool,
}

impl Progress {
    /// A counter at zero.
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress {
            done: AtomicU64::new(0),
            finished: AtomicBool::new(false),
        })
    }

    /// Counts `deliveries` more as done.
    pub fn advance(&self, deliveries: u64) {
        // Relaxed: the count is only displayed; nothing is ordered by it.
        self.done.fetch_add(deliveries, Ordering::Relaxed);
    }

    /// Starts drawing a bar out of `total` deliveries, if stderr is a terminal and `enabled`.
    pub fn draw(self: &Arc<Self>, total: u64, enabled: bool) -> Option<JoinHandle<()>> {
        if !enabled || !std::io::stderr().is_terminal() {
            return None;
        }
        let progress = Arc::clone(self);
        Some(tokio::spawn(async move {
            tokio::time::sleep(SHOW_AFTER).await;
            if progress.finished.load(Ordering::Acquire) {
                return;
            }
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} replaying {human_pos}/{human_len} deliveries [{wide_bar}] eta {eta}",
            )
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            // Start from where the workers are, so the rate and eta do not count the quiet
            // moment before the bar appeared as instant progress.
            bar.set_position(progress.done.load(Ordering::Relaxed));
            bar.reset_eta();
            // Acquire pairs with the Release in `finish`: once it reads true, the workers are
            // done and the final count is in.
            while !progress.finished.load(Ordering::Acquire) {
                bar.set_position(progress.done.load(Ordering::Relaxed));
                tokio::time::sleep(REDRAW).await;
            }
            bar.finish_and_clear();
        }))
    }

    /// Marks the replay done; the drawing task clears the bar and ends.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::Release);
    }
}
