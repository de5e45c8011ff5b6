//! The markdown report: sections printed as they are measured, kept for `--out`, and the
//! formatting every table shares.

use std::io::Write;
use std::path::Path;

use crate::adapters::Kind;
use crate::traces::ID_LEN;

/// The report so far.
pub struct Report {
    markdown: String,
}

impl Report {
    pub fn new() -> Report {
        Report {
            markdown: String::new(),
        }
    }

    /// Appends a section and prints it at once, so a long run shows its tables as they come.
    pub fn section(&mut self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
        self.markdown.push_str(text);
        self.markdown.push('\n');
    }

    pub fn write_to(&self, path: &Path) -> Result<(), String> {
        std::fs::write(path, &self.markdown)
            .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))
    }
}

/// A markdown table: the first column left-aligned, the rest right-aligned (numbers).
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len(), "row {cells:?}");
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut text = line(&self.headers);
        let rule: Vec<String> = (0..self.headers.len())
            .map(|column| if column == 0 { "---" } else { "---:" }.to_string())
            .collect();
        text.push_str(&line(&rule));
        for row in &self.rows {
            text.push_str(&line(row));
        }
        text
    }
}

/// Nanoseconds as microseconds, with the digits that matter at that size.
pub fn micros(nanos: u64) -> String {
    let us = nanos as f64 / 1000.0;
    if us < 10.0 {
        format!("{us:.3}")
    } else if us < 1000.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.0}")
    }
}

pub fn mops(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}")
    } else {
        "—".into()
    }
}

pub fn bytes(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.0}")
    } else {
        "—".into()
    }
}

/// Heap per id less the id's own bytes; the hardware bound keeps no keys, so it has none.
pub fn beyond_key(kind: Kind, per_id: f64) -> String {
    if kind == Kind::Bound {
        "— (no keys)".into()
    } else {
        bytes(per_id - ID_LEN as f64)
    }
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1}", crate::alloc::mib(bytes))
}

pub fn times(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r.is_finite() => format!("{r:.2}×"),
        _ => "—".into(),
    }
}

pub fn fraction(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r.is_finite() => format!("{r:.2}"),
        _ => "—".into(),
    }
}
