//! Characters a reviewer cannot see or that end a line for some tools and
//! not for others. They are refused everywhere in a file (names, strings
//! and comments alike), so the text a reviewer reads in an editor, a diff
//! or a code-review page is the text Zonal parses:
//!
//! - a lone carriage return (CR not followed by LF): one line to Zonal,
//!   two lines to most viewers, so a comment could hide a rule;
//! - the Unicode line and paragraph separators U+2028 and U+2029, and NEL
//!   (U+0085);
//! - every other control character except tab, LF and the CR of CRLF
//!   (terminal escape sequences included);
//! - format characters: bidirectional marks, embeddings, overrides and
//!   isolates, zero-width spaces and joiners, word joiners, invisible
//!   operators, the soft hyphen, and a byte-order mark anywhere but at the
//!   very start of the file.

use zonal_diagnostics::TextRange;

/// Why `c` is refused, or `None` when it is allowed. `next` is the
/// character after it (to accept the CR of CRLF), `at` its byte offset.
pub(crate) fn refused(c: char, next: Option<char>, at: usize) -> Option<&'static str> {
    match c {
        '\t' | '\n' => None,
        '\r' if next == Some('\n') => None,
        '\r' => Some("a carriage return that does not end a line (CR without LF)"),
        '\u{2028}' => Some("the line separator"),
        '\u{2029}' => Some("the paragraph separator"),
        '\u{feff}' if at == 0 => None,
        '\u{feff}' => Some("a zero-width no-break space (byte-order mark) after the start"),
        c if c.is_control() => Some("a control character"),
        c if zonal_diagnostics::text::is_invisible_format(c) => {
            Some("an invisible formatting character (bidirectional, zero-width or similar)")
        }
        _ => None,
    }
}

/// Every refused character of `text`: where, which, and why. At most
/// `max` are returned (one is enough to fail the file).
pub(crate) fn scan(text: &str, max: usize) -> Vec<(TextRange, char, &'static str)> {
    let mut out = Vec::new();
    // Fast path: printable ASCII, tabs and LF only.
    if text
        .bytes()
        .all(|b| b == b'\t' || b == b'\n' || (0x20..0x7f).contains(&b))
    {
        return out;
    }
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if let Some(why) = refused(c, next, at) {
            let end = at + c.len_utf8();
            out.push((
                TextRange::new(
                    u32::try_from(at).unwrap_or(u32::MAX),
                    u32::try_from(end).unwrap_or(u32::MAX),
                ),
                c,
                why,
            ));
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_refused_and_what_is_not() {
        for ok in [
            "a\tb\nc",
            "a\r\nb",
            "\u{feff}policy",
            "Röntgen 放射線科 \"é\"",
        ] {
            assert!(scan(ok, 10).is_empty(), "{ok:?}");
        }
        for (bad, at) in [
            ("# x\rdeny a -> b", 3),
            ("# x\u{2028}deny", 3),
            ("a\u{2029}", 1),
            ("\"a\u{202e}b\"", 2),
            ("# \u{1b}[31m red", 2),
            ("x\u{200b}y", 1),
            ("\"\u{061c}\"", 1),
            ("x\u{feff}", 1),
            ("a\u{85}b", 1),
            ("a\u{ad}b", 1),
        ] {
            let found = scan(bad, 10);
            assert_eq!(found.len(), 1, "{bad:?}: {found:?}");
            assert_eq!(found[0].0.start as usize, at, "{bad:?}");
        }
    }
}
