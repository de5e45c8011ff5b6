//! The waiter's wake-up protocol: a waiter that goes to sleep on an InProgress record is woken
//! by whatever ends the claim, whichever way the race between them goes.

use idemstore_loom_tests::harness::check;
use idemstore_loom_tests::raw_scenarios::waiter_racing_the_end_of_a_claim;

#[test]
fn waiter_racing_a_completion_is_never_left_asleep() {
    check(3, || waiter_racing_the_end_of_a_claim(false));
}

#[test]
fn waiter_racing_a_removal_is_never_left_asleep() {
    check(3, || waiter_racing_the_end_of_a_claim(true));
}
