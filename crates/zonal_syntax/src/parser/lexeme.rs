//! Tokens: trivia, words, names, strings, numbers, dates, addresses.
//!
//! Every token parser skips leading trivia (whitespace and `#` comments)
//! itself, so callers never have to. A parser returns a *generic* error when
//! the input does not start with its kind of token (so callers can try
//! something else or report "expected …, found …"), and a *specific*
//! `Failure` when the token is there but malformed (an unterminated string,
//! `104a`, a reserved word used as a name).

use nom::Input as _;
use nom::bytes::complete::take_while1;
use zonal_diagnostics::TextRange;

use super::Input;
use super::error::SyntaxError;
use crate::ast::{AddrLit, AeTitle, DateLit, Ident, Num, PortRange, StrLit};
use crate::codes;

/// The parser result type of this crate.
pub(crate) type PResult<'a, T> = nom::IResult<Input<'a>, T, SyntaxError>;

/// Longest name accepted.
pub(crate) const MAX_NAME_LEN: usize = 63;
/// Longest string literal accepted, in bytes (quotes excluded).
pub(crate) const MAX_STRING_LEN: usize = 4096;

/// Keywords that start a top-level item.
pub(crate) const ITEM_KEYWORDS: [&str; 12] = [
    "policy",
    "include",
    "service",
    "override",
    "group",
    "zone",
    "allow",
    "deny",
    "storage-commitment",
    "c-move",
    "never",
    "require",
];

/// Reserved words that do not start an item.
const OTHER_RESERVED: [&str; 4] = ["until", "any", "to", "on"];

/// Words that may never be used as a name: the item keywords, then `until`,
/// `any`, `to` and `on` (built from both lists, so they cannot drift apart).
pub const RESERVED: [&str; ITEM_KEYWORDS.len() + OTHER_RESERVED.len()] = {
    let mut out = [""; ITEM_KEYWORDS.len() + OTHER_RESERVED.len()];
    let mut i = 0;
    while i < ITEM_KEYWORDS.len() {
        out[i] = ITEM_KEYWORDS[i];
        i += 1;
    }
    while i < out.len() {
        out[i] = OTHER_RESERVED[i - ITEM_KEYWORDS.len()];
        i += 1;
    }
    out
};

/// The ICMP type names accepted after `icmp` / `icmpv6`.
pub const ICMP_TYPE_NAMES: [&str; 13] = [
    "echo-request",
    "echo-reply",
    "destination-unreachable",
    "time-exceeded",
    "parameter-problem",
    "redirect",
    "packet-too-big",
    "router-solicitation",
    "router-advertisement",
    "neighbor-solicitation",
    "neighbor-advertisement",
    "timestamp-request",
    "timestamp-reply",
];

/// Byte offset of an input.
pub(crate) fn off(i: &Input<'_>) -> usize {
    i.location_offset()
}

/// A range from `usize` offsets.
pub(crate) fn rng(start: usize, end: usize) -> TextRange {
    TextRange::from_usize(start, end)
}

/// A backtrackable mismatch at the start of `i`.
pub(crate) fn mismatch<T>(i: Input<'_>) -> PResult<'_, T> {
    Err(nom::Err::Error(SyntaxError::generic(off(&i))))
}

/// A committed error.
pub(crate) fn fail<'a, T>(e: SyntaxError) -> PResult<'a, T> {
    Err(nom::Err::Failure(e))
}

/// Skips whitespace and comments.
pub(crate) fn trivia(i: Input<'_>) -> Input<'_> {
    let b = i.fragment().as_bytes();
    let mut p = 0;
    loop {
        match b.get(p) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => p += 1,
            Some(b'#') => {
                while b.get(p).is_some_and(|&c| c != b'\n') {
                    p += 1;
                }
            }
            _ => break,
        }
    }
    i.take_from(p)
}

pub(crate) fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

pub(crate) fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Length of the word at the start of `s`: `[A-Za-z_][A-Za-z0-9_.-]*`,
/// never including a `-` that starts `->`. Zero when there is none.
pub(crate) fn word_len(s: &str) -> usize {
    let b = s.as_bytes();
    if !b.first().is_some_and(|&c| is_name_start(c)) {
        return 0;
    }
    let mut n = 1;
    while let Some(&c) = b.get(n) {
        if c == b'-' && b.get(n + 1) == Some(&b'>') {
            break;
        }
        if !is_name_char(c) {
            break;
        }
        n += 1;
    }
    n
}

/// The word at the start of `i` after trivia, if any.
pub(crate) fn peek_word(i: Input<'_>) -> Option<&str> {
    let t = trivia(i);
    let s: &str = t.fragment();
    let n = word_len(s);
    s.get(..n).filter(|w| !w.is_empty())
}

/// Whether the next token starts with an ASCII digit.
pub(crate) fn peek_digit(i: Input<'_>) -> bool {
    trivia(i)
        .fragment()
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_digit)
}

