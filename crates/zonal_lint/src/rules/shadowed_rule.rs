//! L0201 `shadowed-rule`: an allow that can never take effect because deny
//! rules cover every packet it matches.
//!
//! In Zonal a matching deny wins over every allow whatever the order of
//! lines, so an allow covered by the union of the denies — by one deny or by
//! several together — permits nothing, and contradicts them. Detection is
//! exact and per cell of the packet-space index (no pairwise comparison).

use std::collections::BTreeSet;

use zonal_diagnostics::Severity;
use zonal_model::Action;

use crate::ctx::{Ctx, rule_ref};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0201",
    name: "shadowed-rule",
    severity: Severity::High,
    summary: "allow rule that deny rules cover entirely, so it never takes effect",
    doc: lint_doc!("L0201"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let shadowed = super::shadowed(cx);
    let an = cx.an();
    for r in &cx.policy.rules {
        if !shadowed[r.id.index()] {
            continue;
        }
        let mut denies = BTreeSet::new();
        let mut witness = None;
        for t in an.rule_terms[r.id.index()].clone() {
            for cell in an.term_cells(t) {
                for u in an.cell_terms(cell) {
                    let info = &an.terms[*u as usize];
                    if info.action == Action::Deny && an.services(*u).overlaps(an.services(t)) {
                        denies.insert(info.rule);
                    }
                }
                if witness.is_none()
                    && let Some(pk) = an.cell_packet(cell, an.services(t))
                    && let Some((_, by)) = an.deciding_rule(cell, pk.proto, pk.selector)
                {
                    witness = Some((pk, by));
                }
            }
        }
        let mut d = cx.diag(
            &INFO,
            format!(
                "{} never takes effect: deny rules cover every packet it matches",
                rule_ref(r)
            ),
            r.span,
            "shadowed by deny",
        );
        if let Some((pk, by)) = witness {
            d = d.with_note(format!(
                "witness: {pk} matches this rule but is denied by `{}`",
                cx.policy.rule(by).name
            ));
        }
        if denies.len() > 1 {
            d = d.with_note(format!("covered by {} deny rules together", denies.len()));
        }
        for deny in denies.iter().take(5) {
            let dr = cx.policy.rule(*deny);
            d = d.with_secondary(dr.span, format!("denied by `{}`", dr.name));
        }
        d = d.with_help("remove the allow, or narrow the deny if this traffic is really needed");
        cx.push(d);
    }
}
