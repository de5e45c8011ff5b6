//! How a trace file is encoded and compressed, from `--format` or from the file's name.
//!
//! A format is a record encoding with an optional compression suffix, spelled the way the
//! shared trace files are named: `i64be`, `i32be.xz`, `text.gz`, `txt.xz`. When `--format`
//! gives only the encoding, the compression still comes from the name's last suffix (`.gz`,
//! `.xz`, or none for plain), so `--format i64be` reads `keys.bin.gz` as gzip.

use std::fmt;
use std::path::Path;

use crate::errors::CliError;

/// How the records inside the (decompressed) trace are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Big-endian `i64` keys, back to back.
    I64Be,
    /// Big-endian `i32` keys, back to back.
    I32Be,
    /// Text lines `TIME ID SIZE`, space separated.
    Text,
}

impl Encoding {
    fn from_suffix(suffix: &str) -> Option<Encoding> {
        match suffix {
            "i64be" => Some(Encoding::I64Be),
            "i32be" => Some(Encoding::I32Be),
            "txt" | "text" => Some(Encoding::Text),
            _ => None,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::I64Be => "i64be",
            Encoding::I32Be => "i32be",
            Encoding::Text => "text",
        })
    }
}

/// How the trace file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    Plain,
    /// gzip (RFC 1952).
    Gzip,
    /// xz (the LZMA2 container).
    Xz,
}

impl Compression {
    fn from_suffix(suffix: &str) -> Option<Compression> {
        match suffix {
            "gz" | "gzip" => Some(Compression::Gzip),
            "xz" => Some(Compression::Xz),
            _ => None,
        }
    }

    /// The file-name suffix of this compression (empty for plain).
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::Plain => "",
            Compression::Gzip => "gz",
            Compression::Xz => "xz",
        }
    }

    /// The compression whose magic number `bytes` start with, if any.
    ///
    /// gzip is recognised by its two magic bytes and the deflate method byte (the only method
    /// gzip defines), xz by its six-byte header magic.
    ///
    /// LIMITATION: an uncompressed i32be trace whose first key happens to be 0x1f8b08xx
    /// (one key in about 16.7 million) looks like gzip; there is no way to force plain.
    pub fn sniff(bytes: &[u8]) -> Option<Compression> {
        const GZIP: &[u8] = &[0x1f, 0x8b, 0x08];
        const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
        if bytes.starts_with(GZIP) {
            Some(Compression::Gzip)
        } else if bytes.starts_with(XZ) {
            Some(Compression::Xz)
        } else {
            None
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::Plain => "plain",
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
        })
    }
}

/// A trace's encoding and compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceFormat {
    /// How records are written.
    pub encoding: Encoding,
    /// How the file is compressed.
    pub compression: Compression,
}

impl TraceFormat {
    /// The format of the trace at `path`: from `--format` where given, the rest from the name.
    pub fn resolve(path: &Path, given: Option<&str>) -> Result<TraceFormat, CliError> {
        let named = NameParts::of(path);
        let Some(given) = given else {
            let encoding = named.encoding.ok_or_else(|| CliError::UnrecognisedFormat {
                path: path.to_owned(),
            })?;
            return Ok(TraceFormat {
                encoding,
                compression: named.compression,
            });
        };

        let lowered = given.trim().to_ascii_lowercase();
        let (encoding, compression) = match lowered.rsplit_once('.') {
            Some((head, tail)) => (head, Compression::from_suffix(tail)),
            None => (lowered.as_str(), None),
        };
        let unknown = || CliError::UnknownFormat {
            given: given.to_owned(),
        };
        let encoding = Encoding::from_suffix(encoding).ok_or_else(unknown)?;
        if lowered.contains('.') && compression.is_none() {
            return Err(unknown());
        }
        Ok(TraceFormat {
            encoding,
            compression: compression.unwrap_or(named.compression),
        })
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.encoding, self.compression)
    }
}

/// What a file name says about its format: `name.i32be.xz` → (i32be, xz).
struct NameParts {
    encoding: Option<Encoding>,
    compression: Compression,
}

impl NameParts {
    fn of(path: &Path) -> NameParts {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let mut suffixes = name.rsplit('.');
        let last = suffixes.next().unwrap_or_default();
        let (compression, encoding_suffix) = match Compression::from_suffix(last) {
            Some(compression) => (compression, suffixes.next()),
            None => (Compression::Plain, Some(last)),
        };
        // A name without any dot has no suffix at all, only a stem.
        let encoding = encoding_suffix
            .filter(|_| name.contains('.'))
            .and_then(Encoding::from_suffix);
        NameParts {
            encoding,
            compression,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Result<TraceFormat, CliError> {
        TraceFormat::resolve(Path::new(name), None)
    }

    #[test]
    fn shared_trace_names_are_recognised() {
        let cases = [
            (
                "corda-vaultservice.i64be.gz",
                Encoding::I64Be,
                Compression::Gzip,
            ),
            ("cache2k-web07.i32be.xz", Encoding::I32Be, Compression::Xz),
            (
                "adaptsize-cdn-requests.txt.xz",
                Encoding::Text,
                Compression::Xz,
            ),
            ("keys.I64BE", Encoding::I64Be, Compression::Plain),
        ];

        for (name, encoding, compression) in cases {
            assert_eq!(
                named(name).unwrap(),
                TraceFormat {
                    encoding,
                    compression
                },
                "{name}"
            );
        }
    }

    #[test]
    fn a_name_without_an_encoding_suffix_is_refused() {
        for name in ["trace.gz", "trace.bin", "i64be", "trace"] {
            assert!(
                matches!(named(name), Err(CliError::UnrecognisedFormat { .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn given_format_wins_and_compression_falls_back_to_the_name() {
        let path = Path::new("keys.bin.gz");

        let bare = TraceFormat::resolve(path, Some("i32be")).unwrap();
        let explicit = TraceFormat::resolve(path, Some("text.xz")).unwrap();

        assert_eq!(
            bare,
            TraceFormat {
                encoding: Encoding::I32Be,
                compression: Compression::Gzip
            }
        );
        assert_eq!(
            explicit,
            TraceFormat {
                encoding: Encoding::Text,
                compression: Compression::Xz
            }
        );
    }

    #[test]
    fn unknown_given_formats_are_refused() {
        for given in ["csv", "i64le", "i64be.zip", ""] {
            let resolved = TraceFormat::resolve(Path::new("t.i64be"), Some(given));
            assert!(
                matches!(resolved, Err(CliError::UnknownFormat { .. })),
                "{given:?}"
            );
        }
    }
}