/// Whether the next token starts with `c`.
pub(crate) fn peek_char(i: Input<'_>, c: char) -> bool {
    trivia(i).fragment().starts_with(c)
}

/// Matches the keyword `kw` as a whole word.
pub(crate) fn keyword<'a>(i: Input<'a>, kw: &str) -> PResult<'a, TextRange> {
    let t = trivia(i);
    let n = word_len(t.fragment());
    if t.fragment().get(..n) == Some(kw) {
        let start = off(&t);
        Ok((t.take_from(n), rng(start, start + n)))
    } else {
        mismatch(t)
    }
}

/// Matches punctuation `p` (e.g. `{`, `->`, `,`).
pub(crate) fn punct<'a>(i: Input<'a>, p: &str) -> PResult<'a, TextRange> {
    let t = trivia(i);
    if t.fragment().starts_with(p) {
        let start = off(&t);
        Ok((t.take_from(p.len()), rng(start, start + p.len())))
    } else {
        mismatch(t)
    }
}

/// Shortens user text for a message and makes it printable.
pub(crate) fn show(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("U+{:04X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The token at the start of `i` (after trivia) and a description of it,
/// for "found …" messages.
pub(crate) fn found(i: Input<'_>) -> (TextRange, String) {
    let t = trivia(i);
    let s: &str = t.fragment();
    let start = off(&t);
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return (rng(start, start), "end of file".to_owned());
    };
    if first == b'"' {
        let mut n = 1;
        while let Some(&c) = b.get(n) {
            n += 1;
            if c == b'"' || c == b'\n' {
                break;
            }
        }
        let n = n.min(s.len());
        return (rng(start, start + n), "a string".to_owned());
    }
    if first.is_ascii_alphanumeric() || first == b'_' || first == b':' {
        let mut n = 0;
        while let Some(&c) = b.get(n) {
            if c == b'-' && b.get(n + 1) == Some(&b'>') && n > 0 {
                break;
            }
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':' | b'/' | b'+') {
                n += 1;
            } else {
                break;
            }
        }
        let text = s.get(..n).unwrap_or_default();
        return (rng(start, start + n), format!("`{}`", show(text)));
    }
    for two in ["->", "~>", "=>", "<-", "<>", "=="] {
        if s.starts_with(two) {
            return (rng(start, start + 2), format!("`{two}`"));
        }
    }
    let c = s.chars().next().unwrap_or(' ');
    let desc = if c.is_ascii_graphic() {
        format!("`{c}`")
    } else {
        format!("character U+{:04X}", u32::from(c))
    };
    (rng(start, start + c.len_utf8()), desc)
}

/// A name: `[A-Za-z_][A-Za-z0-9_.-]*`, at most 63 characters, not ending in
/// `-` or `.`, and not a reserved word. `what` says what the name names.
pub(crate) fn name<'a>(i: Input<'a>, what: &str) -> PResult<'a, Ident> {
    let t = trivia(i);
    let s: &str = t.fragment();
    let n = word_len(s);
    let Some(w) = s.get(..n).filter(|w| !w.is_empty()) else {
        return mismatch(t);
    };
    let start = off(&t);
    let range = rng(start, start + n);
    if let Some(last @ ('-' | '.')) = w.chars().last() {
        return fail(SyntaxError::new(
            codes::INVALID_NAME,
            range,
            format!("name `{}` ends with `{last}`", show(w)),
            "invalid name",
            "a name may not end in `-` or `.`: remove it, or put a space before `->`",
        ));
    }
    if n > MAX_NAME_LEN {
        return fail(SyntaxError::new(
            codes::INVALID_NAME,
            range,
            format!("name `{}` is too long ({n} characters)", show(w)),
            "name too long",
            format!("use at most {MAX_NAME_LEN} characters"),
        ));
    }
    if RESERVED.contains(&w) {
        return fail(SyntaxError::new(
            codes::RESERVED_WORD,
            range,
            format!("`{w}` is a reserved word and cannot be used as {what}"),
            "reserved word",
            format!("rename it, e.g. `{w}-1`"),
        ));
    }
    Ok((
        t.take_from(n),
        Ident {
            name: w.to_owned(),
            range,
        },
    ))
}

