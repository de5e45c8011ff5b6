//! Which ids a store accepts: any non-empty string up to the length limit, counted in bytes.
//! Everything else gets a typed error from every method, batches included, and changes
//! nothing.

use std::sync::Arc;
use std::time::Duration;

use idemstore::{
    ClaimTicket, CommandStatus, Fingerprint, IdempotencyStore, IdempotencyStoreExt, Resolution,
    StoreError,
};

use super::Plan;
use super::support::{Ids, claim_free, expected, result_of, retryable, snapshot};

/// Suffixes that make ids distinct only by bytes a careless backend might normalise, trim,
/// terminate on or split on.
const AWKWARD_SUFFIXES: &[&str] = &[
    "ключ",
    "鍵",
    "🔑",
    "\u{e9}",
    "e\u{301}",
    "a",
    "a\0",
    "a\0b",
    "\0",
    "line",
    "line\n",
    "line\nbreak",
    "\r\n",
    "tab\there",
    " ",
    "  ",
    "\u{feff}bom",
    "*",
    "{braces}",
];

/// Calls every method with `bad` and returns the name of each call with what it answered.
/// `good` is a valid id (for batches mixing both) and `ticket` a real claim on it.
async fn every_method_with(
    store: &dyn IdempotencyStore,
    bad: &str,
    good: &str,
    ticket: ClaimTicket,
) -> Vec<(String, Result<(), StoreError>)> {
    let mut answers = vec![
        ("status".into(), store.status(bad).await.map(drop)),
        ("result".into(), store.result(bad).await.map(drop)),
        ("remove".into(), store.remove(bad).await.map(drop)),
        (
            "set_result".into(),
            store.set_result(bad, result_of("x")).await,
        ),
        ("claim".into(), store.claim(bad).await.map(drop)),
        (
            "complete".into(),
            store.complete(bad, ticket, result_of("x")).await.map(drop),
        ),
        (
            "fail".into(),
            store.fail(bad, ticket, retryable()).await.map(drop),
        ),
        ("release".into(), store.release(bad, ticket).await.map(drop)),
        (
            "renew".into(),
            store
                .renew(bad, ticket, Duration::from_secs(60))
                .await
                .map(drop),
        ),
        (
            "mark_indeterminate".into(),
            store.mark_indeterminate(bad, ticket).await.map(drop),
        ),
        ("register".into(), store.register(bad).await.map(drop)),
        (
            "acquire".into(),
            store.acquire(bad, None, None).await.map(drop),
        ),
        (
            "acquire with fingerprint and lease".into(),
            store
                .acquire(
                    bad,
                    Some(Fingerprint::of(b"x")),
                    Some(Duration::from_secs(1)),
                )
                .await
                .map(drop),
        ),
        (
            "resolve".into(),
            store
                .resolve(bad, Resolution::Completed(result_of("x")))
                .await
                .map(drop),
        ),
        ("reset".into(), store.reset(bad).await.map(drop)),
        (
            "wait".into(),
            store.wait(bad, Duration::from_secs(1)).await.map(drop),
        ),
        ("statuses".into(), store.statuses(&[bad]).await.map(drop)),
        ("results".into(), store.results(&[bad]).await.map(drop)),
        (
            "statuses mixed".into(),
            store.statuses(&[good, bad]).await.map(drop),
        ),
        (
            "results mixed".into(),
            store.results(&[good, bad, good]).await.map(drop),
        ),
        (
            "statuses_of".into(),
            store.statuses_of([good, bad]).await.map(drop),
        ),
        (
            "results_of".into(),
            store.results_of(vec![bad.to_owned()]).await.map(drop),
        ),
    ];
    for status in CommandStatus::ALL {
        let answer = store.set_status(bad, status).await;
        answers.push((format!("set_status {status}"), answer));
    }
    for (from, to) in [
        (CommandStatus::NotFound, CommandStatus::InProgress),
        (CommandStatus::InProgress, CommandStatus::Failed),
        (CommandStatus::Completed, CommandStatus::NotFound),
    ] {
        let answer = store.try_set_status(bad, from, to).await.map(drop);
        answers.push((format!("try_set_status {from} -> {to}"), answer));
    }
    for to in CommandStatus::ALL {
        let answer = store.get_and_set_status(bad, to).await.map(drop);
        answers.push((format!("get_and_set_status {to}"), answer));
    }
    answers
}

