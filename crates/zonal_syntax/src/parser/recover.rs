//! Error recovery (sync points) and the comment scanner.
//!
//! Both work on bytes with explicit counters: no recursion that input could
//! deepen.

use super::lexeme::{ITEM_KEYWORDS, rng, word_len};
use crate::ast::Comment;

/// Where to resume after an item that starts at `start` failed with an
/// error at `err`: the first of
/// - a line whose first word is an item keyword (or `@`), at or after `err`,
///   when it is unindented or no `{` is open;
/// - just after the `}` that closes the blocks opened since `start`, at or
///   after `err`;
/// - the end of the text.
///
/// The result is always greater than `start` (unless the text ends there),
/// so the item loop always makes progress.
pub(crate) fn sync_point(text: &str, start: usize, err: usize) -> usize {
    let b = text.as_bytes();
    let mut depth: u64 = 0;
    let mut p = start;
    while let Some(&c) = b.get(p) {
        // Only a non-blank byte can start a line's first word; checking it
        // first keeps the backwards scan in `line_starts_item` linear.
        if p > start && p >= err && c != b' ' && c != b'\t' && line_starts_item(text, p, depth) {
            return p;
        }
        match c {
            b'{' => depth = depth.saturating_add(1),
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && p >= err {
                    return p + 1;
                }
            }
            b'"' => {
                p += 1;
                while b.get(p).is_some_and(|&c| c != b'"' && c != b'\n') {
                    p += if b.get(p) == Some(&b'\\') && b.get(p + 1).is_some_and(|&n| n != b'\n') {
                        2
                    } else {
                        1
                    };
                }
                if b.get(p) == Some(&b'\n') {
                    continue;
                }
            }
            b'#' => {
                while b.get(p).is_some_and(|&c| c != b'\n') {
                    p += 1;
                }
                continue;
            }
            _ => {}
        }
        p += 1;
    }
    b.len()
}

/// Whether `p` is the first non-blank byte of a line whose first word is an
/// item keyword or an `@` annotation, and the line counts as a sync point
/// (unindented, or no block open).
fn line_starts_item(text: &str, p: usize, depth: u64) -> bool {
    let b = text.as_bytes();
    let mut q = p;
    while q > 0 && matches!(b.get(q - 1), Some(b' ' | b'\t')) {
        q -= 1;
    }
    if q > 0 && b.get(q - 1) != Some(&b'\n') {
        return false;
    }
    let indented = q != p;
    if indented && depth > 0 {
        return false;
    }
    let rest = text.get(p..).unwrap_or_default();
    if rest.starts_with('@') {
        return true;
    }
    let n = word_len(rest);
    rest.get(..n).is_some_and(|w| ITEM_KEYWORDS.contains(&w))
}

/// Every `#` comment outside strings, in order. Strings end at their closing
/// quote or at the end of the line, as in the parser.
pub(crate) fn comments(text: &str) -> Vec<Comment> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut p = 0;
    while let Some(&c) = b.get(p) {
        match c {
            b'"' => {
                p += 1;
                while b.get(p).is_some_and(|&c| c != b'"' && c != b'\n') {
                    p += if b.get(p) == Some(&b'\\') && b.get(p + 1).is_some_and(|&n| n != b'\n') {
                        2
                    } else {
                        1
                    };
                }
                if b.get(p) == Some(&b'"') {
                    p += 1;
                }
            }
            b'#' => {
                let start = p;
                while b.get(p).is_some_and(|&c| c != b'\n') {
                    p += 1;
                }
                let raw = text.get(start..p).unwrap_or_default();
                let body = raw.trim_end_matches('\r');
                out.push(Comment {
                    text: body.to_owned(),
                    range: rng(start, start + body.len()),
                });
            }
            _ => p += 1,
        }
    }
    out
}