/// A vocabulary word (`kind`, `tags`): a name, or `custom:NAME` for a
/// label of the user's own that no lint interprets.
pub(crate) fn label<'a>(i: Input<'a>, what: &str) -> PResult<'a, Ident> {
    let t = trivia(i);
    let Some(rest) = t.fragment().strip_prefix("custom:") else {
        return name(i, what);
    };
    let start = off(&t);
    if rest.starts_with(|c: char| c.is_whitespace()) || rest.is_empty() {
        return fail(SyntaxError::new(
            codes::INVALID_NAME,
            rng(start, start + 7),
            "`custom:` without a name".to_string(),
            "name missing",
            "write the label right after the colon, e.g. `custom:radiology`",
        ));
    }
    let (r, n) = name(t.take_from(7), what)?;
    Ok((
        r,
        Ident {
            name: format!("custom:{}", n.name),
            range: rng(start, n.range.end as usize),
        },
    ))
}

/// A double-quoted, single-line string with `\"` and `\\` escapes.
pub(crate) fn string(i: Input<'_>) -> PResult<'_, StrLit> {
    let t = trivia(i);
    let s: &str = t.fragment();
    if !s.starts_with('"') {
        return mismatch(t);
    }
    let start = off(&t);
    let mut value = String::new();
    let mut chars = s.char_indices().skip(1);
    loop {
        let Some((p, c)) = chars.next() else {
            return fail(unterminated(start, start + s.len()));
        };
        match c {
            '"' => {
                let end = p + 1;
                if value.len() > MAX_STRING_LEN {
                    return fail(SyntaxError::new(
                        codes::LIMIT_EXCEEDED,
                        rng(start, start + end),
                        format!("string is too long ({} bytes)", value.len()),
                        "string too long",
                        format!("use at most {MAX_STRING_LEN} bytes"),
                    ));
                }
                let range = rng(start, start + end);
                return Ok((t.take_from(end), StrLit { value, range }));
            }
            '\n' | '\r' => return fail(unterminated(start, start + p)),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => value.push(e),
                Some((_, '\n' | '\r')) | None => {
                    return fail(unterminated(start, start + p + 1));
                }
                Some((q, e)) => {
                    return fail(SyntaxError::new(
                        codes::INVALID_STRING,
                        rng(start + p, start + q + e.len_utf8()),
                        format!("unknown escape `\\{}` in string", show(&e.to_string())),
                        "unknown escape",
                        "only `\\\"` and `\\\\` are escapes; strings are single-line",
                    ));
                }
            },
            c if is_forbidden_in_string(c) => {
                return fail(SyntaxError::new(
                    codes::INVALID_STRING,
                    rng(start + p, start + p + c.len_utf8()),
                    format!(
                        "string contains the control character U+{:04X}",
                        u32::from(c)
                    ),
                    "control character",
                    "remove it: strings may not contain tabs or control characters",
                ));
            }
            c => value.push(c),
        }
    }
}

/// A tab ends the string with an error here (it is allowed elsewhere, as
/// whitespace). Every other control character and every invisible
/// formatting character is refused everywhere in a file, strings included,
/// by the scan in `invisible.rs` (E0013).
fn is_forbidden_in_string(c: char) -> bool {
    c == '\t'
}

fn unterminated(start: usize, end: usize) -> SyntaxError {
    SyntaxError::new(
        codes::UNTERMINATED_STRING,
        rng(start, end),
        "unterminated string",
        "this string is not closed on its line",
        "add the closing `\"` on the same line (strings cannot span lines)",
    )
}

