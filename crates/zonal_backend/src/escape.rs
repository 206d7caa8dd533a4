//! Names and free text made safe for each target.
//!
//! Two kinds of user text reach a configuration:
//! - **identifiers** (set, chain, table, ACL, object and rule names) are
//!   derived from policy names by [`ident`]: only `[A-Za-z0-9_]` (and `-`
//!   where the target allows it), always starting with a letter (every
//!   generated name carries a type prefix, so no keyword can be produced),
//!   within the target's length limit; a name that is too long is shortened
//!   and made unique with a stable hash suffix;
//! - **free text** (descriptions, justifications, rule names in comments)
//!   goes through [`comment`]: only printable ASCII from
//!   `[A-Za-z0-9 _.,:/()+=@-]` is kept, everything else becomes a space,
//!   and the text is cut to the target's comment limit. No quote, newline,
//!   `#`, `!`, `;`, brace, `$` or backslash can survive.
//!
//! As a second line of defence, every value a template interpolates is
//! checked by [`check_output`] (see `env.rs`): a value with a character
//! outside the safe set aborts rendering with an error instead of producing
//! output. User-written values that cannot be sanitised without changing
//! their meaning (interface and vendor zone names of a binding) are checked
//! by [`check_interface`] and [`check_vendor_name`] and rejected at check
//! time.

use std::collections::BTreeSet;

use crate::Target;

/// Limits of one target.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Maximum identifier length (the lowest limit over the object kinds
    /// Zonal generates for the target).
    pub(crate) ident_max: usize,
    /// Maximum comment/remark/description length in bytes.
    pub(crate) comment_max: usize,
    /// Whether identifiers are upper case (Cisco convention).
    pub(crate) upper: bool,
    /// Whether `-` may appear in identifiers.
    pub(crate) dash: bool,
    /// Maximum interface name length.
    pub(crate) interface_max: usize,
    /// Maximum vendor zone name length.
    pub(crate) vendor_zone_max: usize,
    /// The latest `until` date whose expiry the target can hold (the rule
    /// ends at the end of that day, UTC); `None` where rules carry no
    /// expiry (pf: a build warning says so). A later date is E0308.
    pub(crate) last_until: Option<zonal_model::Date>,
}

/// The limits of a target (its row of the target table).
pub(crate) fn limits(target: Target) -> Limits {
    crate::targets::spec(target).limits
}

/// Whether `c` may appear in free text and interpolated values.
pub(crate) fn is_safe_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            ' ' | '_' | '.' | ',' | ':' | '/' | '(' | ')' | '+' | '=' | '@' | '-'
        )
}

/// Makes free text safe for a comment of `target`: see [`free_text`]; cut
/// to the target's comment limit.
pub(crate) fn comment(target: Target, raw: &str) -> String {
    free_text(keeps_unicode(target), raw, limits(target).comment_max).0
}

/// Like [`comment`] in plain ASCII, with an explicit byte limit.
pub(crate) fn comment_max(raw: &str, max: usize) -> String {
    free_text(false, raw, max).0
}

