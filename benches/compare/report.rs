//! The markdown report: sections printed as they are measured, mirrored to `--out`, and the
//! formatting every table shares.
//!
//! The `--out` file is created before anything is measured, so a path that cannot be written
//! fails the run at once, and each section is appended to it as it is printed, so a run that
//! ends early (a broken invariant exits at once) still leaves the report so far.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::adapters::Kind;
use crate::traces::ID_LEN;

/// The report so far.
pub struct Report {
    markdown: String,
    /// The `--out` file and its path; each section is appended as it comes, so a run that
    /// exits early leaves what it measured.
    out: Option<(File, PathBuf)>,
}

impl Report {
    /// A report with no `--out` file.
    pub fn new() -> Report {
        Report {
            markdown: String::new(),
            out: None,
        }
    }

    /// A report mirrored to `path`, which is created (emptied if it exists) now, before
    /// anything is measured.
    pub fn to_file(path: &Path) -> Result<Report, String> {
        let file = File::create(path)
            .map_err(|e| format!("cannot create the report file {}: {e}", path.display()))?;
        Ok(Report {
            markdown: String::new(),
            out: Some((file, path.to_path_buf())),
        })
    }

    /// Appends a section and prints it at once, so a long run shows its tables as they come.
    pub fn section(&mut self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
        self.markdown.push_str(text);
        self.markdown.push('\n');
        if let Some((file, path)) = &mut self.out
            && let Err(e) = writeln!(file, "{text}").and_then(|()| file.flush())
        {
            crate::runner::progress(format_args!(
                "cannot append to the report file {}: {e}",
                path.display()
            ));
        }
    }

    /// Writes the whole report to the `--out` file once more (if there is one), so that a
    /// section whose append failed is not missing from it; returns the path written.
    pub fn finish(&self) -> Result<Option<&Path>, String> {
        let Some((_, path)) = &self.out else {
            return Ok(None);
        };
        std::fs::write(path, &self.markdown)
            .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;
        Ok(Some(path))
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
