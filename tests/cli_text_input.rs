//! Text traces through the real `idemstore` binary, at the edges of the `TIME ID SIZE` format:
//! what editors and scripts leave in a file is accepted, and an id the store would refuse is
//! refused while the trace is read, before anything is replayed.

mod cli_support;

use cli_support::{assert_refused, failed_checks, number, replay_trace, scratch, write_file};

#[test]
fn an_id_longer_than_1024_bytes_is_refused_with_its_line_before_the_replay() {
    let dir = scratch("text_long_id");
    let text = format!("1 {} 10\n2 y 10\n", "x".repeat(1025));
    let path = write_file(&dir, "long.txt", text.as_bytes());

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["long.txt", "line 1", "1025 bytes", "1024"]);
}

#[test]
fn an_id_of_exactly_1024_bytes_is_replayed() {
    let dir = scratch("text_longest_id");
    let text = format!("1 {} 10\n2 y 10\n", "x".repeat(1024));
    let path = write_file(&dir, "longest.txt", text.as_bytes());

    let run = replay_trace(&path, &[]);

    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(number(&run.json(), "/distinct_ids"), 2);
}

#[test]
fn one_trailing_empty_line_is_accepted() {
    let dir = scratch("text_trailing_empty");
    let path = write_file(&dir, "cdn.txt", b"1 a 10\r\n2 b 10\r\n3 a 10\r\n\r\n");

    let run = replay_trace(&path, &[]);

    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(number(&json, "/deliveries"), 3);
    assert_eq!(failed_checks(&json), Vec::<String>::new());
}

#[test]
fn two_trailing_empty_lines_are_refused_at_the_first_of_them() {
    let dir = scratch("text_two_trailing_empty");
    let path = write_file(&dir, "cdn.txt", b"1 a 10\n2 b 10\n\n\n");

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["cdn.txt", "line 3"]);
}

#[test]
fn a_utf8_byte_order_mark_at_the_start_is_skipped() {
    let dir = scratch("text_bom");
    let path = write_file(&dir, "cdn.txt", b"\xEF\xBB\xBF1 a 10\n2 b 10\n3 a 10\n");

    let run = replay_trace(&path, &[]);

    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(number(&json, "/deliveries"), 3);
    assert_eq!(number(&json, "/distinct_ids"), 2);
}
