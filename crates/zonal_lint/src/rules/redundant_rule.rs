//! L0202 `redundant-rule`: a rule that other rules of the same action cover.
//!
//! An allow is redundant when every packet it matches is allowed by other
//! allows (or denied anyway); a deny is redundant when other denies cover
//! it. Covers by several rules together are found, not only pairs: the
//! check is exact, per cell of the packet-space index. Rules are taken in
//! reverse canonical order and a rule reported redundant no longer counts
//! as a cover, so all reported rules can be removed together. Workflow
//! legs are never reported (their declaration implies them).
//!
//! A cover must last as long as the rule it covers: a temporary rule
//! (`until`) covers a permanent rule not at all, and a temporary rule only
//! when it lasts at least as long. Deleting a permanent rule because a
//! vendor's time-limited exception happens to cover it today would drop the
//! flow on the day the exception expires. A temporary rule covered by
//! permanent ones is redundant.

use std::collections::BTreeSet;

use zonal_diagnostics::Severity;
use zonal_model::{Action, Rule};

use crate::ctx::{Ctx, rule_ref};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0202",
    name: "redundant-rule",
    severity: Severity::Low,
    summary: "rule covered by other rules of the same action",
    doc: lint_doc!("L0202"),
};

/// Whether `cover` is in force at least as long as `rule`: permanent, or
/// expiring no earlier than `rule`.
fn lasts(cover: &Rule, rule: &Rule) -> bool {
    match (cover.until, rule.until) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(c), Some(r)) => c >= r,
    }
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let shadowed = super::shadowed(cx);
    let an = cx.an();
    let mut eliminated = shadowed.clone();
    let mut found = Vec::new();
    // Built once: 256 protocols, one allocation each.
    let any = zonal_model::ServiceSet::any();
    for r in cx.policy.rules.iter().rev() {
        // Workflow legs are implied by their declaration: a leg that a flow
        // also covers is expected, not a mistake. They still count as covers.
        if !r.is_active() || shadowed[r.id.index()] || r.origin != zonal_model::OriginKind::Flow {
            continue;
        }
        let mut covered = true;
        let mut any_cell = false;
        let mut coverers = BTreeSet::new();
        'terms: for t in an.rule_terms[r.id.index()].clone() {
            let mine = an.services(t);
            for cell in an.term_cells(t) {
                // The covers in this cell: other rules of the same action
                // (and, for an allow, denies), each lasting as long as `r`.
                let cover = |u: &u32| {
                    let info = &an.terms[*u as usize];
                    let c = cx.policy.rule(info.rule);
                    let same = info.action == r.action
                        && info.rule != r.id
                        && !eliminated[info.rule.index()];
                    let deny = r.action == Action::Allow && info.action == Action::Deny;
                    (same || deny) && c.is_active() && lasts(c, r)
                };
                // Fast path: nothing else in the cell can cover this rule
                // (unless it has no packet here: no common family, a host
                // and itself).
                if !an.cell_terms(cell).iter().any(cover) {
                    covered = an.covered_in_cell(cell, mine, &any).is_none();
                    if covered {
                        continue;
                    }
                    break 'terms;
                }
                let mut acc = zonal_model::ServiceSet::empty();
                for u in an.cell_terms(cell).iter().filter(|u| cover(u)) {
                    let info = &an.terms[*u as usize];
                    let s = an.services(*u);
                    if info.action == r.action && s.overlaps(mine) {
                        coverers.insert(info.rule);
                    }
                    acc = acc.union(s);
                }
                let here = an.covered_in_cell(cell, mine, &acc);
                any_cell |= here == Some(true);
                if here == Some(false) {
                    covered = false;
                    break 'terms;
                }
            }
        }
        if covered && any_cell && !coverers.is_empty() {
            eliminated[r.id.index()] = true;
            found.push((r.id, coverers));
        }
    }
    found.reverse();
    for (id, coverers) in found {
        let r = cx.policy.rule(id);
        let mut d = cx.diag(
            &INFO,
            format!(
                "{} is redundant: other {} rules already cover it",
                rule_ref(r),
                r.action.as_str()
            ),
            r.span,
            "redundant",
        );
        // Witness: a packet of the rule and the other rule that matches it.
        'w: for t in an.rule_terms[id.index()].clone() {
            for cell in an.term_cells(t) {
                let Some(pk) = an.cell_packet(cell, an.services(t)) else {
                    continue;
                };
                for u in an.cell_terms(cell) {
                    let info = &an.terms[*u as usize];
                    let deny_cover = r.action == Action::Allow
                        && info.action == Action::Deny
                        && lasts(cx.policy.rule(info.rule), r);
                    if info.rule != id
                        && (coverers.contains(&info.rule) || deny_cover)
                        && an.services(*u).contains(pk.proto, pk.selector)
                    {
                        d = d.with_note(format!(
                            "witness: {pk} is also matched by `{}`",
                            cx.policy.rule(info.rule).name
                        ));
                        break 'w;
                    }
                }
            }
        }
        if coverers.len() > 1 {
            d = d.with_note(format!("covered by {} rules together", coverers.len()));
        }
        for c in coverers.iter().take(5) {
            let cr = cx.policy.rule(*c);
            d = d.with_secondary(cr.span, format!("covered by `{}`", cr.name));
        }
        d = d.with_help("remove the redundant rule, or merge the rules into one");
        cx.push(d);
    }
}
