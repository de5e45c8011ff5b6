//! Replaying the shared real traces through the `idemstore` binary: every command runs once,
//! and every redelivery is absorbed, whatever the number of workers.
//!
//! Each replay's figures are compared with a count of the trace decoded here, apart from the
//! tool. For the two traces whose figures the traces README documents, those figures are
//! checked too, so a changed file shows up as such. The handler takes 1 µs, so a replay stays
//! about a second long in an unoptimised build.

mod cli_support;

use cli_support::{count_independently, failed_checks, number, replay_json, trace};
use serde_json::Value;

const CORDA: &str = "corda-vaultservice.i64be.gz";
const WEB07: &str = "cache2k-web07.i32be.xz";
const CDN: &str = "adaptsize-cdn-requests.txt.xz";

/// Replays `name` with `workers` workers and checks it against an independent count.
fn replays_every_command_once(name: &str, workers: &str) -> Value {
    let counted = count_independently(name);

    let json = replay_json(&[
        "--trace",
        &trace(name),
        "--workers",
        workers,
        "--handler-us",
        "1",
    ]);

    let context = format!("{name} with {workers} workers");
    assert_eq!(
        failed_checks(&json),
        Vec::<String>::new(),
        "{context}: {json:#}"
    );
    assert_eq!(json["passed"], true, "{context}");
    assert_eq!(
        number(&json, "/workers"),
        workers.parse::<u64>().unwrap(),
        "{context}"
    );
    assert_eq!(
        number(&json, "/deliveries"),
        counted.deliveries,
        "{context}"
    );
    assert_eq!(
        number(&json, "/distinct_ids"),
        counted.distinct,
        "{context}"
    );
    assert_eq!(number(&json, "/executions"), counted.distinct, "{context}");
    assert_eq!(
        number(&json, "/duplicates_absorbed"),
        counted.deliveries - counted.distinct,
        "{context}"
    );
    assert_eq!(
        number(&json, "/store/counts/Completed"),
        counted.distinct,
        "{context}"
    );
    assert_eq!(number(&json, "/store/total"), counted.distinct, "{context}");
    json
}

/// The figures the traces README documents for `corda-vaultservice`.
fn assert_corda_figures(json: &Value) {
    assert_eq!(number(json, "/deliveries"), 135_702);
    assert_eq!(number(json, "/executions"), 90_468);
    assert_eq!(number(json, "/duplicates_absorbed"), 45_234);
}

/// The figures the traces README documents for `cache2k-web07`.
fn assert_web07_figures(json: &Value) {
    assert_eq!(number(json, "/deliveries"), 76_118);
    assert_eq!(number(json, "/executions"), 20_484);
}

#[test]
fn corda_replays_once_per_command_with_one_worker() {
    let json = replays_every_command_once(CORDA, "1");

    assert_corda_figures(&json);
}

#[test]
fn corda_replays_once_per_command_with_two_workers() {
    let json = replays_every_command_once(CORDA, "2");

    assert_corda_figures(&json);
}

#[test]
fn corda_replays_once_per_command_with_eight_workers() {
    let json = replays_every_command_once(CORDA, "8");

    assert_corda_figures(&json);
}

#[test]
fn web07_replays_once_per_command_with_one_worker() {
    let json = replays_every_command_once(WEB07, "1");

    assert_web07_figures(&json);
}

#[test]
fn web07_replays_once_per_command_with_eight_workers() {
    let json = replays_every_command_once(WEB07, "8");

    assert_web07_figures(&json);
}

#[test]
fn cdn_text_trace_replays_once_per_command_with_one_worker() {
    let json = replays_every_command_once(CDN, "1");

    assert_eq!(number(&json, "/deliveries"), 66_987);
}

#[test]
fn cdn_text_trace_replays_once_per_command_with_eight_workers() {
    let json = replays_every_command_once(CDN, "8");

    assert_eq!(number(&json, "/deliveries"), 66_987);
}

#[test]
fn the_format_is_recognised_from_the_name_and_reported() {
    let json = replay_json(&["--trace", &trace(WEB07), "--handler-us", "0"]);

    assert_eq!(json["source"]["kind"], "trace");
    assert_eq!(json["source"]["encoding"], "i32be");
    assert_eq!(json["source"]["compression"], "xz");
}

#[test]
fn an_explicit_format_decodes_the_same_trace_the_same_way() {
    let json = replay_json(&[
        "--trace",
        &trace(CORDA),
        "--format",
        "i64be.gz",
        "--handler-us",
        "0",
    ]);

    assert_eq!(json["passed"], true);
    assert_corda_figures(&json);
}
