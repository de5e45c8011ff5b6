//! The built-in synthetic stream through the `idemstore` binary: it runs with no input at all,
//! is reproducible from its seed, makes duplicates meet running commands, and exercises both
//! failure policies. A replay whose ages are too short to cover its redeliveries must fail its
//! checks: the checks can fail.

mod cli_support;

use cli_support::{failed_checks, idemstore, number, replay_json};

#[test]
fn replay_with_no_input_runs_the_synthetic_stream_and_passes() {
    let json = replay_json(&[]);

    assert_eq!(json["source"]["kind"], "synthetic");
    assert_eq!(failed_checks(&json), Vec::<String>::new(), "{json:#}");
    assert_eq!(number(&json, "/deliveries"), 100_000);
    assert_eq!(number(&json, "/executions"), number(&json, "/distinct_ids"));
}

#[test]
fn the_human_summary_reports_counts_latency_and_checks() {
    let run = idemstore(&["replay", "--count", "5000", "--seed", "11"]);

    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    for expected in [
        "deliveries",
        "distinct ids",
        "duplicates absorbed",
        "waited on a running command",
        "deliveries/s",
        "p50",
        "p99.9",
        "store health",
        "all 4 checks passed",
    ] {
        assert!(
            run.stdout.contains(expected),
            "no {expected:?} in:\n{}",
            run.stdout
        );
    }
    assert_eq!(
        run.stderr, "",
        "no progress bar when stderr is not a terminal"
    );
}

#[test]
fn the_same_seed_replays_the_same_stream() {
    let args = ["--count", "20000", "--seed", "42", "--handler-us", "0"];

    let (first, second) = (replay_json(&args), replay_json(&args));

    for field in ["/deliveries", "/distinct_ids", "/duplicates"] {
        assert_eq!(number(&first, field), number(&second, field), "{field}");
    }
    assert_eq!(number(&first, "/seed"), 42);
}

#[test]
fn about_a_third_of_synthetic_deliveries_are_redeliveries() {
    let json = replay_json(&["--count", "30000", "--seed", "5", "--handler-us", "0"]);

    let share = number(&json, "/duplicates") as f64 / number(&json, "/deliveries") as f64;

    assert!((0.31..0.35).contains(&share), "duplicate share {share}");
}

#[test]
fn redeliveries_meet_the_first_delivery_still_running_and_wait_for_it() {
    let json = replay_json(&[
        "--count",
        "4000",
        "--seed",
        "3",
        "--workers",
        "4",
        "--handler-us",
        "300",
    ]);

    assert!(number(&json, "/answers/waited") > 0, "{json:#}");
    assert_eq!(failed_checks(&json), Vec::<String>::new());
}

#[test]
fn retryable_failures_run_again_on_the_next_delivery() {
    let json = replay_json(&[
        "--count",
        "20000",
        "--seed",
        "7",
        "--fail-rate",
        "0.2",
        "--failure-policy",
        "retryable",
        "--handler-us",
        "0",
    ]);

    let reruns = number(&json, "/executions") - number(&json, "/distinct_ids");
    assert!(reruns > 0, "{json:#}");
    assert!(number(&json, "/answers/failed_runs") >= reruns);
    assert_eq!(failed_checks(&json), Vec::<String>::new(), "{json:#}");
}

#[test]
fn terminal_failures_are_replayed_and_never_run_again() {
    let json = replay_json(&[
        "--count",
        "20000",
        "--seed",
        "7",
        "--fail-rate",
        "0.2",
        "--failure-policy",
        "terminal",
        "--handler-us",
        "0",
    ]);

    assert_eq!(number(&json, "/executions"), number(&json, "/distinct_ids"));
    assert!(number(&json, "/answers/failed_elsewhere") > 0, "{json:#}");
    assert_eq!(
        number(&json, "/store/counts/Failed"),
        number(&json, "/answers/failed_runs")
    );
    assert_eq!(failed_checks(&json), Vec::<String>::new(), "{json:#}");
}

#[test]
fn when_every_attempt_fails_every_command_ends_failed() {
    let json = replay_json(&[
        "--count",
        "5000",
        "--seed",
        "1",
        "--fail-rate",
        "1",
        "--handler-us",
        "0",
    ]);

    assert_eq!(
        number(&json, "/store/counts/Failed"),
        number(&json, "/distinct_ids")
    );
    assert_eq!(number(&json, "/store/counts/Completed"), 0);
    assert_eq!(failed_checks(&json), Vec::<String>::new(), "{json:#}");
}

#[test]
fn a_completed_age_shorter_than_the_redelivery_gap_fails_the_checks() {
    let run = idemstore(&[
        "replay",
        "--json",
        "--count",
        "200",
        "--seed",
        "9",
        "--workers",
        "1",
        "--handler-us",
        "2000",
        "--completed-ttl",
        "1ms",
    ]);

    assert_eq!(run.status, 1, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["passed"], false);
    assert!(
        failed_checks(&json).contains(&"side_effects".to_owned()),
        "{json:#}"
    );
}

#[test]
fn the_json_object_carries_throughput_and_latency_percentiles() {
    let json = replay_json(&["--count", "5000", "--seed", "2"]);

    assert!(json["throughput_per_s"].as_f64().unwrap() > 0.0);
    let latency = &json["latency_us"];
    let percentiles: Vec<f64> = ["p50", "p90", "p99", "p99_9", "max"]
        .iter()
        .map(|p| {
            latency[p]
                .as_f64()
                .unwrap_or_else(|| panic!("no latency {p}: {json:#}"))
        })
        .collect();
    assert!(
        percentiles.windows(2).all(|w| w[0] <= w[1]),
        "{percentiles:?}"
    );
    assert!(
        percentiles[0] >= 50.0,
        "a 50 µs handler makes p50 at least 50 µs: {percentiles:?}"
    );
}
