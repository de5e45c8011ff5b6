//! The conformance suite on `MemoryStore`: once as built by default, and once with a single
//! shard, whose table starts at 16 slots so that nearly every behaviour's inserts run into
//! migrations while other threads read and write the same table. A last test checks that
//! the suite also accepts the async factory a networked backend will pass it.

#[macro_use]
mod conformance;

mod default_build {
    use std::sync::Arc;

    use idemstore::{IdempotencyStore, MemoryStore};

    conformance_suite!(|| Arc::new(MemoryStore::new()) as Arc<dyn IdempotencyStore>);
}

mod single_shard {
    use std::sync::Arc;

    use idemstore::{IdempotencyStore, MemoryStore};

    conformance_suite!(
        || Arc::new(MemoryStore::builder().shards(1).build()) as Arc<dyn IdempotencyStore>
    );
}

/// A backend whose constructor is async (a networked one) hands the suite a closure returning
/// a future; the suite must build its stores from that form too.
#[tokio::test]
async fn suite_builds_stores_from_an_async_factory() {
    use std::sync::Arc;

    use idemstore::{CommandStatus, IdempotencyStore, MemoryStore};

    let factory = || async {
        tokio::task::yield_now().await;
        Arc::new(MemoryStore::new()) as Arc<dyn IdempotencyStore>
    };

    let store = conformance::support::fresh_store(factory).await;

    assert!(
        store
            .claim("async-factory")
            .await
            .unwrap()
            .ticket()
            .is_some()
    );
    assert_eq!(
        store.status("async-factory").await.unwrap(),
        CommandStatus::InProgress
    );
}
