//! Bad input through the real `idemstore` binary: each is refused with exit status 2 and one
//! line on stderr naming the problem, and prints no summary that could pass for a result.

mod cli_support;

use cli_support::{
    assert_refused, gzip, idemstore, replay_trace, scratch, write_file as write, xz,
};

#[test]
fn a_missing_trace_file_is_refused_naming_the_file() {
    let dir = scratch("missing_file");

    let run = replay_trace(&dir.join("absent.i64be.gz"), &[]);

    assert_refused(
        &run,
        &["cannot open trace", "absent.i64be.gz", "No such file"],
    );
}

#[test]
fn an_unknown_format_is_refused_naming_it() {
    let dir = scratch("unknown_format");
    let path = write(&dir, "keys.i64be", &[0; 8]);

    let run = replay_trace(&path, &["--format", "csv"]);

    assert_refused(&run, &["unknown trace format", "csv"]);
}

#[test]
fn a_name_that_shows_no_format_is_refused_asking_for_one() {
    let dir = scratch("nameless_format");
    let path = write(&dir, "keys.bin", &[0; 8]);

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["keys.bin", "--format"]);
}

#[test]
fn a_truncated_i64_trace_is_refused_with_its_byte_count() {
    let dir = scratch("truncated_i64");
    let path = write(&dir, "cut.i64be.gz", &gzip(&[0x11; 8 * 3 + 5]));

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["truncated", "29 bytes", "8-byte record"]);
}

#[test]
fn a_truncated_i32_trace_is_refused_with_its_byte_count() {
    let dir = scratch("truncated_i32");
    let path = write(&dir, "cut.i32be.xz", &xz(&[0x22; 4 * 5 + 3]));

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["truncated", "23 bytes", "4-byte record"]);
}

#[test]
fn an_empty_trace_is_refused() {
    let dir = scratch("empty_trace");
    let path = write(&dir, "nothing.i64be.gz", &gzip(&[]));

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["nothing.i64be.gz", "holds no deliveries"]);
}

#[test]
fn a_malformed_text_line_is_refused_with_its_line_number() {
    let dir = scratch("malformed_line");
    let path = write(
        &dir,
        "cdn.txt.xz",
        &xz(b"1 100 512\n2 200 64\n3 300\n4 400 8\n"),
    );

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["line 3", "expected 3 fields"]);
}

#[test]
fn a_text_line_with_a_non_numeric_time_is_refused_with_its_line_number() {
    let dir = scratch("non_numeric_time");
    let path = write(&dir, "cdn.txt", b"1 100 512\nsoon 200 64\n");

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["line 2", "TIME"]);
}

#[test]
fn a_corrupt_compressed_trace_is_refused_naming_the_compression() {
    let dir = scratch("corrupt_gzip");
    let mut bytes = gzip(&[0x33; 4096]);
    let middle = bytes.len() / 2;
    bytes.truncate(middle);
    let path = write(&dir, "broken.i32be.gz", &bytes);

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["broken.i32be.gz", "gzip"]);
}

#[test]
fn a_zero_worker_count_is_refused() {
    let run = idemstore(&["replay", "--json", "--workers", "0"]);

    assert_refused(&run, &["--workers", "at least 1"]);
}

#[test]
fn a_networked_backend_url_is_refused_as_not_supported_yet() {
    let run = idemstore(&["replay", "--json", "--backend", "redis://127.0.0.1:6379/0"]);

    assert_refused(&run, &["redis://127.0.0.1:6379/0", "not supported yet"]);
}

#[test]
fn an_unknown_backend_name_is_refused() {
    let run = idemstore(&["replay", "--json", "--backend", "postgres"]);

    assert_refused(&run, &["unknown backend", "postgres"]);
}

#[test]
fn a_fail_rate_outside_zero_to_one_is_refused() {
    let run = idemstore(&["replay", "--json", "--fail-rate", "1.5"]);

    assert_refused(&run, &["--fail-rate", "1.5"]);
}

#[test]
fn a_gzip_file_named_as_a_plain_trace_is_refused_suggesting_the_format() {
    let dir = scratch("gzip_named_plain");
    let path = write(&dir, "cdn.txt", &gzip(b"1 100 512\n2 200 64\n"));

    let run = replay_trace(&path, &[]);

    assert_refused(&run, &["cdn.txt", "gzip", "--format text.gz"]);
}

#[test]
fn an_xz_file_read_as_plain_by_its_given_format_is_refused_suggesting_the_format() {
    let dir = scratch("xz_named_plain");
    let path = write(&dir, "keys.bin", &xz(&[0x44; 8 * 16]));

    let run = replay_trace(&path, &["--format", "i64be"]);

    assert_refused(&run, &["keys.bin", "xz", "--format i64be.xz"]);
}