/// Length of the digit run at the start of `s`.
fn digits_len(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

fn digits_value(d: &str) -> u64 {
    d.bytes().fold(0u64, |acc, c| {
        acc.saturating_mul(10).saturating_add(u64::from(c - b'0'))
    })
}

/// Whether the byte after a number makes it malformed (`104a`, `1.5`, `7-`).
fn bad_after_number(rest: &[u8]) -> bool {
    match rest.first() {
        Some(&c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' => true,
        Some(b'-') => rest.get(1) != Some(&b'>'),
        _ => false,
    }
}

fn bad_number(start: usize, s: &str, what: &str) -> SyntaxError {
    let n = s
        .bytes()
        .take_while(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    let text = s.get(..n).unwrap_or_default();
    SyntaxError::new(
        codes::INVALID_NUMBER,
        rng(start, start + n),
        format!("invalid {what} `{}`", show(text)),
        format!("not a valid {what}"),
        "write numbers with the digits 0-9 only, e.g. `104`; a port range is written `18016-18019`",
    )
}

/// An unsigned decimal number.
pub(crate) fn number(i: Input<'_>) -> PResult<'_, Num> {
    let t = trivia(i);
    let s: &str = t.fragment();
    let n = digits_len(s);
    if n == 0 {
        return mismatch(t);
    }
    let start = off(&t);
    if bad_after_number(s.as_bytes().get(n..).unwrap_or_default()) {
        return fail(bad_number(start, s, "number"));
    }
    let value = digits_value(s.get(..n).unwrap_or_default());
    Ok((
        t.take_from(n),
        Num {
            value,
            range: rng(start, start + n),
        },
    ))
}

/// A port `104` or port range `18016-18019`.
pub(crate) fn port(i: Input<'_>) -> PResult<'_, PortRange> {
    let t = trivia(i);
    let s: &str = t.fragment();
    let n = digits_len(s);
    if n == 0 {
        return mismatch(t);
    }
    let start = off(&t);
    let b = s.as_bytes();
    let lo = Num {
        value: digits_value(s.get(..n).unwrap_or_default()),
        range: rng(start, start + n),
    };
    let mut end = n;
    let mut hi = None;
    if b.get(n) == Some(&b'-') && b.get(n + 1).is_some_and(u8::is_ascii_digit) {
        let m = digits_len(s.get(n + 1..).unwrap_or_default());
        let hs = n + 1;
        hi = Some(Num {
            value: digits_value(s.get(hs..hs + m).unwrap_or_default()),
            range: rng(start + hs, start + hs + m),
        });
        end = hs + m;
    }
    if bad_after_number(b.get(end..).unwrap_or_default()) {
        return fail(bad_number(start, s, "port"));
    }
    Ok((
        t.take_from(end),
        PortRange {
            lo,
            hi,
            range: rng(start, start + end),
        },
    ))
}

/// A date `YYYY-MM-DD`; any other token is an error (callers have
/// committed with `until`).
pub(crate) fn date(i: Input<'_>) -> PResult<'_, DateLit> {
    let t = trivia(i);
    let s: &str = t.fragment();
    let start = off(&t);
    let b = s.as_bytes();
    let shape = b.len() >= 10
        && b.iter().take(10).enumerate().all(|(k, c)| {
            if k == 4 || k == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && !b
            .get(10)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !shape {
        let (range, desc) = found(t);
        return fail(SyntaxError::new(
            codes::INVALID_DATE,
            range,
            format!("expected a date `YYYY-MM-DD`, found {desc}"),
            "not a date",
            "write the date as `YYYY-MM-DD`, e.g. `2027-01-31`",
        ));
    }
    let part =
        |a: usize, z: usize| -> u32 { s.get(a..z).and_then(|d| d.parse().ok()).unwrap_or(0) };
    let date = DateLit {
        year: part(0, 4),
        month: part(5, 7),
        day: part(8, 10),
        range: rng(start, start + 10),
    };
    Ok((t.take_from(10), date))
}

/// An IPv4 or IPv6 address or prefix, as written. Shape only: at least one
/// `.` or `:`, hex digits, an optional `/LEN`. Anything else is a mismatch.
pub(crate) fn addr(i: Input<'_>) -> PResult<'_, AddrLit> {
    let t = trivia(i);
    let (rest, body) = match take_while1::<_, _, SyntaxError>(|c: char| {
        c.is_ascii_hexdigit() || c == ':' || c == '.'
    })(t)
    {
        Ok(x) => x,
        Err(_) => return mismatch(t),
    };
    let mut end = body.fragment().len();
    if !body.fragment().contains(['.', ':']) {
        return mismatch(t);
    }
    let r: &str = rest.fragment();
    if let Some(after) = r.strip_prefix('/') {
        let m = digits_len(after);
        if m == 0 {
            return mismatch(t);
        }
        end += 1 + m;
    }
    let s: &str = t.fragment();
    if s.as_bytes().get(end).is_some_and(|&c| {
        c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'/' | b'-')
    }) {
        return mismatch(t);
    }
    let start = off(&t);
    let text = s.get(..end).unwrap_or_default().to_owned();
    Ok((
        t.take_from(end),
        AddrLit {
            text,
            range: rng(start, start + end),
        },
    ))
}

/// Whether `c` may appear in an unquoted AE title.
pub fn is_ae_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-')
}

/// A DICOM AE title: `[A-Za-z0-9_.+-]+` or a string.
pub(crate) fn ae_title(i: Input<'_>) -> PResult<'_, AeTitle> {
    let t = trivia(i);
    if t.fragment().starts_with('"') {
        let (rest, s) = string(t)?;
        return Ok((
            rest,
            AeTitle {
                value: s.value,
                range: s.range,
            },
        ));
    }
    let s: &str = t.fragment();
    let n = s.chars().take_while(|&c| is_ae_char(c)).count();
    if n == 0 {
        return mismatch(t);
    }
    let start = off(&t);
    Ok((
        t.take_from(n),
        AeTitle {
            value: s.get(..n).unwrap_or_default().to_owned(),
            range: rng(start, start + n),
        },
    ))
}