/// Asserts that every method refused `bad` with `error`, and that the valid id's claim is
/// untouched by all of it.
async fn assert_rejected_everywhere(store: &dyn IdempotencyStore, bad: &str, error: StoreError) {
    let good = Ids::for_behaviour("rejection-witness").id(0);
    let ticket = claim_free(store, &good).await;

    let answers = every_method_with(store, bad, &good, ticket).await;

    let wrong: Vec<_> = answers
        .iter()
        .filter(|(_, answer)| *answer != Err(error.clone()))
        .collect();
    assert!(
        wrong.is_empty(),
        "expected {error:?} from every method, got {wrong:#?}"
    );
    assert_eq!(
        snapshot(store, &good).await,
        (CommandStatus::InProgress, None)
    );
    assert!(
        store
            .complete(&good, ticket, result_of("intact"))
            .await
            .unwrap()
    );
}

pub async fn empty_id_is_rejected_by_every_method(store: Arc<dyn IdempotencyStore>, _: &Plan) {
    assert_rejected_everywhere(&*store, "", StoreError::EmptyId).await;
}

pub async fn over_long_id_is_rejected_by_every_method(
    store: Arc<dyn IdempotencyStore>,
    plan: &Plan,
) {
    let too_long = Ids::for_behaviour("over-long").id_of_len(plan.max_id_len + 1);

    let error = StoreError::IdTooLong {
        len: plan.max_id_len + 1,
        max: plan.max_id_len,
    };
    assert_rejected_everywhere(&*store, &too_long, error).await;
    assert_eq!(
        snapshot(&*store, &too_long[..plan.max_id_len]).await,
        (CommandStatus::NotFound, None)
    );
}

pub async fn id_at_the_length_limit_is_accepted_and_the_limit_counts_bytes(
    store: Arc<dyn IdempotencyStore>,
    plan: &Plan,
) {
    let ids = Ids::for_behaviour("length-limit");
    let at_limit = ids.id_of_len(plan.max_id_len);
    let mut wide_at_limit = ids.id("€");
    while wide_at_limit.len() + '€'.len_utf8() <= plan.max_id_len {
        wide_at_limit.push('€');
    }
    let mut wide_over_limit = wide_at_limit.clone();
    while wide_at_limit.len() < plan.max_id_len {
        wide_at_limit.push('x');
    }
    wide_over_limit.push('€');

    for id in [&at_limit, &wide_at_limit] {
        let ticket = claim_free(&*store, id).await;
        assert!(
            store
                .complete(id, ticket, result_of("at limit"))
                .await
                .unwrap()
        );
        assert_eq!(
            snapshot(&*store, id).await,
            (CommandStatus::Completed, expected("at limit"))
        );
    }
    let refused = store.claim(&wide_over_limit).await;

    assert!(wide_over_limit.chars().count() <= plan.max_id_len);
    assert_eq!(
        refused,
        Err(StoreError::IdTooLong {
            len: wide_over_limit.len(),
            max: plan.max_id_len
        })
    );
}

pub async fn rejected_id_in_a_batch_fails_the_batch_and_changes_nothing(
    store: Arc<dyn IdempotencyStore>,
    plan: &Plan,
) {
    let ids = Ids::for_behaviour("batch-rejection");
    let good = ids.id("good");
    let too_long = ids.id_of_len(plan.max_id_len + 1);
    let ticket = claim_free(&*store, &good).await;
    assert!(
        store
            .complete(&good, ticket, result_of("kept"))
            .await
            .unwrap()
    );

    let statuses = store.statuses(&[&good, "", &good]).await;
    let results = store.results(&[&good, &too_long]).await;

    assert_eq!(statuses, Err(StoreError::EmptyId));
    assert!(
        matches!(results, Err(StoreError::IdTooLong { .. })),
        "{results:?}"
    );
    assert_eq!(
        snapshot(&*store, &good).await,
        (CommandStatus::Completed, expected("kept"))
    );
}

pub async fn unicode_nul_and_newline_ids_are_valid_and_distinct(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("awkward-ids");
    let awkward: Vec<String> = AWKWARD_SUFFIXES
        .iter()
        .map(|suffix| ids.id(suffix))
        .collect();

    for (n, id) in awkward.iter().enumerate() {
        let claimed = store.claim(id).await.unwrap();
        let ticket = claimed
            .ticket()
            .unwrap_or_else(|| panic!("{id:?} is not a fresh id: claim found {claimed:?}"));
        assert!(
            store
                .complete(id, ticket, result_of(&n.to_string()))
                .await
                .unwrap()
        );
    }

    for (n, id) in awkward.iter().enumerate() {
        let read = snapshot(&*store, id).await;
        assert_eq!(
            read,
            (CommandStatus::Completed, expected(&n.to_string())),
            "{id:?}"
        );
    }
    let asked: Vec<&str> = awkward.iter().map(String::as_str).collect();
    let statuses = store.statuses(&asked).await.unwrap();
    assert_eq!(statuses.len(), awkward.len(), "{statuses:?}");
    assert!(
        statuses
            .values()
            .all(|status| *status == CommandStatus::Completed)
    );
}
