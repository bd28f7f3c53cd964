//! Import progress on the terminal: a bar over the bytes of a CSV file, or a counter of
//! rows for a GeoJSON file, drawn on stderr only when stderr is a terminal (never in pipes,
//! logs or CI output), and cleared when the import ends.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};

/// A progress display that is silent when stderr is not a terminal.
pub struct Progress {
    bar: ProgressBar,
}

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

impl Progress {
    /// A bar over `len` bytes of input.
    pub fn bytes(len: u64) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len), target());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar }
    }

    /// A counter of rows, when the size is not known in rows.
    pub fn rows() -> Self {
        let bar = ProgressBar::with_draw_target(None, target());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} rows {msg}") {
            bar.set_style(style);
        }
        Self { bar }
    }

    /// Wraps a reader so that reading advances the bar.
    pub fn wrap<R: Read>(&self, r: R) -> impl Read {
        self.bar.wrap_read(r)
    }

    /// Tells how many rows were read so far.
    pub fn rows_done(&self, n: u64) {
        if self.bar.length().is_none() {
            self.bar.set_position(n);
        } else {
            self.bar.set_message(format!("{n} rows"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
