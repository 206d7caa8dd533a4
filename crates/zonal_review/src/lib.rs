//! The semantic diff behind `zonal diff`: what a change to a policy does,
//! computed from the two models rather than from their text.
//!
//! ```text
//! Loaded (old) ──prepare──▶ Side ─┐
//!                                 ├──review──▶ Review ──human / markdown / json
//! Loaded (new) ──prepare──▶ Side ─┘
//! ```
//!
//! [`prepare`] runs one side through the pipeline (`zonal_pipeline`: the
//! lints, then every target or every firewall of a binding); [`review`]
//! compares two sides:
//!
//! - rules added, removed or changed, matched by their stable name
//!   (`@name`, else the generated name);
//! - zones and devices added, removed or changed;
//! - reachability gained and lost between places (devices and the rest of
//!   each zone), as sets of services with the addresses they apply to and
//!   an example packet that [`zonal_model::Policy::decide`] judges
//!   differently on the two sides;
//! - chains of permitted flows into legacy or modality zones and legacy
//!   devices that appear or disappear, hop by hop (the path search is
//!   [`zonal_lint::ZoneGraph::shortest_path`]);
//! - findings new and fixed, matched by fingerprint (the one SARIF and the
//!   baseline use);
//! - the rendered lines that change, per target and firewall.
//!
//! Two policies with the same model digest have no semantic change: a
//! reformat or a reordering is reported as such and nothing else is
//! computed. This crate never touches the filesystem and never prints.

pub mod expiry;
mod findings;
pub mod graph;
mod paths;
mod places;
mod reach;
mod render;
pub mod report;
mod rules;
mod targets;
#[cfg(test)]
mod tests;

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb, Span};
use zonal_lint::{Baseline, Checked};
use zonal_model::{Loaded, Policy};
use zonal_pipeline::{Failure, Output, ProjectConfig};

pub use render::{human, json, markdown};

/// One side of a review: the model, its findings and what it renders to.
#[derive(Debug)]
pub struct Side {
    /// Every file of the policy (and the binding), for locations.
    pub db: SourceDb,
    model: Model,
    /// Every lint finding (the project's levels, no baseline), sorted.
    findings: Diagnostics,
    /// The rendered files, or why there are none.
    outputs: Result<Vec<Output>, String>,
}

#[derive(Debug)]
enum Model {
    Checked(Box<Checked>),
    Refused(Box<Policy>),
}

impl Side {
    /// The side's model.
    pub fn policy(&self) -> &Policy {
        match &self.model {
            Model::Checked(c) => c.policy(),
            Model::Refused(p) => p,
        }
    }

    fn location(&self, span: Span) -> String {
        let lc = self.db.line_col(span.file, span.range.start);
        format!("{}:{}", self.db.name(span.file), lc.line)
    }
}

/// Why a side cannot be reviewed.
#[derive(Debug)]
pub enum Unusable {
    /// The policy has input errors (syntax, resolution), or its binding
    /// does not fit it: the diagnostics say where, in `db`'s files.
    Invalid {
        /// The errors.
        diagnostics: Diagnostics,
        /// The files they point into.
        db: Box<SourceDb>,
    },
    /// The `zonal.toml` does not fit the policy.
    Config(String),
}

/// A deployment binding to render each side through: its display name and text.
#[derive(Clone, Copy, Debug)]
pub struct BindingText<'a> {
    /// The file name printed in diagnostics.
    pub name: &'a str,
    /// The YAML text.
    pub text: &'a str,
}

/// Runs one side through the lints (with `project`'s levels, without a
/// baseline: a review shows every finding a change introduces or fixes)
/// and, when no error-level finding blocks it, renders it for every target
/// (or every firewall of `binding`) with the embedded templates.
pub fn prepare(
    mut loaded: Loaded,
    project: &ProjectConfig,
    binding: Option<BindingText<'_>>,
) -> Result<Side, Unusable> {
    match zonal_pipeline::gate(&mut loaded, project, &Baseline::empty()) {
        Ok(checked) => {
            let findings = checked.findings().findings.clone();
            let mut db = loaded.db;
            let bound = match binding {
                None => None,
                Some(b) => {
                    let id = db.add(b.name, b.text.to_string());
                    match zonal_pipeline::bind(&checked, id, b.text) {
                        Ok(bound) => Some(bound),
                        Err(Failure::Binding(diagnostics)) => {
                            return Err(Unusable::Invalid {
                                diagnostics,
                                db: Box::new(db),
                            });
                        }
                        Err(other) => return Err(Unusable::Config(format!("{other:?}"))),
                    }
                }
            };
            let all = zonal_backend::Target::ALL;
            let outputs = match zonal_pipeline::jobs(&checked, bound, Some(&all)) {
                Ok(jobs) => zonal_pipeline::render(
                    &checked,
                    &jobs,
                    &|_| zonal_backend::Templates::embedded(),
                    &mut db,
                )
                .map_err(|f| match f {
                    Failure::Render(d) => format!("rendering failed ({} error(s))", d.len()),
                    other => format!("rendering failed: {other:?}"),
                }),
                Err(Failure::NoFirewall(why)) => Err(format!("the binding has {why}")),
                Err(other) => Err(format!("{other:?}")),
            };
            Ok(Side {
                db,
                model: Model::Checked(Box::new(checked)),
                findings,
                outputs,
            })
        }
        Err(Failure::Refused(refused)) => {
            let blocking = refused.blocking().len();
            Ok(Side {
                db: loaded.db,
                findings: refused.findings.findings,
                model: Model::Refused(Box::new(refused.policy)),
                outputs: Err(format!(
                    "not rendered: {blocking} error-level finding(s) block rendering"
                )),
            })
        }
        Err(Failure::Invalid(diagnostics)) => Err(Unusable::Invalid {
            diagnostics,
            db: Box::new(loaded.db),
        }),
        Err(Failure::Config(e)) => Err(Unusable::Config(e.to_string())),
        Err(other) => Err(Unusable::Config(format!("{other:?}"))),
    }
}

