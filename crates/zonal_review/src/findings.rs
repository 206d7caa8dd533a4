//! Findings new and fixed, matched by fingerprint (the one SARIF's
//! `partialFingerprints` and the baseline use).

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostic, Severity};

use crate::{Change, Side};

/// A finding the change introduces (`added`) or fixes (`removed`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FindingChange {
    /// `added` (new) or `removed` (fixed).
    pub change: Change,
    /// The lint or diagnostic code.
    pub code: String,
    /// Its severity.
    pub level: Severity,
    /// The message.
    pub message: String,
    /// `file:line` on the side that has it.
    pub location: String,
    /// The witness and notes (an example packet, a path).
    pub notes: Vec<String>,
    /// The fingerprint.
    pub fingerprint: String,
}

fn keyed(side: &Side) -> BTreeMap<String, &Diagnostic> {
    zonal_lint::fingerprints(side.findings.iter())
        .into_iter()
        .zip(side.findings.iter())
        .collect()
}

fn change(side: &Side, change: Change, fingerprint: &str, d: &Diagnostic) -> FindingChange {
    FindingChange {
        change,
        code: d.code.to_string(),
        level: d.severity,
        message: d.message.clone(),
        location: side.location(d.primary.span),
        notes: d.notes.clone(),
        fingerprint: fingerprint.to_string(),
    }
}

/// New findings (most severe first), then fixed ones.
pub(crate) fn diff(old: &Side, new: &Side) -> Vec<FindingChange> {
    let (o, n) = (keyed(old), keyed(new));
    let mut out: Vec<FindingChange> = n
        .iter()
        .filter(|(fp, _)| !o.contains_key(*fp))
        .map(|(fp, d)| change(new, Change::Added, fp, d))
        .chain(
            o.iter()
                .filter(|(fp, _)| !n.contains_key(*fp))
                .map(|(fp, d)| change(old, Change::Removed, fp, d)),
        )
        .collect();
    out.sort_by(|a, b| {
        a.change
            .cmp(&b.change)
            .then(b.level.cmp(&a.level))
            .then(a.code.cmp(&b.code))
            .then(a.message.cmp(&b.message))
    });
    out
}
