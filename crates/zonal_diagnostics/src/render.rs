//! Renderers: `human` (rustc-like, with source snippets), `short` (one line
//! each) and `json` (dedicated, stable serialisation types).

use std::fmt::Write as _;

use serde::Serialize;

use crate::{Diagnostic, Label, SourceDb};

/// `s` with every control and invisible character replaced by a visible
/// stand-in (see [`crate::text::printable`]).
fn safe(s: &str) -> String {
    s.chars().map(crate::text::printable).collect()
}

/// Whether the human renderer colours its output (ANSI escapes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    /// Plain text (files, pipes, snapshots).
    #[default]
    Never,
    /// ANSI colours (a terminal).
    Always,
}

/// The ANSI styles of the human renderer; empty strings when plain.
struct Paint {
    severity: &'static str,
    gutter: &'static str,
    bold: &'static str,
    reset: &'static str,
}

impl Paint {
    fn new(color: Color, severity: crate::Severity) -> Self {
        use crate::Severity;
        if color == Color::Never {
            return Paint {
                severity: "",
                gutter: "",
                bold: "",
                reset: "",
            };
        }
        Paint {
            severity: match severity {
                Severity::Error | Severity::Critical | Severity::High => "\x1b[1;31m",
                Severity::Medium => "\x1b[1;33m",
                Severity::Low | Severity::Info => "\x1b[1;36m",
            },
            gutter: "\x1b[1;34m",
            bold: "\x1b[1m",
            reset: "\x1b[0m",
        }
    }
}

/// Renders one diagnostic like rustc: header, location, source snippet with
/// labelled underlines, notes and help. Plain text, no colour.
pub fn human(db: &SourceDb, d: &Diagnostic) -> String {
    human_in(db, d, Color::Never)
}

/// Like [`human`], coloured for a terminal when `color` says so. Colour
/// only wraps the plain text: with the escapes removed, the text is the
/// same as [`human`]'s.
pub fn human_in(db: &SourceDb, d: &Diagnostic, color: Color) -> String {
    let p = Paint::new(color, d.severity);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}{}[{}]{}{}: {}{}",
        p.severity,
        d.severity.as_str(),
        d.code,
        p.reset,
        p.bold,
        safe(&d.message),
        p.reset
    );
    let mut labels: Vec<(&Label, bool)> = vec![(&d.primary, true)];
    labels.extend(d.secondary.iter().map(|l| (l, false)));
    let width = labels
        .iter()
        .map(|(l, _)| {
            db.line_col(l.span.file, l.span.range.start)
                .line
                .to_string()
                .len()
        })
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(width);
    let mut last_file = None;
    for (label, primary) in &labels {
        let file = label.span.file;
        let start = db.line_col(file, label.span.range.start);
        let end = db.line_col(file, label.span.range.end);
        if last_file == Some(file) {
            let _ = writeln!(out, "{pad} ...");
        } else {
            let arrow = if *primary { "-->" } else { ":::" };
            let _ = writeln!(
                out,
                "{pad}{}{arrow}{} {}:{}:{}",
                p.gutter,
                p.reset,
                db.name(file),
                start.line,
                start.col
            );
        }
        last_file = Some(file);
        let _ = writeln!(out, "{pad} {}|{}", p.gutter, p.reset);
        let line_text = db.line_text(file, start.line);
        // Control and invisible characters are shown as visible stand-ins,
        // one for one, so a snippet can neither drive the terminal nor
        // hide text, and the underline stays in its column.
        let shown: String = line_text.chars().map(crate::text::printable).collect();
        let _ = writeln!(
            out,
            "{}{:>width$} |{} {}",
            p.gutter,
            start.line,
            p.reset,
            shown.trim_end(),
            width = width
        );
        let line_chars = line_text.chars().count() as u32;
        let col0 = start.col.saturating_sub(1);
        let underline_end = if end.line == start.line {
            end.col.saturating_sub(1)
        } else {
            line_chars
        };
        let len = underline_end.saturating_sub(col0).max(1) as usize;
        let mark = if *primary { "^" } else { "-" };
        let msg = if label.message.is_empty() {
            String::new()
        } else {
            format!(" {}", safe(&label.message))
        };
        let marks = if *primary { p.severity } else { p.gutter };
        let _ = writeln!(
            out,
            "{pad} {}|{} {}{marks}{}{msg}{}",
            p.gutter,
            p.reset,
            " ".repeat(col0 as usize),
            mark.repeat(len),
            p.reset
        );
    }
    write_notes(&mut out, d, &pad, &p);
    out
}

/// The closing gutter, the notes and the help of a human diagnostic.
fn write_notes(out: &mut String, d: &Diagnostic, pad: &str, p: &Paint) {
    let _ = writeln!(out, "{pad} {}|{}", p.gutter, p.reset);
    for note in &d.notes {
        let note = note.lines().map(safe).collect::<Vec<_>>().join("\n");
        let mut lines = note.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(
                out,
                "{pad} {}={} {}note{}: {first}",
                p.gutter, p.reset, p.bold, p.reset
            );
        }
        for l in lines {
            let _ = writeln!(out, "{pad}         {l}");
        }
    }
    if let Some(help) = d.help.as_deref().map(safe) {
        let _ = writeln!(
            out,
            "{pad} {}={} {}help{}: {help}",
            p.gutter, p.reset, p.bold, p.reset
        );
    }
}

