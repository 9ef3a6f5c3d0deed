//! A one-line progress bar on stderr for the long loads (no extra dependency).

use std::io::Write as _;
use std::time::Instant;

pub struct Progress {
    what: &'static str,
    total: u64,
    started: Instant,
}

impl Progress {
    pub fn new(what: &'static str, total: u64) -> Self {
        Self {
            what,
            total,
            started: Instant::now(),
        }
    }

    /// Redraws the bar at `done`.
    pub fn show(&self, done: u64) {
        let width = 30usize;
        let filled = if self.total == 0 {
            width
        } else {
            (done.min(self.total) as usize * width) / self.total as usize
        };
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r{:<10} [{}{}] {done}/{} {:.0}/s   ",
            self.what,
            "#".repeat(filled),
            ".".repeat(width - filled),
            self.total,
            done as f64 / secs
        );
        let _ = std::io::stderr().flush();
    }

    /// Ends the line; returns the seconds taken.
    pub fn finish(&self, done: u64) -> f64 {
        self.show(done);
        eprintln!();
        self.started.elapsed().as_secs_f64()
    }
}
