//! Opening a trace file and undoing its compression.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::Compression;
use crate::errors::CliError;

/// The trace's bytes, decompressed.
pub fn read_all(path: &Path, compression: Compression) -> Result<Vec<u8>, CliError> {
    let file = File::open(path).map_err(|source| CliError::OpenTrace {
        path: path.to_owned(),
        source,
    })?;
    let file = BufReader::new(file);
    let mut reader: Box<dyn Read> = match compression {
        Compression::Plain => Box::new(file),
        // Multi-member gzip (concatenated `gzip` outputs) is valid gzip: read every member.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
        // Likewise, concatenated xz streams are one valid xz file.
        Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(file)),
    };

    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| CliError::ReadTrace {
            path: path.to_owned(),
            compression,
            source,
        })?;
    Ok(bytes)
}
