//! The nom parser: `.zonal` text to a [`SourceFile`] plus diagnostics.
//!
//! The item loop is driven by hand (not `all_consuming`): when an item fails,
//! its error is recorded, an [`ItemKind::Error`] node is pushed and parsing
//! resumes at the next sync point (see [`recover::sync_point`]), so one run
//! reports every syntax error in a file.
//!
//! Token parsers (`lexeme.rs`) return a cheap *mismatch* when the input does
//! not start with their kind of token, so callers can try alternatives, and
//! a committed `Failure` with a specific message when the token is there but
//! malformed. Item parsers (`item.rs`) commit after their keyword with
//! `expect(input, "what", "help", parser)`, which is nom's `cut` plus a
//! label: a mismatch becomes "expected `what`, found …" pointing at the
//! exact token. Nothing recurses on input: blocks are parsed with loops and
//! recovery counts braces, so no input can overflow the stack.

mod error;
mod invisible;
mod item;
mod lexeme;
mod recover;

use nom::Input as _;
use nom_locate::LocatedSpan;
use zonal_diagnostics::{Diagnostic, Diagnostics, FileId, Span};

pub use lexeme::{ICMP_TYPE_NAMES, RESERVED, is_ae_char};

use self::error::{ErrorData, SyntaxError};
use self::lexeme::{ITEM_KEYWORDS, found, off, peek_word, rng, trivia};
use crate::Parsed;
use crate::ast::{Item, ItemKind, SourceFile};
use crate::codes;

/// The input type: text with its byte offset.
pub(crate) type Input<'a> = LocatedSpan<&'a str>;

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Most top-level items accepted in one file.
pub const MAX_ITEMS: usize = 100_000;

/// Parses one file. Never panics, never fails.
#[expect(
    clippy::too_many_lines,
    reason = "the top-level item loop with its recovery cases, one place for the grammar of a file"
)]
pub(crate) fn parse(file: FileId, text: &str) -> Parsed {
    let mut diagnostics = Diagnostics::new();
    let to_diag = |e: SyntaxError| -> Diagnostic {
        let e = match e {
            SyntaxError::Specific(d) => *d,
            SyntaxError::Mismatch(at) => ErrorData {
                code: codes::UNEXPECTED_TOKEN,
                range: rng(at, at),
                message: "unexpected input".to_owned(),
                label: "unexpected input".to_owned(),
                help: "check the syntax of this item in docs/language.md".to_owned(),
                secondary: Vec::new(),
            },
        };
        let mut d = Diagnostic::error(e.code, e.message, Span::new(file, e.range), e.label)
            .with_help(e.help);
        for (range, msg) in e.secondary {
            d = d.with_secondary(Span::new(file, range), msg);
        }
        d
    };
    if text.len() > MAX_FILE_BYTES {
        diagnostics.push(to_diag(SyntaxError::new(
            codes::LIMIT_EXCEEDED,
            rng(0, 0),
            format!("file is too large ({} bytes)", text.len()),
            "file too large",
            format!(
                "split the policy into files of at most {MAX_FILE_BYTES} bytes and use `include`"
            ),
        )));
        return Parsed {
            file: SourceFile::default(),
            diagnostics,
        };
    }
    for (range, c, why) in invisible::scan(text, 20) {
        diagnostics.push(to_diag(SyntaxError::new(
            codes::INVISIBLE_CHARACTER,
            range,
            format!("the file contains {why} (U+{:04X})", u32::from(c)),
            "refused character",
            "remove it: a reviewer cannot see it, or sees a line break where Zonal sees none; \
             write line breaks as LF or CRLF",
        )));
    }
    let comments = recover::comments(text);
    let mut items: Vec<Item> = Vec::new();
    let mut i = Input::new(text);
    if text.starts_with('\u{feff}') {
        i = i.take_from('\u{feff}'.len_utf8());
    }
    loop {
        let t = trivia(i);
        if t.fragment().is_empty() {
            break;
        }
        if items.len() >= MAX_ITEMS {
            let (range, _) = found(t);
            diagnostics.push(to_diag(SyntaxError::new(
                codes::LIMIT_EXCEEDED,
                range,
                format!("too many items in one file (more than {MAX_ITEMS})"),
                "parsing stops here",
                "split the policy into several files",
            )));
            break;
        }
        let group_start = off(&t);
        // Annotations, then the item.
        let (after_sups, (suppressions, name)) = match item::annotations(t) {
            Ok(x) => x,
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                let end = recover::sync_point(text, group_start, e.start());
                diagnostics.push(to_diag(e));
                items.push(error_item(text, group_start, end, Vec::new()));
                i = advance(t, end);
                continue;
            }
            Err(nom::Err::Incomplete(_)) => break,
        };
        let kw = trivia(after_sups);
        let start = off(&kw);
        if kw.fragment().is_empty() {
            if let Some(s) = suppressions.last() {
                diagnostics.push(to_diag(SyntaxError::new(
                    codes::DANGLING_SUPPRESSION,
                    s.range,
                    "`@suppress` is not followed by an item",
                    "nothing to suppress",
                    "put `@suppress` on the line before the item it applies to, or remove it",
                )));
            } else if let Some(n) = &name {
                diagnostics.push(to_diag(SyntaxError::new(
                    codes::DANGLING_SUPPRESSION,
                    n.range,
                    "`@name` is not followed by a rule",
                    "nothing to name",
                    "put `@name NAME` on the line before the rule it names, or remove it",
                )));
            }
            items.push(error_item(text, group_start, text.len(), Vec::new()));
            break;
        }
        match item::item(kw) {
            Ok((rest, kind)) => {
                let junk = junk_after(rest, &kind);
                if let Some(n) = &name
                    && !matches!(kind, ItemKind::Flow(_) | ItemKind::Workflow(_))
                {
                    diagnostics.push(to_diag(SyntaxError::new(
                        codes::DANGLING_SUPPRESSION,
                        n.range,
                        "`@name` names a rule, and this item is not a rule",
                        "not before a rule",
                        "put `@name NAME` on the line before an `allow`, `deny`, `storage-commitment` or `c-move` rule",
                    )));
                }
                items.push(Item {
                    kind,
                    suppressions,
                    name,
                    range: rng(start, off(&rest)),
                });
                i = rest;
                if let Some(e) = junk {
                    let junk = e.start();
                    let end = recover::sync_point(text, junk, junk);
                    diagnostics.push(to_diag(e));
                    items.push(error_item(text, junk, end, Vec::new()));
                    i = advance(rest, end);
                }
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                let e = if e.is_generic() {
                    item::not_an_item(kw)
                } else {
                    e
                };
                let end = recover::sync_point(text, start, e.start());
                diagnostics.push(to_diag(e));
                items.push(error_item(text, start, end, suppressions));
                i = advance(kw, end);
            }
            Err(nom::Err::Incomplete(_)) => break,
        }
    }
    Parsed {
        file: SourceFile { items, comments },
        diagnostics,
    }
}

