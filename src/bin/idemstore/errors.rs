//! Every way a replay can be refused before it runs, or break while it runs.
//!
//! Each error is one line that names the problem and, where there is one, the file, byte count
//! or line number at fault. Bad input or options end the tool with exit status 2 before
//! anything is replayed; a store or runtime that breaks ends it with status 1, the status of a
//! replay whose checks failed. Neither prints a summary, so no partial run looks like success.

use std::io;
use std::path::PathBuf;

use crate::input::{Compression, Encoding};

/// Exit status for bad input or options: nothing was replayed.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status for a replay that failed: a check did not hold, or the store broke.
pub const EXIT_FAILED: u8 = 1;

/// Why the tool refused to replay, or could not finish.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The trace file could not be opened.
    #[error("cannot open trace {}: {source}", path.display())]
    OpenTrace {
        /// The path as given.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },

    /// Neither `--format` nor the file name says how to decode the trace.
    #[error(
        "cannot tell the format of trace {} from its name; pass --format \
         (i64be, i32be or text, with .gz or .xz appended when compressed)",
        path.display()
    )]
    UnrecognisedFormat {
        /// The trace's path.
        path: PathBuf,
    },

    /// `--format` named no known format.
    #[error(
        "unknown trace format {given:?}; expected i64be, i32be or text, \
         optionally with .gz or .xz appended (e.g. i32be.xz)"
    )]
    UnknownFormat {
        /// The value given.
        given: String,
    },

    /// Reading or decompressing the trace failed part way.
    #[error("cannot read trace {} as {compression}: {source}", path.display())]
    ReadTrace {
        /// The trace's path.
        path: PathBuf,
        /// The compression it was read with.
        compression: Compression,
        /// The underlying error (a corrupt stream shows here).
        source: io::Error,
    },

    /// The trace holds more bytes (decompressed) than the tool reads into memory.
    #[error(
        "trace {} holds more than {limit} bytes{}, the most this tool reads \
         (--max-trace-bytes)",
        path.display(),
        if *compression == Compression::Plain { "" } else { " once decompressed" }
    )]
    TraceTooLarge {
        /// The trace's path.
        path: PathBuf,
        /// The compression it was read with.
        compression: Compression,
        /// The limit in bytes.
        limit: u64,
    },

    /// A trace read as plain whose first bytes are a compressed file's magic number.
    #[error(
        "trace {} is being read as plain but starts with the {found} magic bytes; name it \
         with its .{} suffix or pass --format {encoding}.{}",
        path.display(),
        found.suffix(),
        found.suffix()
    )]
    CompressedAsPlain {
        /// The trace's path.
        path: PathBuf,
        /// The compression its first bytes show.
        found: Compression,
        /// The record encoding it was to be read with.
        encoding: Encoding,
    },

    /// A binary trace whose length is not a whole number of records.
    #[error(
        "trace {} is truncated: {bytes} bytes (decompressed) is not a multiple of the \
         {width}-byte record size; the last {partial} bytes are part of a record",
        path.display()
    )]
    TruncatedTrace {
        /// The trace's path.
        path: PathBuf,
        /// Decompressed length in bytes.
        bytes: u64,
        /// Bytes per record.
        width: usize,
        /// Bytes left over after the last whole record.
        partial: usize,
    },

    /// A text trace line that is not `TIME ID SIZE`.
    #[error("trace {} line {line}: {problem}", path.display())]
    MalformedLine {
        /// The trace's path.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        problem: String,
    },

    /// The trace decoded to no deliveries at all.
    #[error("trace {} holds no deliveries", path.display())]
    EmptyTrace {
        /// The trace's path.
        path: PathBuf,
    },

    /// The trace holds more distinct ids than the tool indexes.
    #[error("trace {} holds more than {max} distinct ids, more than this tool replays",
            path.display())]
    TooManyIds {
        /// The trace's path.
        path: PathBuf,
        /// The limit.
        max: u64,
    },

    /// The command line did not parse; the message is the first line of clap's.
    #[error("{0}")]
    CommandLine(String),

    /// An option's value is out of its range.
    #[error("invalid {option}: {problem}")]
    InvalidOption {
        /// The option, as spelled on the command line.
        option: &'static str,
        /// What is wrong with the value.
        problem: String,
    },

    /// `--backend` named a networked backend this build cannot use yet.
    #[error("backend {url} is not supported yet; this build replays against: memory")]
    BackendNotSupported {
        /// The URL given.
        url: String,
    },

    /// `--backend` named nothing known.
    #[error("unknown backend {given:?}; expected memory")]
    UnknownBackend {
        /// The value given.
        given: String,
    },

    /// The async runtime could not be started.
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),

    /// The store failed while the replay ran or was checked.
    #[error("the store failed: {0}")]
    Store(#[from] idemstore::StoreError),

    /// The summary could not be written to stdout (a reader that went away is not this).
    #[error("cannot write the summary to stdout: {0}")]
    WriteSummary(io::Error),
}

impl CliError {
    /// The process exit status this error ends the tool with.
    pub fn exit_status(&self) -> u8 {
        match self {
            CliError::Runtime(_) | CliError::Store(_) | CliError::WriteSummary(_) => EXIT_FAILED,
            _ => EXIT_BAD_INPUT,
        }
    }
}
