//! Characters a reader cannot see: one list, used by the parser to refuse
//! them and by the renderers to show them safely.

/// Whether `c` is an invisible formatting character: bidirectional marks,
/// embeddings, overrides and isolates, zero-width spaces and joiners, word
/// joiners, invisible operators, the soft hyphen, the byte-order mark and
/// other Unicode format (Cf) characters.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{feff}'
        | '\u{00ad}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061c}'
        | '\u{06dd}'
        | '\u{070f}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08e2}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}'
        | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0001}'
        | '\u{e0020}'..='\u{e007f}'
    )
}

/// Whether `c` may break a line for some tools: LF, CR, NEL, and the
/// Unicode line and paragraph separators.
pub fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// `c` as it is safe to print in a snippet or a message: a control
/// character becomes its Unicode control picture (`␛` for ESC, `␍` for
/// CR), a line separator or an invisible formatting character becomes
/// U+FFFD. One character stays one character, so columns are kept.
pub fn printable(c: char) -> char {
    match c {
        '\t' => ' ',
        '\u{7f}' => '\u{2421}',
        c if u32::from(c) < 0x20 => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
        c if c.is_control() || is_line_break(c) || is_invisible_format(c) => '\u{fffd}',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_keeps_one_character_per_character() {
        let raw = "a\u{1b}[31m\rb\u{2028}c\u{202e}d\u{7f}é";
        let shown: String = raw.chars().map(printable).collect();
        assert_eq!(shown, "a\u{241b}[31m\u{240d}b\u{fffd}c\u{fffd}d\u{2421}é");
        assert_eq!(shown.chars().count(), raw.chars().count());
    }
}
