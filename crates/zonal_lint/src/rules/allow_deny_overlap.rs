//! L0204 `allow-deny-overlap`: an allow and a deny that partially overlap.
//!
//! The deny wins where they overlap (whatever the order of the lines), and
//! the rest of the allow stays in effect. Usually intended, sometimes a
//! sign that the allow is broader than meant (Al-Shaer & Hamed's
//! correlation anomaly). Fully covered allows are `shadowed-rule` instead.

use std::collections::{BTreeMap, BTreeSet};

use zonal_diagnostics::Severity;
use zonal_model::{Action, Packet, RuleId};

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0204",
    name: "allow-deny-overlap",
    severity: Severity::Low,
    summary: "allow and deny rules that partially overlap",
    doc: lint_doc!("L0204"),
};

/// The deny rules an allow overlaps, and a witness packet with its deny.
type Overlap = (BTreeSet<RuleId>, Option<(Packet, RuleId)>);

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let shadowed = super::shadowed(cx);
    let an = cx.an();
    let mut found: BTreeMap<RuleId, Overlap> = BTreeMap::new();
    for cell in 0..an.n_cells() {
        let Some(denied) = cx.denied(cell) else {
            continue;
        };
        let terms = an.cell_terms(cell);
        for a in terms {
            let ai = &an.terms[*a as usize];
            if ai.action != Action::Allow || shadowed[ai.rule.index()] {
                continue;
            }
            let asv = an.services(*a);
            if !asv.overlaps(denied) {
                continue;
            }
            for d in terms {
                let di = &an.terms[*d as usize];
                if di.action != Action::Deny {
                    continue;
                }
                let ov = asv.intersect(an.services(*d));
                if ov.is_empty() {
                    continue;
                }
                let e = found.entry(ai.rule).or_default();
                e.0.insert(di.rule);
                if e.1.is_none() {
                    e.1 = an.cell_packet(cell, &ov).map(|p| (p, di.rule));
                }
            }
        }
    }
    for (allow, (denies, witness)) in found {
        let r = cx.policy.rule(allow);
        let first = denies
            .first()
            .map(|d| cx.policy.rule(*d).name.as_str())
            .unwrap_or_default();
        let message = if denies.len() == 1 {
            format!(
                "allow rule `{}` partially overlaps deny rule `{first}`",
                r.name
            )
        } else {
            format!(
                "allow rule `{}` partially overlaps {} deny rules",
                r.name,
                denies.len()
            )
        };
        let mut d = cx.diag(&INFO, message, r.span, "partly denied");
        if let Some((pk, by)) = witness {
            d = d.with_note(format!(
                "witness: {pk} matches this allow and is denied by `{}`; the rest of the allow stays in effect",
                cx.policy.rule(by).name
            ));
        }
        for dr in denies.iter().take(5) {
            let dr = cx.policy.rule(*dr);
            d = d.with_secondary(dr.span, format!("overlapping deny `{}`", dr.name));
        }
        d = d.with_help("narrow the allow to what is really meant to pass, so that reviewers need not compute the difference");
        cx.push(d);
    }
}
