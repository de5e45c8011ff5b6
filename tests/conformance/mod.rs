//! The behavioural specification of [`IdempotencyStore`], written once for every backend.
//!
//! A backend's test file declares this module at its crate root and invokes
//! [`conformance_suite!`] with a factory for fresh stores. The macro expands into one
//! `#[tokio::test]` on a two-worker multi-thread runtime per behaviour; each calls the async
//! function of the same name in one of the modules below with a store built for that test.
//!
//! ```ignore
//! #[macro_use]
//! mod conformance;
//!
//! // A factory that answers at once...
//! conformance_suite!(|| Arc::new(MemoryStore::new()) as Arc<dyn IdempotencyStore>);
//!
//! // ...or one that connects first, with a smaller stress run for a networked backend.
//! conformance_suite!(
//!     || async { Arc::new(RedisStore::connect(URL).await.unwrap()) as Arc<dyn IdempotencyStore> },
//!     plan = Plan { stress: StressSize { threads: 8, ops_per_thread: 20_000, ids: 5_000 },
//!                   ..Plan::default() },
//! );
//! ```
//!
//! # Rules every behaviour keeps
//!
//! - Ids are unique per test *and per run* ([`support::Ids`]): a backend may be one server
//!   shared by all tests, and by earlier runs whose records are still there.
//! - Results are stored as bytes ([`CommandResult::from_bytes`]), the one form every backend
//!   can carry across a process boundary, and compared by content.
//! - Only the trait (and its extension trait) is used: nothing here knows the backend.
//!
//! # Modules
//!
//! - [`claims`]: claim races, fencing and stale tickets.
//! - [`transitions`]: compare-and-set, get-and-set and the administrative overrides.
//! - [`outcomes`]: what `acquire` and `register` answer, and payload fingerprints.
//! - [`operators`]: leases, Indeterminate and its resolution, and waiting for a run.
//! - [`reads`]: batch reads and what a concurrent reader may observe.
//! - [`ids`]: which ids are valid, and the typed errors for the rest.
//! - [`stress`]: many threads of random operations, with per-id accounting.
//!
//! [`IdempotencyStore`]: idemstore::IdempotencyStore
//! [`CommandResult::from_bytes`]: idemstore::CommandResult::from_bytes

#![allow(
    dead_code,
    reason = "a backend's test file may run a subset of the suite"
)]

pub mod claims;
pub mod ids;
pub mod operators;
pub mod outcomes;
pub mod reads;
pub mod stress;
pub mod support;
pub mod transitions;

pub use stress::StressSize;
pub use support::Plan;

/// Expands into the whole conformance suite for one backend.
///
/// The first argument is a factory: a closure returning either an
/// `Arc<dyn IdempotencyStore>` or a future of one (for backends whose constructor is async).
/// It is evaluated afresh inside every test. An optional `plan = <expr>` sets the sizes a
/// slower backend may lower; see [`Plan`].
///
/// The including crate declares this module as `#[macro_use] mod conformance;` at its root.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr $(,)?) => {
        $crate::conformance_suite!($factory, plan = $crate::conformance::Plan::default());
    };
    ($factory:expr, plan = $plan:expr $(,)?) => {
        $crate::conformance_suite!(@behaviours $factory, $plan;
            claims::exactly_one_of_sixteen_concurrent_claims_wins,
            claims::racing_check_then_claim_lets_one_win_and_the_other_see_in_progress,
            claims::racing_check_then_compare_and_set_lets_one_win_and_the_other_see_in_progress,
            claims::duplicate_claim_while_running_reports_in_progress,
            claims::duplicate_claim_of_completed_id_reports_completed_and_keeps_the_result,
            claims::failed_or_released_command_can_be_claimed_again,
            claims::remove_then_claim_starts_a_new_claim_that_the_old_ticket_cannot_touch,
            claims::stale_ticket_cannot_complete_fail_or_release_a_newer_claim,
            claims::stale_ticket_stays_stale_however_many_claims_follow,
            claims::ticket_of_one_id_cannot_finish_another_ids_claim,
            transitions::compare_and_set_with_wrong_expected_status_changes_nothing,
            transitions::compare_and_set_with_illegal_pair_is_an_invalid_transition,
            transitions::compare_and_set_from_not_found_creates_the_record,
            transitions::get_and_set_legal_transitions_return_the_previous_status,
            transitions::get_and_set_illegal_transition_reports_current_status_and_changes_nothing,
            transitions::get_and_set_in_progress_on_completed_id_is_refused_and_keeps_the_result,
            transitions::override_to_completed_is_refused_and_changes_nothing,
            transitions::override_to_any_other_status_applies_and_fences_the_current_claim,
            transitions::override_to_not_found_removes_status_and_result,
            transitions::set_result_completes_with_the_result_in_one_step,
            transitions::set_result_fences_the_current_claim,
            outcomes::acquire_answers_with_what_stands,
            outcomes::terminal_failure_is_replayed_instead_of_running_again,
            outcomes::retryable_failure_lets_the_next_caller_run_again,
            outcomes::different_fingerprint_on_the_same_id_is_a_conflict_whatever_the_status,
            outcomes::register_creates_a_not_started_record_only_for_an_unknown_id,
            outcomes::register_leaves_an_existing_record_as_it_was,
            operators::lapsed_lease_lets_the_next_caller_take_over_and_fences_the_old_owner,
            operators::renewed_lease_outlives_the_original_one,
            operators::indeterminate_claim_stands_until_an_operator_resolves_it,
            operators::resolve_and_reset_touch_only_indeterminate_ids,
            operators::reset_forgets_an_indeterminate_id_so_the_next_call_runs_it,
            operators::waiter_wakes_when_the_run_ends,
            operators::wait_returns_at_once_unless_running_and_times_out_while_running,
            operators::longest_durations_are_accepted_without_panicking,
            reads::batch_reads_answer_every_id_once_including_repeated_and_unknown_ids,
            reads::batch_reads_over_iterators_answer_every_id,
            reads::empty_batch_reads_answer_nothing,
            reads::reader_never_sees_completed_without_its_result_or_a_result_before_completed,
            ids::empty_id_is_rejected_by_every_method,
            ids::over_long_id_is_rejected_by_every_method,
            ids::id_at_the_length_limit_is_accepted_and_the_limit_counts_bytes,
            ids::rejected_id_in_a_batch_fails_the_batch_and_changes_nothing,
            ids::unicode_nul_and_newline_ids_are_valid_and_distinct,
            stress::random_operations_from_many_threads_run_each_claim_exactly_once,
        );
    };
    (@behaviours $factory:expr, $plan:expr; $($module:ident :: $behaviour:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $behaviour() {
                let store = $crate::conformance::support::fresh_store($factory).await;
                let plan: $crate::conformance::Plan = $plan;

                $crate::conformance::$module::$behaviour(store, &plan).await;
            }
        )+
    };
}
