//! The rendered lines that change, per target and firewall.

use std::collections::BTreeMap;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use zonal_pipeline::Output;

/// A rendered file whose lines change.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TargetChange {
    /// `<firewall>.<extension>`.
    pub file: String,
    /// The target.
    pub target: String,
    /// The firewall.
    pub firewall: String,
    /// Lines only in the new file.
    pub added: usize,
    /// Lines only in the old file.
    pub removed: usize,
    /// The changed lines as a unified diff (three lines of context).
    pub diff: String,
    /// Why a side has no such file (not among its firewalls).
    pub note: Option<String>,
}

pub(crate) fn unified(old: &str, new: &str, file: &str) -> (usize, usize, String) {
    let d = TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for c in d.iter_all_changes() {
        match c.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let text = d
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("old/{}", file.trim_start_matches('/')),
            &format!("new/{}", file.trim_start_matches('/')),
        )
        .to_string();
    (added, removed, text)
}

/// Why the rendered files cannot be compared (a side did not render), if so.
pub(crate) fn unrendered(
    old: &Result<Vec<Output>, String>,
    new: &Result<Vec<Output>, String>,
) -> Option<String> {
    match (old, new) {
        (Err(o), Err(n)) => Some(format!("old side {o}; new side {n}")),
        (Err(o), Ok(_)) => Some(format!("old side {o}")),
        (Ok(_), Err(n)) => Some(format!("new side {n}")),
        (Ok(_), Ok(_)) => None,
    }
}

/// Every file of either side whose text differs (both sides rendered).
pub(crate) fn diff(old: &[Output], new: &[Output]) -> Vec<TargetChange> {
    let index = |side: &[Output]| -> BTreeMap<String, Output> {
        side.iter().map(|o| (o.file.clone(), o.clone())).collect()
    };
    let (o, n) = (index(old), index(new));
    let mut files: Vec<&String> = o.keys().chain(n.keys()).collect();
    files.sort();
    files.dedup();
    let mut out = Vec::new();
    for f in files {
        let (of, nf) = (o.get(f), n.get(f));
        let Some(any) = nf.or(of) else { continue };
        let (old_text, new_text) = match (of, nf) {
            (Some(a), Some(b)) => (a.text.as_str(), b.text.as_str()),
            (None, Some(b)) => ("", b.text.as_str()),
            (Some(a), None) => (a.text.as_str(), ""),
            (None, None) => continue,
        };
        if old_text == new_text {
            continue;
        }
        let note = match (of, nf) {
            (None, _) => Some("no such file on the old side".to_string()),
            (_, None) => Some("no such file on the new side".to_string()),
            _ => None,
        };
        let (added, removed, diff) = unified(old_text, new_text, f);
        out.push(TargetChange {
            file: f.clone(),
            target: any.target.name().to_string(),
            firewall: any.firewall.clone(),
            added,
            removed,
            diff,
            note,
        });
    }
    out
}
