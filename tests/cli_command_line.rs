//! Command-line mistakes through the real `idemstore` binary: a negative number reaches the
//! option's own check instead of reading as a flag, and every usage error is one line on stderr
//! with exit status 2, like any other bad input; help still prints in full.

mod cli_support;

use cli_support::{assert_refused, idemstore};

#[test]
fn a_negative_fail_rate_is_refused_as_out_of_range() {
    let run = idemstore(&["replay", "--json", "--fail-rate", "-0.1"]);

    assert_refused(&run, &["--fail-rate", "-0.1", "[0, 1]"]);
}

#[test]
fn a_negative_duplicate_share_is_refused_as_out_of_range() {
    let run = idemstore(&["replay", "--json", "--duplicate-share", "-0.5"]);

    assert_refused(&run, &["--duplicate-share", "-0.5"]);
}

#[test]
fn a_negative_count_is_refused_as_an_invalid_value() {
    let run = idemstore(&["replay", "--json", "--count", "-5"]);

    assert_refused(&run, &["invalid value", "-5", "--count"]);
}

#[test]
fn an_unknown_option_is_refused_in_one_line() {
    let run = idemstore(&["replay", "--json", "--bogus"]);

    assert_refused(&run, &["unexpected argument", "--bogus"]);
}

#[test]
fn a_missing_option_value_is_refused_in_one_line() {
    let run = idemstore(&["replay", "--json", "--workers"]);

    assert_refused(&run, &["--workers", "value is required"]);
}

#[test]
fn help_prints_in_full_on_stdout_with_the_limits() {
    let run = idemstore(&["replay", "--help"]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    for limit in [
        "at most 100000000",
        "[0, 0.99]",
        "at most 4096",
        "at most 60000000",
    ] {
        assert!(
            run.stdout.contains(limit),
            "no {limit:?} in:\n{}",
            run.stdout
        );
    }
}
