//! The render gate: a [`Checked`] policy is one the lints have run on and
//! that has no error-level finding left. Backends take a `Checked`, so no
//! caller can render a policy that was not checked.

use zonal_diagnostics::Diagnostics;
use zonal_model::Policy;

use crate::{Baseline, LintConfig};

/// What the lints found on one policy, after the configuration's levels
/// and the baseline.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Findings not accepted by the baseline, sorted.
    pub findings: Diagnostics,
    /// How many findings the baseline accepted.
    pub accepted: usize,
}

/// Runs every enabled lint on `policy` and removes the findings the
/// baseline accepts.
pub fn lint(policy: &Policy, config: &LintConfig, baseline: &Baseline) -> Findings {
    let found = crate::check(policy, config);
    let (findings, accepted) = baseline.filter(found);
    Findings { findings, accepted }
}

/// A policy that passed the lints with no error-level finding. The only
/// way to make one is [`Checked::new`].
#[derive(Debug)]
pub struct Checked {
    policy: Policy,
    findings: Findings,
}

/// A policy the gate refused: error-level findings remain.
#[derive(Debug)]
pub struct Refused {
    /// The policy, handed back.
    pub policy: Policy,
    /// Every finding (blocking or not) after the baseline.
    pub findings: Findings,
}

impl Refused {
    /// The findings that block rendering.
    pub fn blocking(&self) -> Diagnostics {
        Diagnostics(
            self.findings
                .findings
                .iter()
                .filter(|d| d.severity.is_error_level())
                .cloned()
                .collect(),
        )
    }
}

impl Checked {
    /// Lints `policy` (with `config` and `baseline`) and accepts it only
    /// when no error-level finding remains.
    pub fn new(
        policy: Policy,
        config: &LintConfig,
        baseline: &Baseline,
    ) -> Result<Self, Box<Refused>> {
        let findings = lint(&policy, config, baseline);
        if findings.findings.has_errors() {
            return Err(Box::new(Refused { policy, findings }));
        }
        Ok(Checked { policy, findings })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The findings below error level (and the baseline's count).
    pub fn findings(&self) -> &Findings {
        &self.findings
    }
}
