//! Name helpers: "did you mean" suggestions and stable rule names.

use crate::ir::{Action, OriginKind, Rule};

/// Longest rule name before the suffix that makes it unique.
const MAX_RULE_NAME: usize = 48;

/// The closest candidate, if it is a likely typo of `name`. One
/// implementation serves the parser and the resolver.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    zonal_syntax::suggest::did_you_mean(name, candidates.into_iter().filter(|c| *c != name))
        .map(str::to_string)
}

/// Keeps `[a-z0-9-]`, maps everything else to `-`, collapses repeats.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// `allow-modalities-to-pacs-1-dicom`, `stgcmt-report-pacs-1-to-ct-1-dicom`, …
pub(crate) fn rule_base_name(r: &Rule) -> String {
    let prefix = match (r.origin, r.action) {
        (OriginKind::Flow, Action::Allow) => "allow",
        (OriginKind::Flow, Action::Deny) => "deny",
        (OriginKind::StorageCommitmentRequest, _) => "stgcmt-req",
        (OriginKind::StorageCommitmentReport, _) => "stgcmt-report",
        (OriginKind::MoveRequest, _) => "cmove-req",
        (OriginKind::MoveStore, _) => "cmove-store",
    };
    // Build the slug word by word and stop once it is long enough: a rule
    // may name hundreds of endpoints.
    let mut s = String::with_capacity(MAX_RULE_NAME + 8);
    // The first source, destination and service only: adding an endpoint
    // or a service after them keeps the name (and the hit counters and
    // change tickets that follow it on the device).
    let words = std::iter::once(prefix)
        .chain(r.src_written.iter().take(1).map(|x| x.0.as_str()))
        .chain(std::iter::once("to"))
        .chain(r.dst_written.iter().take(1).map(|x| x.0.as_str()))
        .chain(r.services_written.iter().take(1).map(|x| x.text.as_str()));
    for w in words {
        if s.len() > MAX_RULE_NAME {
            break;
        }
        let w = slug(w);
        if w.is_empty() {
            continue;
        }
        if !s.is_empty() {
            s.push('-');
        }
        s.push_str(&w);
    }
    if s.len() > MAX_RULE_NAME {
        s.truncate(MAX_RULE_NAME);
        while s.ends_with('-') {
            s.pop();
        }
    }
    if s.is_empty() { "rule".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("modalites", ["modalities", "reading"]),
            Some("modalities".into())
        );
        assert_eq!(did_you_mean("xyz", ["modalities"]), None);
        assert_eq!(
            slug("Allow CT-1 to PACS_1 \"x\"; tcp 104"),
            "allow-ct-1-to-pacs-1-x-tcp-104"
        );
    }
}
