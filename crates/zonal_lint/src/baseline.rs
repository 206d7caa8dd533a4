//! Baselines: findings a team has accepted (`zonal check --write-baseline`),
//! identified by fingerprints that survive reformatting and reordering.
//!
//! This module only turns text into values and back; the CLI reads and
//! writes the file.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use zonal_diagnostics::{Diagnostic, Diagnostics};

/// One accepted finding in the baseline file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct BaselineEntry {
    fingerprint: String,
    code: String,
    message: String,
}

/// The file format.
#[derive(Serialize, Deserialize, Debug, Default)]
struct BaselineFile {
    version: u32,
    findings: Vec<BaselineEntry>,
}

/// The fingerprints of accepted findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    accepted: BTreeSet<String>,
}

/// Why a baseline file's text is not a baseline.
#[derive(Debug)]
pub struct BaselineError(String);

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BaselineError {}

impl Baseline {
    /// No accepted findings.
    pub fn empty() -> Self {
        Baseline::default()
    }

    /// Parses the JSON text of a baseline file.
    pub fn parse(text: &str) -> Result<Self, BaselineError> {
        let file: BaselineFile =
            serde_json::from_str(text).map_err(|e| BaselineError(e.to_string()))?;
        Ok(Baseline {
            accepted: file.findings.into_iter().map(|e| e.fingerprint).collect(),
        })
    }

    /// The JSON text of a baseline that accepts every one of `findings`.
    pub fn write(findings: &Diagnostics) -> String {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .zip(fingerprints(findings.iter()))
            .map(|(d, fingerprint)| BaselineEntry {
                fingerprint,
                code: d.code.to_string(),
                message: d.message.clone(),
            })
            .collect();
        entries.sort();
        let file = BaselineFile {
            version: 1,
            findings: entries,
        };
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
    }

    /// Splits `findings` into the ones not accepted here, and a count of
    /// the accepted ones.
    pub fn filter(&self, findings: Diagnostics) -> (Diagnostics, usize) {
        if self.accepted.is_empty() {
            return (findings, 0);
        }
        let fps = fingerprints(findings.iter());
        let mut kept = Diagnostics::new();
        let mut accepted = 0usize;
        for (d, fp) in findings.into_iter().zip(&fps) {
            if self.accepted.contains(fp.as_str()) {
                accepted += 1;
            } else {
                kept.push(d);
            }
        }
        (kept, accepted)
    }
}

/// Fingerprints of findings, numbered when several findings share one, so
/// that each is stable across reformatting and reordering of the policy.
pub fn fingerprints<'a>(diags: impl IntoIterator<Item = &'a Diagnostic>) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    diags
        .into_iter()
        .map(|d| {
            let fp = crate::fingerprint(d);
            let n = seen.entry(fp.clone()).or_default();
            *n += 1;
            if *n == 1 { fp } else { format!("{fp}:{n}") }
        })
        .collect()
}
