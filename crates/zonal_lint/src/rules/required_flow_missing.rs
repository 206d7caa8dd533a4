//! L0306 `required-flow-missing`: a `require`d flow is not fully permitted.
//!
//! `require A -> B : S` holds when every packet of S from every address of
//! A to every address of B (of a common family) is permitted. The witness
//! is a packet that is not, with the deny rule that blocks it or the
//! default deny.

use std::collections::BTreeMap;

use zonal_diagnostics::Severity;
use zonal_model::{Action, InvariantKind, ServiceSet};

use crate::analysis::Analysis;
use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0306",
    name: "required-flow-missing",
    severity: Severity::High,
    summary: "a `require`d flow is not permitted",
    doc: lint_doc!("L0306"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let an = cx.an();
    for inv in cx
        .policy
        .invariants
        .iter()
        .filter(|i| i.kind == InvariantKind::Require)
    {
        let src = an.endpoints_atoms(&inv.src);
        let srcs = by_key(an, &src, &an.src_class);
        let mut missing_pairs = 0usize;
        let mut witness = None;
        for t in &inv.terms {
            let dsts = by_key(an, &an.term_dst_atoms(t), &an.dst_class);
            for xs in srcs.values() {
                for ys in dsts.values() {
                    let pairs = xs
                        .iter()
                        .flatten()
                        .flat_map(|a| ys.iter().flatten().map(move |b| (*a, *b)));
                    let mut found = None;
                    for (a, b) in pairs {
                        let cell = an.cell_of(a, b);
                        let perm = cell
                            .and_then(|c| cx.graph.cell_permitted(c))
                            .cloned()
                            .unwrap_or_else(ServiceSet::empty);
                        let missing = t.services.subtract(&perm);
                        // A packet of a missing service that exists between
                        // two different hosts of the pair, in a common family.
                        if let Some(pk) = an.packet(a, b, &missing) {
                            found = Some((a, b, pk, cell));
                            break;
                        }
                    }
                    let Some((a, b, pk, cell)) = found else {
                        continue;
                    };
                    missing_pairs += 1;
                    if witness.is_none() {
                        let by = cell.and_then(|c| an.deciding_rule(c, pk.proto, pk.selector));
                        witness = Some((a, b, pk, by));
                    }
                }
            }
        }
        let Some((a, b, pk, by)) = witness else {
            continue;
        };
        let from = inv
            .src_written
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let to = inv
            .dst_written
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let blocked = match by {
            Some((Action::Deny, r)) => format!("is denied by `{}`", cx.policy.rule(r).name),
            _ => "matches no allow rule (default deny)".to_string(),
        };
        let mut d = cx
            .diag(
                &INFO,
                format!(
                    "required flow `{from} -> {to} : {}` is not permitted",
                    inv.services
                ),
                inv.span,
                "required here",
            )
            .with_note(format!(
                "witness: {pk} ({} -> {}) {blocked}",
                an.atom_name(a),
                an.atom_name(b)
            ));
        if let Some((Action::Deny, r)) = by {
            let r = cx.policy.rule(r);
            d = d.with_secondary(r.span, format!("blocked by `{}`", r.name));
        }
        if missing_pairs > 1 {
            d = d.with_note(format!(
                "{missing_pairs} source/destination combinations are missing services"
            ));
        }
        let d = d.with_help(format!(
            "add `allow {from} -> {to} : …` for the missing services, or narrow the deny"
        ));
        cx.push(d);
    }
}

/// Atoms with the same class and the same families behave alike: one pair
/// per combination is checked (two atoms per key, so that a pair of two
/// different atoms is found when there is one).
fn by_key(
    an: &Analysis<'_>,
    atoms: &[u32],
    class: &[u32],
) -> BTreeMap<(u32, bool, bool), [Option<u32>; 2]> {
    let mut m: BTreeMap<(u32, bool, bool), [Option<u32>; 2]> = BTreeMap::new();
    for a in atoms {
        let atom = &an.atoms[*a as usize];
        let slot = m
            .entry((class[*a as usize], atom.v4.is_some(), atom.v6.is_some()))
            .or_default();
        if let Some(free) = slot.iter_mut().find(|s| s.is_none()) {
            *free = Some(*a);
        }
    }
    m
}
