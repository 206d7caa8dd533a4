//! The only place that writes to stdout and stderr.

use std::io::Write as _;

/// Writes text to stdout as is.
pub(crate) fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

/// Writes a line to stdout.
pub(crate) fn outln(text: &str) {
    out(text);
    out("\n");
}

/// Writes text to stderr as is.
pub(crate) fn err(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

/// Writes an error line to stderr.
pub(crate) fn error(text: &str) {
    err(text);
    err("\n");
}
