//! The tokio paths that `src/memory/cleaner.rs` names, so that the store compiles under
//! `--cfg loom`, where tokio itself does not build.
//!
//! The loom models never start the background cleaner (they step the store by hand), and
//! nothing here runs one: [`runtime::Handle::try_current`] reports that there is no runtime,
//! and every other item panics if it is ever used, so a model that starts a cleaner fails at
//! once instead of passing without it.

/// Panics: the cleaner is not part of any loom model.
#[track_caller]
fn unmodelled() -> ! {
    panic!("the background cleaner does not run under loom; step the store by hand")
}

pub mod sync {
    /// Stands in for `tokio::sync::Notify`; panics if used.
    pub struct Notify(());

    impl Notify {
        pub fn new() -> Self {
            super::unmodelled()
        }

        pub fn notify_one(&self) {
            super::unmodelled()
        }

        pub async fn notified(&self) {
            super::unmodelled()
        }
    }
}

pub mod task {
    /// Stands in for `tokio::task::JoinHandle`; never created.
    pub struct JoinHandle<T>(std::marker::PhantomData<T>);

    impl<T> JoinHandle<T> {
        pub fn abort(&self) {
            super::unmodelled()
        }
    }
}

pub mod runtime {
    use std::future::Future;

    /// Stands in for `tokio::runtime::Handle`; never created.
    pub struct Handle(());

    /// The only answer [`Handle::try_current`] gives.
    #[derive(Debug)]
    pub struct TryCurrentError(());

    impl Handle {
        /// There is never a runtime under loom.
        pub fn try_current() -> Result<Handle, TryCurrentError> {
            Err(TryCurrentError(()))
        }

        pub fn spawn<F>(&self, _future: F) -> super::task::JoinHandle<F::Output>
        where
            F: Future + Send + 'static,
        {
            super::unmodelled()
        }
    }
}

pub mod time {
    /// Stands in for `tokio::time::sleep`; panics if awaited.
    pub async fn sleep(_duration: std::time::Duration) {
        super::unmodelled()
    }
}

/// Stands in for `tokio::select!`: the branches are type-checked nowhere and never run.
#[macro_export]
macro_rules! select {
    ($($branches:tt)*) => {
        $crate::unmodelled_select()
    };
}

#[doc(hidden)]
pub fn unmodelled_select() {
    unmodelled()
}
