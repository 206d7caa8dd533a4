//! "Did you mean" suggestions by edit distance: the one implementation for
//! every suggestion Zonal makes (keywords and properties in the parser,
//! names in the resolver, targets and zones in the deployment binding,
//! lint names in `zonal.toml` and `@suppress`, places and services in
//! `zonal query`).
//!
//! The policy, in one place:
//! - the distance is [`edit_distance`] (Levenshtein plus adjacent
//!   transpositions), ignoring ASCII case on both sides;
//! - a candidate is close enough at distance 1 for words of up to 4
//!   characters, 2 for words of 5 or more (a longer limit suggests
//!   unrelated names);
//! - a candidate that differs from a word of 3 or more characters only
//!   after their common stem (all but the last character of the shorter)
//!   and by at most 3 in length is close enough too, whatever the
//!   distance: `modality` finds `modalities`, `pacs` finds `pacs-1`;
//! - words over 64 characters get no suggestion (the distance is
//!   quadratic);
//! - the closest candidate wins; ties go to the first, so callers list
//!   candidates in the order they prefer.

/// The optimal-string-alignment distance (Levenshtein plus adjacent
/// transpositions) between two short ASCII-ish words.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    let at = |i: usize, j: usize| i * w + j;
    for i in 0..=a.len() {
        d[at(i, 0)] = i;
    }
    for j in 0..=b.len() {
        d[at(0, j)] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[at(i - 1, j)] + 1)
                .min(d[at(i, j - 1)] + 1)
                .min(d[at(i - 1, j - 1)] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[at(i - 2, j - 2)] + 1);
            }
            d[at(i, j)] = v;
        }
    }
    d[at(a.len(), b.len())]
}

/// Longest word for which a suggestion is looked for.
const MAX_WORD: usize = 64;

/// The largest distance at which a candidate still looks like a typo of a
/// word of `len` characters.
fn limit(len: usize) -> usize {
    if len >= 5 { 2 } else { 1 }
}

/// Whether `candidate` extends `word` or is extended by it, up to a
/// changed last character and 3 characters of length.
fn related(word: &str, candidate: &str) -> bool {
    let (w, c) = (word.chars().count(), candidate.chars().count());
    let stem = w.min(c).saturating_sub(1).max(1);
    w >= 3 && c.abs_diff(w) <= 3 && word.chars().take(stem).eq(candidate.chars().take(stem))
}

/// The closest candidate to `word`, if it is close enough to be a likely
/// typo (see the module documentation for the policy).
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let len = word.chars().count();
    if len > MAX_WORD {
        return None;
    }
    let word = word.to_ascii_lowercase();
    let limit = limit(len);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let lower = c.to_ascii_lowercase();
        let d = edit_distance(&word, &lower);
        if (d <= limit || related(&word, &lower)) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_found() {
        assert_eq!(did_you_mean("zoen", ["zone", "group"]), Some("zone"));
        assert_eq!(
            did_you_mean("devcie", ["device", "address"]),
            Some("device")
        );
        assert_eq!(
            did_you_mean("adress", ["device", "address"]),
            Some("address")
        );
        assert_eq!(did_you_mean("Zone", ["zone"]), Some("zone"));
        assert_eq!(did_you_mean("firewall", ["zone", "group"]), None);
        assert_eq!(did_you_mean("pacs", ["PACS-1", "PACS"]), Some("PACS"));
        assert_eq!(
            did_you_mean("nftable", ["pf", "nftables"]),
            Some("nftables")
        );
        assert_eq!(did_you_mean("modality", ["modalities"]), Some("modalities"));
        assert_eq!(did_you_mean("ct1", ["ct-1", "ct-2"]), Some("ct-1"));
        assert_eq!(did_you_mean("xyz", ["nftables", "pf"]), None);
        assert_eq!(did_you_mean("pacs", ["pacs-1"]), Some("pacs-1"));
        assert_eq!(did_you_mean("pacs", ["pacs-archive"]), None);
        assert_eq!(
            did_you_mean("modalities-al", ["modalities", "modalities-all"]),
            Some("modalities-all")
        );
        assert_eq!(did_you_mean("pg", ["pf"]), Some("pf"));
        assert_eq!(did_you_mean("ios", ["srx", "asa"]), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }
}
