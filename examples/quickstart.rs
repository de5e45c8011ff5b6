//! The README's example: three deliveries of one payment command, one charge.
//!
//! Run: `cargo run --example quickstart`

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use idemstore::{ExecuteError, Executor, IdempotencyStore, MemoryStore, Served};

#[tokio::main]
async fn main() -> Result<(), ExecuteError<String>> {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    let executor = Executor::new(store);
    let charges = Arc::new(AtomicU32::new(0));

    // The same command delivered three times, two of them at once.
    let deliver = || {
        let (executor, charges) = (executor.clone(), Arc::clone(&charges));
        async move {
            executor
                .execute("payment-42", |_cancelled| async move {
                    charges.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok::<_, String>(1250_u64) // the amount charged, in cents
                })
                .await
        }
    };
    let (first, second) = tokio::join!(deliver(), deliver());
    let third = deliver().await;

    let outcomes = [first?, second?, third?];
    for outcome in &outcomes {
        assert_eq!(*outcome.value, 1250);
        println!("charged {} cents ({:?})", outcome.value, outcome.served);
    }
    let ran = outcomes.iter().filter(|o| o.served == Served::Ran).count();
    assert_eq!(ran, 1, "exactly one delivery ran the command");
    assert_eq!(
        charges.load(Ordering::SeqCst),
        1,
        "the side effect ran once"
    );
    println!("side effect ran {} time", charges.load(Ordering::SeqCst));
    Ok(())
}
