//! Options and inputs too large to be meant, through the real `idemstore` binary: each is
//! refused at once with exit status 2 and one line naming the limit, before any memory is
//! reserved for it or any time spent on it; values at the limit still run.

mod cli_support;

use std::fs::File;

use cli_support::{
    assert_refused, failed_checks, gzip, idemstore, number, replay_json, replay_trace, scratch,
    write_file,
};

#[test]
fn a_duplicate_share_above_0_99_is_refused() {
    let run = idemstore(&["replay", "--json", "--duplicate-share", "0.999999"]);

    assert_refused(&run, &["--duplicate-share", "0.999999", "0.99"]);
}

#[test]
fn a_duplicate_share_of_0_99_generates_exactly_count_deliveries_and_passes() {
    let json = replay_json(&[
        "--count",
        "5000",
        "--duplicate-share",
        "0.99",
        "--redelivery-distance",
        "4294967295",
        "--handler-us",
        "0",
        "--seed",
        "3",
    ]);

    assert_eq!(number(&json, "/deliveries"), 5000);
    assert_eq!(failed_checks(&json), Vec::<String>::new(), "{json:#}");
}

#[test]
fn a_duplicate_share_of_0_99_is_mostly_redeliveries() {
    let json = replay_json(&[
        "--count",
        "20000",
        "--duplicate-share",
        "0.99",
        "--handler-us",
        "0",
        "--seed",
        "4",
    ]);

    let duplicates = number(&json, "/duplicates");

    assert!(
        duplicates > 19_000,
        "only {duplicates} of 20000 are redeliveries"
    );
}

#[test]
fn a_count_above_one_hundred_million_is_refused_without_allocating() {
    let run = idemstore(&["replay", "--json", "--count", "4294967295"]);

    assert_refused(&run, &["--count", "4294967295", "100000000"]);
}

#[test]
fn a_handler_time_above_one_minute_is_refused() {
    let run = idemstore(&["replay", "--json", "--handler-us", "18446744073709551615"]);

    assert_refused(&run, &["--handler-us", "60000000"]);
}

#[test]
fn more_than_4096_workers_are_refused() {
    let run = idemstore(&["replay", "--json", "--workers", "4097"]);

    assert_refused(&run, &["--workers", "4096"]);
}

#[test]
fn exactly_4096_workers_replay_and_pass() {
    let json = replay_json(&["--count", "5000", "--workers", "4096", "--handler-us", "0"]);

    assert_eq!(number(&json, "/workers"), 4096);
    assert_eq!(failed_checks(&json), Vec::<String>::new(), "{json:#}");
}

#[test]
fn a_plain_trace_over_4_gib_is_refused_naming_the_limit_without_reading_it() {
    let dir = scratch("limits_huge_plain");
    let path = dir.join("huge.i64be");
    // Sparse: the file claims 4 GiB + 8 bytes but occupies no disk space.
    File::create(&path)
        .and_then(|file| file.set_len((4 << 30) + 8))
        .expect("a sparse file is created");

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["huge.i64be", "more than 4294967296 bytes"]);
}

#[test]
fn a_gzip_bomb_is_refused_once_it_decompresses_past_the_limit() {
    let dir = scratch("limits_gzip_bomb");
    let path = write_file(&dir, "bomb.i64be.gz", &gzip(&vec![0; 4 << 20]));

    let run = replay_trace(&path, &["--max-trace-bytes", "1048576"]);

    assert_refused(
        &run,
        &["bomb.i64be.gz", "more than 1048576 bytes once decompressed"],
    );
}

#[test]
fn a_trace_limit_above_4_gib_is_refused() {
    let dir = scratch("limits_trace_limit");
    let path = write_file(&dir, "keys.i64be", &[0; 8]);

    let run = replay_trace(&path, &["--max-trace-bytes", "4294967297"]);

    assert_refused(&run, &["--max-trace-bytes", "4294967296"]);
}