/// Free text made safe: the safe ASCII characters stay; a non-ASCII letter
/// or digit stays where the target's comments are UTF-8 (`unicode`), and is
/// transliterated to ASCII elsewhere ("Röntgen, 放射線科" becomes "Rontgen,
/// Fang She Xian Ke", never "R ntgen,"); everything else becomes a space,
/// and runs of spaces collapse. At most `max` bytes, cut on a word (or
/// character) boundary with `...`. Returns the text and whether it was cut
/// (a build warning must say so).
pub(crate) fn free_text(unicode: bool, raw: &str, max: usize) -> (String, bool) {
    let mut out = String::with_capacity(raw.len().min(max.saturating_add(8)));
    let mut space = false;
    let mut push = |c: char, out: &mut String| {
        if c == ' ' {
            space = !out.is_empty();
            return;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    };
    for c in raw.chars() {
        if is_safe_char(c) {
            push(c, &mut out);
        } else if !c.is_ascii() && c.is_alphanumeric() {
            if unicode {
                push(c, &mut out);
            } else {
                let ascii = deunicode::deunicode_char(c).unwrap_or(" ");
                for a in ascii.chars() {
                    push(if is_safe_char(a) { a } else { ' ' }, &mut out);
                }
            }
        } else {
            push(' ', &mut out);
        }
    }
    let out = out.trim_end().to_string();
    if out.len() <= max {
        return (out, false);
    }
    let mut cut = max.saturating_sub(3);
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = out.get(..cut).unwrap_or_default();
    let head = match head.rfind(' ') {
        Some(i) if i > cut / 2 => head.get(..i).unwrap_or(head),
        _ => head,
    };
    (format!("{}...", head.trim_end()), true)
}

/// Makes an identifier for `target` from a type prefix (e.g. `z_`, which
/// must start with a letter) and a policy name.
pub(crate) fn ident(target: Target, prefix: &str, raw: &str) -> String {
    ident_len(target, prefix, raw, limits(target).ident_max)
}

/// Like [`ident`], with an explicit length limit (for the names of one
/// object kind whose limit differs from the target's lowest).
pub(crate) fn ident_len(target: Target, prefix: &str, raw: &str, max: usize) -> String {
    let l = limits(target);
    let mut body = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() {
            if l.upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        } else if c == '-' && l.dash {
            '-'
        } else {
            '_'
        };
        if c == '_' && body.ends_with('_') {
            continue;
        }
        body.push(c);
    }
    let body = body.trim_matches('_');
    let prefix = if l.upper {
        prefix.to_ascii_uppercase()
    } else {
        prefix.to_string()
    };
    let full = format!("{prefix}{body}");
    shorten(&full, raw, max)
}

/// Cuts `name` to `max` bytes, appending a stable hash of `raw` so that two
/// long names with a common beginning stay different.
fn shorten(name: &str, raw: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let hash = format!("{:06x}", fnv1a(raw) & 0x00ff_ffff);
    let keep = max.saturating_sub(hash.len() + 1);
    let head = name
        .get(..keep)
        .unwrap_or(name)
        .trim_end_matches(['_', '-']);
    format!("{head}_{hash}")
}

/// FNV-1a, a small stable hash (the output must not depend on the platform).
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Hands out unique identifiers: a candidate that is already taken gets a
/// numeric suffix (`_2`, `_3`, …), shortened to the target's limit.
#[derive(Debug, Default)]
pub(crate) struct Namer {
    used: BTreeSet<String>,
}

impl Namer {
    /// A namer with no name taken.
    pub(crate) fn new() -> Self {
        Namer::default()
    }

    /// Reserves and returns a unique identifier for `raw` with `prefix`.
    pub(crate) fn name(&mut self, target: Target, prefix: &str, raw: &str) -> String {
        let base = ident(target, prefix, raw);
        self.unique(target, base)
    }

    /// Like [`Namer::name`], with an explicit length limit.
    pub(crate) fn name_len(
        &mut self,
        target: Target,
        prefix: &str,
        raw: &str,
        max: usize,
    ) -> String {
        let base = ident_len(target, prefix, raw, max);
        self.unique_len(base, max)
    }

    /// Reserves `base`, or `base_N` if it is taken.
    pub(crate) fn unique(&mut self, target: Target, base: String) -> String {
        self.unique_len(base, limits(target).ident_max)
    }

    /// Reserves `base`, or `base_N` (within `max` bytes) if it is taken.
    pub(crate) fn unique_len(&mut self, base: String, max: usize) -> String {
        if self.used.insert(base.clone()) {
            return base;
        }
        for n in 2u32.. {
            let suffix = format!("_{n}");
            let keep = max.saturating_sub(suffix.len()).min(base.len());
            let cand = format!("{}{suffix}", base.get(..keep).unwrap_or(&base));
            if self.used.insert(cand.clone()) {
                return cand;
            }
        }
        base
    }
}

/// Whether `c` is a non-ASCII letter or digit, which free text keeps on the
/// targets whose comments are UTF-8 ([`keeps_unicode`]): it cannot quote,
/// escape or end anything.
pub(crate) fn is_safe_unicode(c: char) -> bool {
    !c.is_ascii() && c.is_alphanumeric()
}

/// Whether `target`'s comments keep non-ASCII letters and digits: FortiOS
/// comments, Junos descriptions and PAN-OS descriptions are UTF-8; the
/// others transliterate.
pub(crate) fn keeps_unicode(target: Target) -> bool {
    matches!(target, Target::Fortigate | Target::Srx | Target::Panos)
}

