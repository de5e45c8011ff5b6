//! Opening a trace file and undoing its compression, up to a size limit.
//!
//! The whole trace is held in memory, so its decompressed size is capped: a small compressed
//! file can expand without bound (a "zip bomb"), and reading it whole would exhaust memory
//! before anything could be said about it. At most one byte more than the limit is read.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::Compression;
use crate::errors::CliError;

/// The most trace bytes (after decompression) the tool reads, and `--max-trace-bytes`' default.
pub const MAX_TRACE_BYTES: u64 = 4 << 30;

/// The trace's bytes, decompressed; refused when they are more than `limit`.
pub fn read_all(path: &Path, compression: Compression, limit: u64) -> Result<Vec<u8>, CliError> {
    let file = File::open(path).map_err(|source| CliError::OpenTrace {
        path: path.to_owned(),
        source,
    })?;
    let too_large = || CliError::TraceTooLarge {
        path: path.to_owned(),
        compression,
        limit,
    };
    // A plain file's size is known up front: refuse it without reading it.
    if compression == Compression::Plain
        && file
            .metadata()
            .is_ok_and(|meta| meta.is_file() && meta.len() > limit)
    {
        return Err(too_large());
    }
    let file = BufReader::new(file);
    let reader: Box<dyn Read> = match compression {
        Compression::Plain => Box::new(file),
        // Multi-member gzip (concatenated `gzip` outputs) is valid gzip: read every member.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
        // Likewise, concatenated xz streams are one valid xz file.
        Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(file)),
    };

    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| CliError::ReadTrace {
            path: path.to_owned(),
            compression,
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}
