use idemstore::{ClaimOutcome, CommandResult, CommandStatus, MemoryStore};
use std::sync::Arc;

#[test]
fn two_threads_grow_the_table_and_every_id_is_claimed_once() {
    let store = Arc::new(MemoryStore::builder().shards(4).build());
    let n = 200_000;
    let wins: Vec<usize> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                s.spawn(move || {
                    let mut won = 0;
                    for i in 0..n {
                        let id = format!("id-{i}");
                        if let ClaimOutcome::Acquired(t) = store.claim(&id).unwrap() {
                            won += 1;
                            assert!(store.complete(&id, t, CommandResult::new(i)).unwrap());
                        }
                    }
                    won
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(wins.iter().sum::<usize>(), n);
    assert_eq!(store.len(), n);
    for i in 0..n {
        let id = format!("id-{i}");
        assert_eq!(store.status(&id).unwrap(), CommandStatus::Completed);
        assert_eq!(
            *store
                .result(&id)
                .unwrap()
                .unwrap()
                .downcast::<usize>()
                .unwrap(),
            i
        );
    }
    for i in 0..n {
        assert!(store.remove(&format!("id-{i}")).unwrap());
    }
    assert_eq!(store.len(), 0);
    for i in 0..n {
        assert!(store.claim(&format!("id-{i}")).unwrap().ticket().is_some());
    }
    assert_eq!(store.len(), n);
}
