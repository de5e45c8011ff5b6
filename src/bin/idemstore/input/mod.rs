//! Reading a recorded trace into a delivery stream.
//!
//! The whole trace is decompressed and decoded before the replay starts, so decoding never
//! competes with the replay for the processor and every problem in the file (a truncated
//! record, a malformed line) is reported before anything runs. Nothing in a trace is dropped
//! silently: a file either decodes whole or is refused with the reason.

mod binary;
mod decompress;
mod format;
mod text;

use std::path::Path;

pub use decompress::MAX_TRACE_BYTES;
pub use format::{Compression, Encoding, TraceFormat};

use crate::errors::CliError;
use crate::stream::{Source, Stream};

/// Reads the trace at `path`, in `format` if given, else in the format its name shows, refusing
/// one of more than `max_bytes` bytes (decompressed).
pub fn load_trace(path: &Path, format: Option<&str>, max_bytes: u64) -> Result<Stream, CliError> {
    let format = TraceFormat::resolve(path, format)?;
    let bytes = decompress::read_all(path, format.compression, max_bytes)?;
    // A compressed file named without its suffix would decode as garbage and replay fine.
    if format.compression == Compression::Plain
        && let Some(found) = Compression::sniff(&bytes)
    {
        return Err(CliError::CompressedAsPlain {
            path: path.to_owned(),
            found,
            encoding: format.encoding,
        });
    }

    let source = Source::Trace {
        path: path.to_owned(),
        format,
    };
    let stream = match format.encoding {
        Encoding::I64Be => binary::decode::<8>(path, &bytes, i64_key)?.finish(source),
        Encoding::I32Be => binary::decode::<4>(path, &bytes, i32_key)?.finish(source),
        Encoding::Text => text::decode(path, &bytes)?.finish(source),
    };

    if stream.deliveries.is_empty() {
        return Err(CliError::EmptyTrace {
            path: path.to_owned(),
        });
    }
    tracing::info!(
        path = %path.display(),
        %format,
        deliveries = stream.deliveries.len(),
        ids = stream.ids.len(),
        "trace loaded"
    );
    Ok(stream)
}

fn i64_key(record: [u8; 8]) -> i64 {
    i64::from_be_bytes(record)
}

fn i32_key(record: [u8; 4]) -> i64 {
    i64::from(i32::from_be_bytes(record))
}
