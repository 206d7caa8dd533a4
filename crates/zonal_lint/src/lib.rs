//! The zone graph and Zonal's lint catalogue.
//!
//! [`check`] runs every enabled lint on a resolved policy and returns the
//! findings as [`Diagnostic`]s (code, severity, primary and secondary spans,
//! notes carrying the witness — an example packet or the hop-by-hop path —
//! and help). [`registry`] lists the lints. [`ZoneGraph`] is the graph of
//! permitted flows, used by the lints and by `zonal query --path`.
//!
//! No analysis compares expanded rules pairwise: see the private `analysis` module (and `docs/lints.md`) for the
//! atom / class / cell index everything is built on.

mod analysis;
mod baseline;
mod checked;
mod config;
mod ctx;
pub mod graph;
pub mod query;
mod registry;
mod rules;
mod suppress;
#[cfg(test)]
mod tests;

use zonal_diagnostics::{Diagnostic, Diagnostics};
use zonal_model::Policy;

pub use baseline::{Baseline, BaselineError, fingerprints};
pub use checked::{Checked, Findings, Refused, lint};
pub use config::{BlastRadiusModel, LintConfig, default_blast_radius_vectors};
pub use graph::{Hop, PathOptions, Place, ZoneGraph};
pub use registry::{LintInfo, find_lint};

/// Every lint, ordered by code.
pub fn registry() -> &'static [LintInfo] {
    &registry::REGISTRY
}

/// Runs every enabled lint on `policy`. Suppressed findings are left out;
/// findings about suppressions themselves are included. The result is
/// sorted (file, position, code).
pub fn check(policy: &Policy, config: &LintConfig) -> Diagnostics {
    let graph = ZoneGraph::new(policy);
    check_with_graph(&graph, config)
}

/// Like [`check`], reusing a graph already built for the policy.
pub fn check_with_graph(graph: &ZoneGraph<'_>, config: &LintConfig) -> Diagnostics {
    let mut cx = ctx::Ctx::new(graph, config);
    rules::run_all(&mut cx);
    let mut out = Diagnostics(suppress::apply(&mut cx));
    out.sort();
    out
}

/// A fingerprint of a finding that is stable across reformatting and
/// reordering of the policy: a hash of the code and the message (messages
/// name things, never lines). Used for baselines and SARIF.
pub fn fingerprint(d: &Diagnostic) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in d.code.bytes().chain([0u8]).chain(d.message.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