/// What a change does. Every list is sorted; the JSON form is this
/// structure (`zonal diff --format json`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Review {
    /// The old policy's name.
    pub old_policy: String,
    /// The new policy's name.
    pub new_policy: String,
    /// The old model's digest.
    pub old_digest: String,
    /// The new model's digest.
    pub new_digest: String,
    /// Whether the models differ at all (false: a reformat or reordering).
    pub semantic_change: bool,
    /// Rules added, removed or changed.
    pub rules: Vec<rules::RuleChange>,
    /// Zones and devices added, removed or changed.
    pub places: Vec<places::PlaceChange>,
    /// Reachability gained and lost.
    pub reach: Vec<reach::ReachChange>,
    /// Chains of flows into legacy and modality zones that appear or disappear.
    pub paths: Vec<paths::PathChange>,
    /// Findings new and fixed.
    pub findings: Vec<findings::FindingChange>,
    /// Rendered files whose lines change.
    pub targets: Vec<targets::TargetChange>,
    /// Why the rendered files are not compared: a side did not render
    /// (error-level findings block it, or rendering failed).
    pub not_rendered: Option<String>,
}

/// Whether an item is new (added, gained) or gone (removed, lost, fixed).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only on the new side.
    Added,
    /// Only on the old side.
    Removed,
    /// On both sides, different.
    Changed,
}

impl Change {
    /// `+`, `-` or `~`.
    pub fn sign(self) -> char {
        match self {
            Change::Added => '+',
            Change::Removed => '-',
            Change::Changed => '~',
        }
    }
}

pub use findings::FindingChange;
pub use paths::{PathChange, PathHop};
pub use places::PlaceChange;
pub use reach::{Allowed, ReachChange, allowed};
pub use rules::{FieldChange, RuleChange};
pub use targets::TargetChange;

/// A unified diff (three lines of context) from `old` to `new`, headed
/// `old/NAME` and `new/NAME`, with the counts of added and removed lines.
pub fn unified_diff(old: &str, new: &str, name: &str) -> (usize, usize, String) {
    targets::unified(old, new, name)
}

/// Compares two sides.
pub fn review(old: &Side, new: &Side) -> Review {
    let (o, n) = (old.policy(), new.policy());
    let semantic_change = o.digest != n.digest;
    let mut r = Review {
        old_policy: o.name.clone(),
        new_policy: n.name.clone(),
        old_digest: o.digest.clone(),
        new_digest: n.digest.clone(),
        semantic_change,
        rules: Vec::new(),
        places: Vec::new(),
        reach: Vec::new(),
        paths: Vec::new(),
        findings: Vec::new(),
        targets: Vec::new(),
        not_rendered: None,
    };
    if !semantic_change {
        return r;
    }
    r.rules = rules::diff(old, new);
    r.places = places::diff(o, n);
    r.reach = reach::diff(o, n);
    r.paths = paths::diff(o, n);
    r.findings = findings::diff(old, new);
    r.not_rendered = targets::unrendered(&old.outputs, &new.outputs);
    if let (Ok(o), Ok(n)) = (&old.outputs, &new.outputs) {
        r.targets = targets::diff(o, n);
    }
    r
}

impl Review {
    /// The new findings at or above `level`.
    pub fn new_findings_at_or_above(
        &self,
        level: zonal_diagnostics::Severity,
    ) -> Vec<&FindingChange> {
        self.findings
            .iter()
            .filter(|f| f.change == Change::Added && f.level >= level)
            .collect()
    }
}
