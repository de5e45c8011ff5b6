//! Text traces: one delivery per line, `TIME ID SIZE`, separated by spaces.
//!
//! TIME and SIZE must be whole numbers and ID a non-empty token; the replay uses only the ID,
//! but a line that is not of this shape is refused with its number rather than guessed at.
//! A final line without a newline is read like any other; a blank line is malformed.

use std::path::Path;

use crate::errors::CliError;
use crate::stream::{MAX_IDS, StreamBuilder};

/// Decodes `bytes` as `TIME ID SIZE` lines.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<StreamBuilder<Box<str>>, CliError> {
    let mut builder = StreamBuilder::with_capacity(bytes.len() / 16);
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
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
    fn an_empty_file_decodes_to_no_deliveries() {
        assert_eq!(decode(Path::new("t.txt"), b"").unwrap().len(), 0);
        assert_eq!(decode(Path::new("t.txt"), b"\n").unwrap().len(), 0);
    }
}