/// Renders one diagnostic on one line: `path:line:col: severity[CODE]: message`.
pub fn short(db: &SourceDb, d: &Diagnostic) -> String {
    let lc = db.line_col(d.primary.span.file, d.primary.span.range.start);
    format!(
        "{}:{}:{}: {}[{}]: {}",
        db.name(d.primary.span.file),
        lc.line,
        lc.col,
        d.severity.as_str(),
        d.code,
        safe(&d.message)
    )
}

/// A location in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonLocation {
    /// File name as printed by the human renderer.
    pub file: String,
    /// 1-based line of the start.
    pub line: u32,
    /// 1-based column of the start.
    pub column: u32,
    /// 1-based line of the end.
    pub end_line: u32,
    /// 1-based column of the end (exclusive).
    pub end_column: u32,
    /// Byte offset of the start.
    pub start: u32,
    /// Byte offset of the end.
    pub end: u32,
}

/// A label in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonLabel {
    /// Where.
    #[serde(flatten)]
    pub location: JsonLocation,
    /// The label text.
    pub message: String,
}

/// One diagnostic in the JSON output. This type is the stable JSON schema;
/// it is separate from [`Diagnostic`] on purpose.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonDiagnostic {
    /// Stable code.
    pub code: String,
    /// Severity name.
    pub severity: String,
    /// Message.
    pub message: String,
    /// Primary location.
    pub location: JsonLocation,
    /// Primary label.
    pub label: String,
    /// Secondary labels.
    pub related: Vec<JsonLabel>,
    /// Notes.
    pub notes: Vec<String>,
    /// Help line.
    pub help: Option<String>,
}

/// Converts a span to a JSON location.
pub fn json_location(db: &SourceDb, span: crate::Span) -> JsonLocation {
    let s = db.line_col(span.file, span.range.start);
    let e = db.line_col(span.file, span.range.end);
    JsonLocation {
        file: db.name(span.file).to_string(),
        line: s.line,
        column: s.col,
        end_line: e.line,
        end_column: e.col,
        start: span.range.start,
        end: span.range.end,
    }
}

/// Converts one diagnostic to its JSON form.
pub fn json(db: &SourceDb, d: &Diagnostic) -> JsonDiagnostic {
    JsonDiagnostic {
        code: d.code.to_string(),
        severity: d.severity.as_str().to_string(),
        message: d.message.clone(),
        location: json_location(db, d.primary.span),
        label: d.primary.message.clone(),
        related: d
            .secondary
            .iter()
            .map(|l| JsonLabel {
                location: json_location(db, l.span),
                message: l.message.clone(),
            })
            .collect(),
        notes: d.notes.clone(),
        help: d.help.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Severity, Span, TextRange};

    #[test]
    fn human_points_at_line_and_column() {
        let mut db = SourceDb::new();
        let f = db.add("a.zonal", "zone a {}\nzone a {}\n");
        let d = Diagnostic::error(
            "E0102",
            "zone `a` is defined twice",
            Span::new(f, TextRange::new(15, 16)),
            "redefined here",
        )
        .with_secondary(Span::new(f, TextRange::new(5, 6)), "first defined here")
        .with_help("rename one of the zones");
        let out = human(&db, &d);
        assert!(out.contains("--> a.zonal:2:6"), "{out}");
        assert!(out.contains("^ redefined here"), "{out}");
        assert!(out.contains("- first defined here"), "{out}");
        assert!(out.contains("= help: rename one of the zones"), "{out}");
        assert_eq!(
            short(&db, &d),
            "a.zonal:2:6: error[E0102]: zone `a` is defined twice"
        );
        assert_eq!(d.severity, Severity::Error);
    }

    #[test]
    fn line_col_counts_characters() {
        let mut db = SourceDb::new();
        let f = db.add("u.zonal", "é x\nyz");
        assert_eq!(db.line_col(f, 3), crate::LineCol { line: 1, col: 3 });
        assert_eq!(db.line_col(f, 6), crate::LineCol { line: 2, col: 2 });
        assert_eq!(db.line_text(f, 2), "yz");
    }
}

#[cfg(test)]
mod color_tests {
    use super::*;
    use crate::{Diagnostic, Severity, Span, TextRange};

    #[test]
    fn colour_only_wraps_the_plain_text() {
        let mut db = SourceDb::new();
        let f = db.add("p.zonal", "zone a { network 10.0.0.0/8 }\n".to_string());
        let mut d = Diagnostic::new(
            "E0104",
            Severity::Error,
            "unknown zone `b`",
            Span::new(f, TextRange::new(5, 6)),
            "here",
        );
        d.notes.push("a note".into());
        d.help = Some("write `a`".into());
        let plain = human(&db, &d);
        let colored = human_in(&db, &d, Color::Always);
        assert!(colored.contains("\x1b["), "{colored}");
        let mut stripped = String::new();
        let mut rest = colored.as_str();
        while let Some(i) = rest.find('\x1b') {
            stripped.push_str(&rest[..i]);
            let after = &rest[i..];
            let end = after.find('m').map_or(after.len(), |e| e + 1);
            rest = &after[end..];
        }
        stripped.push_str(rest);
        assert_eq!(stripped, plain);
    }
}
