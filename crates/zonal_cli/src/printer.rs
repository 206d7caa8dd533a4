//! The only place that writes to stdout and stderr.
#![expect(
    clippy::disallowed_methods,
    reason = "the printer is the one place that writes to stdout and stderr"
)]

use std::io::{IsTerminal as _, Write as _};
use std::sync::OnceLock;

use zonal_diagnostics::render::{self, Color};
use zonal_diagnostics::{Diagnostic, SourceDb};

use crate::args::ColorChoice;

/// The `--color` choice, set once at start-up.
static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// Records the `--color` choice.
pub(crate) fn set_color(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
}

/// The two output streams.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Whether text written to `stream` is coloured: `--color always`, or
/// `auto` (the default) on a terminal when `NO_COLOR` is not set.
fn color(stream: Stream) -> Color {
    let on = match CHOICE.get().copied().unwrap_or(ColorChoice::Auto) {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && match stream {
                    Stream::Stdout => std::io::stdout().is_terminal(),
                    Stream::Stderr => std::io::stderr().is_terminal(),
                }
        }
    };
    if on { Color::Always } else { Color::Never }
}

/// Whether text written to `stream` is coloured.
pub(crate) fn colored(stream: Stream) -> bool {
    color(stream) == Color::Always
}

/// A diagnostic in the human format, coloured as `stream` wants.
pub(crate) fn human(db: &SourceDb, d: &Diagnostic, stream: Stream) -> String {
    render::human_in(db, d, color(stream))
}

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

/// Whether stderr is a terminal (for progress lines).
pub(crate) fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
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
