//! Progress bars: one per file plus a total, drawn on stderr only when it is a terminal.
//!
//! [`Progress::new`] uses [`ProgressDrawTarget::stderr`], which hides itself when stderr is not
//! a terminal, and a hidden target with `-q` or `--json`, so scripts and logs never see bars.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::Output;

/// How often spinners move.
const TICK: Duration = Duration::from_millis(120);

/// The bars of one command.
#[derive(Clone)]
pub struct Progress {
    /// Every bar is drawn through this.
    multi: MultiProgress,
    /// Whether anything is drawn at all.
    visible: bool,
    /// Whether a total bar was added; file bars then go above it.
    has_total: Arc<AtomicBool>,
}

impl Progress {
    /// Bars on stderr, or none with `-q`, `--json` or a stderr that is no terminal.
    pub fn new(output: Output) -> Self {
        let target = if output.shows_progress() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let visible = !target.is_hidden();
        Self {
            multi: MultiProgress::with_draw_target(target),
            visible,
            has_total: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A bar for one file of `len` bytes, showing `label`, in the hashing style.
    /// It goes above the total bar, if there is one.
    pub fn file_bar(&self, label: impl Display, len: u64) -> ProgressBar {
        let bar = ProgressBar::new(len).with_prefix(label.to_string());
        set_style(&bar, HASHING_TEMPLATE);
        self.add(bar)
    }

    /// The bar that adds up every file of a command.
    pub fn total_bar(&self, len: u64, n_files: usize) -> ProgressBar {
        let bar = ProgressBar::new(len).with_prefix(format!("total ({n_files} files)"));
        set_style(&bar, TRANSFER_TEMPLATE);
        let bar = self.multi.add(bar);
        self.has_total.store(true, Ordering::Relaxed);
        if self.visible {
            bar.enable_steady_tick(TICK);
        }
        bar
    }

    /// Switches a file bar from hashing to transferring.
    pub fn start_transfer(&self, bar: &ProgressBar) {
        bar.reset();
        set_style(bar, TRANSFER_TEMPLATE);
    }

    /// Switches a file bar to a spinner while the server checks the complete file.
    pub fn start_finishing(&self, bar: &ProgressBar) {
        set_style(bar, FINISHING_TEMPLATE);
        bar.set_message("checking on the server");
    }

    /// Runs `print` with the bars cleared, so a line printed on stdout does not tear them.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.multi.suspend(print)
    }

    fn add(&self, bar: ProgressBar) -> ProgressBar {
        // Insert before the total bar so that it stays at the bottom.
        let bar = if self.has_total.load(Ordering::Relaxed) {
            self.multi.insert_from_back(1, bar)
        } else {
            self.multi.add(bar)
        };
        if self.visible {
            bar.enable_steady_tick(TICK);
        }
        bar
    }
}

const HASHING_TEMPLATE: &str = concat!(
    "{spinner:.cyan} {prefix:30!} hashing  [{bar:25.cyan/blue}] ",
    "{bytes:>11}/{total_bytes:11} {binary_bytes_per_sec:>12}"
);
const TRANSFER_TEMPLATE: &str = concat!(
    "{spinner:.green} {prefix:30!} [{bar:34.green/blue}] ",
    "{bytes:>11}/{total_bytes:11} {binary_bytes_per_sec:>12} ETA {eta}"
);
const FINISHING_TEMPLATE: &str = "{spinner:.green} {prefix:30!} {msg}";

fn set_style(bar: &ProgressBar, template: &str) {
    // The templates are constants, so a parse failure is a bug caught by the tests below;
    // falling back to the default style keeps a release build from failing over a bar.
    let style = ProgressStyle::with_template(template)
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        for template in [HASHING_TEMPLATE, TRANSFER_TEMPLATE, FINISHING_TEMPLATE] {
            ProgressStyle::with_template(template).unwrap();
        }
    }
}
