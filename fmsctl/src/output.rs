//! Printing results: text for people, or exactly one JSON document with `--json`.
//!
//! Results go to stdout and are written with `writeln!` rather than `println!`, so a closed pipe
//! (`fmsctl ls | head`) surfaces as an error that `main` turns into a quiet exit 0 instead of a
//! panic. Notices go to stderr; `-q` silences informational lines but never the data asked for.

use std::fmt::Display;
use std::io::Write;

use anyhow::Context;
use serde::Serialize;

/// How results and messages are printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// `--json`: stdout carries one JSON document and nothing else.
    pub json: bool,
    /// `-q`: no progress bars, no informational lines.
    pub quiet: bool,
}

impl Output {
    /// Prints `value` as one pretty JSON document on stdout.
    pub fn print_json<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, value)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
            .and_then(|()| stdout.flush())
            .context("failed to write to stdout")
    }

    /// Prints one line of requested data on stdout (even with `-q`).
    pub fn print_line(&self, line: impl Display) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").context("failed to write to stdout")
    }

    /// Prints `rows` as aligned columns (two spaces apart, the last one unpadded) on stdout.
    pub fn print_table(&self, rows: &[Vec<String>]) -> anyhow::Result<()> {
        for line in table_lines(rows) {
            self.print_line(line)?;
        }
        Ok(())
    }

    /// Prints an informational line on stdout, unless `-q` or `--json`.
    pub fn info(&self, line: impl Display) -> anyhow::Result<()> {
        if self.quiet || self.json {
            return Ok(());
        }
        self.print_line(line)
    }

    /// Prints a notice or warning on stderr, unless `-q`.
    pub fn notice(&self, line: impl Display) {
        if !self.quiet {
            // Not `eprintln!`, which panics when stderr is closed; a lost notice is no failure.
            let _ = writeln!(std::io::stderr(), "fmsctl: {line}");
        }
    }

    /// Whether progress bars may be drawn at all (they still hide when stderr is no terminal).
    pub fn shows_progress(&self) -> bool {
        !self.quiet && !self.json
    }
}

pub use common::size::human_bytes;

/// `rows` as aligned lines: every column as wide as its widest cell, but the last.
fn table_lines(rows: &[Vec<String>]) -> Vec<String> {
    let n_columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n_columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                if column + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let width = widths[column];
                    line.push_str(&format!("{cell:<width$}  "));
                }
            }
            line
        })
        .collect()
}

/// Folds a message onto one line: the error line must stay one line whatever the server says.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(50 * 1024 * 1024), "50.00 MiB");
    }

    #[test]
    fn tables_line_up() {
        let rows = vec![
            vec!["ID".to_string(), "NAME".to_string(), "ROLE".to_string()],
            vec!["1".to_string(), "photos".to_string(), "viewer".to_string()],
        ];
        assert_eq!(
            table_lines(&rows),
            ["ID  NAME    ROLE", "1   photos  viewer"]
        );
    }

    #[test]
    fn messages_fold_to_one_line() {
        assert_eq!(one_line("a\n  b\r\nc "), "a b c");
    }
}