/// Moves `i` forward to the absolute offset `to` (never backwards).
fn advance(i: Input<'_>, to: usize) -> Input<'_> {
    let by = to.saturating_sub(off(&i)).min(i.fragment().len());
    i.take_from(by)
}

/// An error node from `start` to `end`, trailing whitespace excluded.
fn error_item(
    text: &str,
    start: usize,
    end: usize,
    suppressions: Vec<crate::ast::Suppression>,
) -> Item {
    let slice = text.get(start..end).unwrap_or_default();
    let end = start + slice.trim_end().len();
    Item {
        kind: ItemKind::Error,
        suppressions,
        name: None,
        range: rng(start, end),
    }
}

/// An error for a token on the same line right after a complete item (a
/// missing comma, a stray word), unless it starts another item.
fn junk_after(rest: Input<'_>, kind: &ItemKind) -> Option<SyntaxError> {
    let b = rest.fragment().as_bytes();
    let p = b
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t' || c == b'\r')
        .count();
    match b.get(p) {
        None | Some(b'\n' | b'#' | b'@') => return None,
        _ => {}
    }
    let t = rest.take_from(p);
    if peek_word(t).is_some_and(|w| ITEM_KEYWORDS.contains(&w)) {
        return None;
    }
    let (range, desc) = found(t);
    let help = match (peek_word(t), t.fragment().as_bytes().first()) {
        (Some("until"), _) if matches!(kind, ItemKind::Flow(_) | ItemKind::Workflow(_)) => {
            "write `until DATE` before the justification string"
        }
        (Some("until"), _) => "only `allow`, `deny` and the workflows take `until DATE`",
        (_, Some(b'"')) => "an item takes one justification string, at its end",
        (_, Some(b':')) => "write the services once, after the destinations: `A -> B : SERVICE, …`",
        (_, Some(b'{' | b'}')) => "check the `{` and `}` of the block",
        _ => {
            "separate list elements with `,` (e.g. `: dicom, https`), and start each item on a new line"
        }
    };
    Some(SyntaxError::new(
        codes::UNEXPECTED_TOKEN,
        range,
        format!("expected the end of the item, found {desc}"),
        "unexpected after the end of the item",
        help,
    ))
}
