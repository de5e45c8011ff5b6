//! Text traces: one delivery per line, `TIME ID SIZE`, separated by spaces.
//!
//! TIME and SIZE must be whole numbers and ID a token of 1 to 1024 bytes (the store's longest
//! id); the replay uses only the ID, but a line that is not of this shape is refused with its
//! number rather than guessed at. A UTF-8 byte order mark at the start is skipped. A final line
//! without a newline is read like any other, and one empty line at the very end is allowed (an
//! editor's or a script's extra newline); any other blank line is malformed.

use std::path::Path;

use crate::errors::CliError;
use crate::stream::{MAX_ID_BYTES, MAX_IDS, StreamBuilder};

/// The UTF-8 byte order mark some editors put at the start of a text file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes `bytes` as `TIME ID SIZE` lines.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<StreamBuilder<Box<str>>, CliError> {
    let mut builder = StreamBuilder::with_capacity(bytes.len() / 16);
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut body = without_line_end(bytes);
    // What is left ends in a line ending when the last line was empty: drop that one line.
    if body.ends_with(b"\n") {
        body = without_line_end(body);
    }
    if body.is_empty() {
        return Ok(builder);
    }

    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        let number = index as u64 + 1;
        let malformed = |problem: String| CliError::MalformedLine {
            path: path.to_owned(),
            line: number,
            problem,
        };
        let id = id_of_line(line).map_err(malformed)?;
        if !builder.push(id, Box::clone) {
            return Err(CliError::TooManyIds {
                path: path.to_owned(),
                max: MAX_IDS,
            });
        }
    }
    Ok(builder)
}

/// `bytes` without one final line ending (`\n` or `\r\n`).
fn without_line_end(bytes: &[u8]) -> &[u8] {
    match bytes.strip_suffix(b"\n") {
        Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
        None => bytes,
    }
}

/// The ID field of one line, or what is wrong with the line.
fn id_of_line(line: &[u8]) -> Result<Box<str>, String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line).map_err(|_| "the line is not valid UTF-8".to_owned())?;
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    let [time, id, size] = fields[..] else {
        return Err(format!(
            "expected 3 fields `TIME ID SIZE`, found {} in {:?}",
            fields.len(),
            shorten(line)
        ));
    };
    whole_number("TIME", time)?;
    whole_number("SIZE", size)?;
    if !(1..=MAX_ID_BYTES).contains(&id.len()) {
        return Err(format!(
            "ID {:?} is {} bytes long; an id is 1 to {MAX_ID_BYTES} bytes",
            shorten(id),
            id.len()
        ));
    }
    Ok(id.into())
}

fn whole_number(field: &str, value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .map_err(|_| format!("{field} {:?} is not a whole number", shorten(value)))
}

/// The start of a long value, enough to recognise it in an error message.
fn shorten(value: &str) -> String {
    const SHOWN: usize = 60;
    match value.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn malformed_line(text: &str) -> Option<u64> {
        match decode(Path::new("t.txt"), text.as_bytes()) {
            Err(CliError::MalformedLine { line, .. }) => Some(line),
            _ => None,
        }
    }

    #[test]
    fn lines_become_deliveries_of_their_id_field() {
        let text = "1 a 10\n2 b 20\r\n3 a 10";

        let builder = decode(Path::new("t.txt"), text.as_bytes()).unwrap();

        assert_eq!(builder.len(), 3);
    }

    #[test]
    fn malformed_lines_are_refused_with_their_number() {
        assert_eq!(malformed_line("1 a 10\n2 b\n"), Some(2));
        assert_eq!(malformed_line("1 a 10\nx b 20\n"), Some(2));
        assert_eq!(malformed_line("1 a 10\n2 b -3\n"), Some(2));
        assert_eq!(malformed_line("1 a 10\n\n3 c 30\n"), Some(2));
        assert_eq!(malformed_line("1 a 10 extra\n"), Some(1));
    }

    #[test]
    fn one_trailing_empty_line_is_allowed_but_not_two() {
        assert_eq!(decode(Path::new("t.txt"), b"1 a 10\n\n").unwrap().len(), 1);
        assert_eq!(
            decode(Path::new("t.txt"), b"1 a 10\r\n\r\n").unwrap().len(),
            1
        );
        assert_eq!(malformed_line("1 a 10\n\n\n"), Some(2));
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        let text = b"\xEF\xBB\xBF1 a 10\n2 b 10\n";

        assert_eq!(decode(Path::new("t.txt"), text).unwrap().len(), 2);
    }

    #[test]
    fn an_id_longer_than_the_store_accepts_is_refused_with_its_line() {
        let longest = format!("1 a 1\n2 {} 1\n", "x".repeat(MAX_ID_BYTES));
        let too_long = format!("1 a 1\n2 {} 1\n", "x".repeat(MAX_ID_BYTES + 1));

        assert!(decode(Path::new("t.txt"), longest.as_bytes()).is_ok());
        assert_eq!(malformed_line(&too_long), Some(2));
    }

    #[test]
    fn an_empty_file_decodes_to_no_deliveries() {
        assert_eq!(decode(Path::new("t.txt"), b"").unwrap().len(), 0);
        assert_eq!(decode(Path::new("t.txt"), b"\n").unwrap().len(), 0);
    }
}
