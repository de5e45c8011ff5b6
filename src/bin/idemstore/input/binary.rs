//! Fixed-width binary traces: one big-endian integer key per record, back to back.

use std::path::Path;

use crate::errors::CliError;
use crate::stream::{MAX_IDS, StreamBuilder};

/// Decodes `bytes` as records of `WIDTH` bytes, each turned into a key by `key_of`.
///
/// A length that is not a whole number of records is refused with the byte count: a record
/// cut short means the file was truncated, and replaying what is left would pass off a
/// different trace as this one.
pub fn decode<const WIDTH: usize>(
    path: &Path,
    bytes: &[u8],
    key_of: fn([u8; WIDTH]) -> i64,
) -> Result<StreamBuilder<i64>, CliError> {
    let partial = bytes.len() % WIDTH;
    if partial != 0 {
        return Err(CliError::TruncatedTrace {
            path: path.to_owned(),
            bytes: bytes.len() as u64,
            width: WIDTH,
            partial,
        });
    }

    let mut builder = StreamBuilder::with_capacity(bytes.len() / WIDTH);
    for record in bytes.chunks_exact(WIDTH) {
        let record: [u8; WIDTH] = record.try_into().expect("chunks_exact yields WIDTH bytes");
        if !builder.push(key_of(record), |key| key.to_string().into()) {
            return Err(CliError::TooManyIds {
                path: path.to_owned(),
                max: MAX_IDS,
            });
        }
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i32_key(record: [u8; 4]) -> i64 {
        i64::from(i32::from_be_bytes(record))
    }

    #[test]
    fn big_endian_keys_become_decimal_ids() {
        let bytes = [0, 0, 0, 5, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 5];

        let stream = decode::<4>(Path::new("t"), &bytes, i32_key)
            .unwrap()
            .finish(crate::stream::Source::Synthetic {
                duplicate_share: 0.0,
                redelivery_distance: 1,
            });

        assert_eq!(stream.ids, ["5".into(), "-2".into()] as [Box<str>; 2]);
        assert_eq!(stream.deliveries, [0, 1, 0]);
    }

    #[test]
    fn a_cut_record_is_refused_with_the_byte_count() {
        let bytes = [0_u8; 10];

        let refused = decode::<4>(Path::new("t"), &bytes, i32_key);

        assert!(matches!(
            refused,
            Err(CliError::TruncatedTrace {
                bytes: 10,
                width: 4,
                partial: 2,
                ..
            })
        ));
    }
}