/// Checks a value that a template is about to interpolate. Returns the first
/// offending character.
pub(crate) fn check_output(target: Target, s: &str) -> Result<(), char> {
    let unicode = keeps_unicode(target);
    match s
        .chars()
        .find(|c| !(is_safe_char(*c) || (unicode && is_safe_unicode(*c))))
    {
        Some(c) => Err(c),
        None => Ok(()),
    }
}

/// Checks an interface name from a binding: `[A-Za-z0-9_./:-]`, starting
/// with a letter or digit, within the target's length limit.
pub(crate) fn check_interface(target: Target, s: &str) -> Result<(), String> {
    let max = limits(target).interface_max;
    if matches!(target, Target::Nftables | Target::Iptables) {
        // Linux (`dev_valid_name`): at most 15 bytes, no `/`, `:` or space.
        return check_word(s, max, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
        });
    }
    check_word(s, max, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | ':' | '-')
    })
}

/// Whether two interface names name one interface on `target`: Linux and
/// pf names are case-sensitive, the vendors' are not (`Vlan110` is
/// `vlan110` on IOS and ASA).
pub(crate) fn same_interface(target: Target, a: &str, b: &str) -> bool {
    if matches!(target, Target::Nftables | Target::Iptables | Target::Pf) {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

/// Checks a vendor zone name or a naming prefix from a binding:
/// `[A-Za-z0-9_-]`, starting with a letter, within `max` bytes.
pub(crate) fn check_vendor_name(s: &str, max: usize) -> Result<(), String> {
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("it must start with a letter".into());
    }
    check_word(s, max, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
    })
}

fn check_word(s: &str, max: usize, ok: impl Fn(char) -> bool) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("it must start with a letter or digit".into());
    }
    if let Some(c) = s.chars().find(|c| !ok(*c)) {
        return Err(format!("it contains the character {c:?}"));
    }
    if s.len() > max {
        return Err(format!("it is longer than {max} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_lose_every_dangerous_character() {
        let hostile = "x\"; drop\n# {evil} !cmd ;$HOME `id` \\ 'q' <a>";
        for t in Target::ALL {
            let c = comment(t, hostile);
            assert!(c.chars().all(is_safe_char), "{t}: {c}");
            assert!(check_output(t, &c).is_ok());
            assert!(!c.contains('\n'));
        }
        assert_eq!(comment(Target::Nftables, "a \"b\"\n c"), "a b c");
    }

    #[test]
    fn comments_are_cut_to_the_limit() {
        let long = "word ".repeat(100);
        let c = comment(Target::Ios, &long);
        assert!(c.len() <= 100, "{}", c.len());
        assert!(c.ends_with("..."));
        let c = comment_max(&"x".repeat(50), 10);
        assert_eq!(c.len(), 10);
    }

    #[test]
    fn identifiers_are_safe_and_bounded() {
        assert_eq!(
            ident(Target::Nftables, "z_", "imaging-servers"),
            "z_imaging_servers"
        );
        assert_eq!(ident(Target::Ios, "og_", "ct-1.local"), "OG_CT_1_LOCAL");
        assert_eq!(ident(Target::Srx, "", "ct-1"), "ct-1");
        let long = "a".repeat(100);
        let a = ident(Target::Iptables, "zp_", &long);
        let b = ident(Target::Iptables, "zp_", &format!("{long}b"));
        assert!(a.len() <= 28 && b.len() <= 28);
        assert_ne!(a, b);
        for t in Target::ALL {
            let id = ident(t, "x_", "we\"ird;{name}#!\n");
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{id}"
            );
        }
    }

    #[test]
    fn namer_disambiguates() {
        let mut n = Namer::new();
        assert_eq!(n.name(Target::Nftables, "z_", "a-b"), "z_a_b");
        assert_eq!(n.name(Target::Nftables, "z_", "a_b"), "z_a_b_2");
        assert_eq!(n.name(Target::Nftables, "z_", "a.b"), "z_a_b_3");
    }

    #[test]
    fn binding_words() {
        assert!(check_interface(Target::Nftables, "vlan110").is_ok());
        assert!(check_interface(Target::Ios, "GigabitEthernet0/1.110").is_ok());
        assert!(check_interface(Target::Nftables, "eth0\" accept").is_err());
        assert!(check_interface(Target::Nftables, "averyveryverylongname").is_err());
        assert!(check_vendor_name("PACS", 31).is_ok());
        assert!(check_vendor_name("1x", 31).is_err());
        assert!(check_vendor_name("a b", 31).is_err());
    }
}
