//! Lint configuration: per-lint severity, pivot services, thresholds.
//!
//! The CLI reads `zonal.toml` and fills this in; this crate never reads files.

use std::collections::BTreeMap;

use zonal_diagnostics::Severity;
use zonal_model::ServiceSet;

use crate::registry::{LintInfo, find_lint};

/// How the lints run.
#[derive(Clone, Debug)]
pub struct LintConfig {
    /// Overridden levels by lint code: `Some(severity)` or `None` (off).
    levels: BTreeMap<&'static str, Option<Severity>>,
    /// Services an attacker can pivot through on transitive paths (`never
    /// A ~> B`, untrusted-reaches-legacy, blast radius). `None`: every
    /// permitted flow pivots (packet reachability).
    pub pivot_services: Option<ServiceSet>,
    /// Blast radius: a zone reaching more than this many modality zones is flagged.
    pub blast_radius: usize,
    /// Broad port range: a rule with more TCP or UDP ports than this is flagged.
    pub max_port_range: u64,
}

impl Default for LintConfig {
    fn default() -> Self {
        LintConfig {
            levels: BTreeMap::new(),
            pivot_services: None,
            blast_radius: 3,
            max_port_range: 100,
        }
    }
}

impl LintConfig {
    /// Sets a lint's level by name or code: `Some(severity)`, or `None` to turn it off.
    pub fn set_level(&mut self, lint: &str, level: Option<Severity>) -> Result<(), String> {
        match find_lint(lint) {
            Some(info) => {
                self.levels.insert(info.code, level);
                Ok(())
            }
            None => Err(crate::registry::unknown_lint_message(lint)),
        }
    }

    /// The effective level of a lint (`None` when it is off).
    pub fn level(&self, info: &LintInfo) -> Option<Severity> {
        match self.levels.get(info.code) {
            Some(level) => *level,
            None => Some(info.severity),
        }
    }

    /// Whether a lint runs.
    pub fn enabled(&self, info: &LintInfo) -> bool {
        self.level(info).is_some()
    }
}
