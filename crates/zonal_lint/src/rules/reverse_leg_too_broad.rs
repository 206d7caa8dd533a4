//! L0502 `reverse-leg-too-broad`: an archive may connect to a
//! storage-commitment or move-destination device on more than the device's
//! declared listeners.
//!
//! The classic "fix" for a missing reverse leg — `allow pacs -> modalities :
//! any` — opens every port of the modality; the reverse leg must target the
//! declared listener only.
//!
//! A workflow's reverse leg that reaches none of the device's listeners is
//! not reported here: `reverse-leg-missing` (L0501, the workflow's
//! services miss the listener) or `workflow-listener-undeclared` (L0503,
//! no listener at all) reports it once.

use std::collections::BTreeSet;

use zonal_diagnostics::Severity;
use zonal_model::{Action, ServiceSet};

use crate::analysis::AtomKind;
use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0502",
    name: "reverse-leg-too-broad",
    severity: Severity::Medium,
    summary: "reverse leg broader than the device's declared listeners",
    doc: lint_doc!("L0502"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    let an = cx.an();
    let mut reported = BTreeSet::new();
    for (t, info) in an.terms.iter().enumerate() {
        if info.global || info.action != Action::Allow || reported.contains(&info.rule) {
            continue;
        }
        let reverse = p.rule(info.rule).origin.is_reverse_leg();
        let Some(x) = info
            .src
            .iter()
            .copied()
            .find(|a| reverse || super::reverse_leg_missing::is_archive(cx, *a))
        else {
            continue;
        };
        for b in &info.dst {
            let AtomKind::Device(d) = an.atoms[*b as usize].kind else {
                continue;
            };
            let dev = p.device(d);
            if !(dev.storage_commitment || dev.move_destination) {
                continue;
            }
            let listeners = dev
                .listens
                .iter()
                .fold(ServiceSet::empty(), |acc, l| acc.union(&l.set));
            // A workflow's reverse leg that misses every listener is one
            // mistake, reported once: by L0501 (the workflow's services do
            // not match the listener) or L0503 (no listener declared).
            if reverse && !an.services(t as u32).overlaps(&listeners) {
                continue;
            }
            let excess = an.services(t as u32).subtract(&listeners);
            let Some(cell) = an.cell_of(x, *b) else {
                continue;
            };
            let Some(perm) = cx.graph.cell_permitted(cell) else {
                continue;
            };
            let Some(packet) = an.packet(x, *b, &perm.intersect(&excess)) else {
                continue;
            };
            let r = p.rule(info.rule);
            let f = crate::ctx::Flow {
                rule: info.rule,
                src: x,
                dst: *b,
                packet,
            };
            let declared = if dev.listens.is_empty() {
                "no listener".to_string()
            } else {
                dev.listens
                    .iter()
                    .map(|l| format!("`{}`", p.service(l.service).name))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let d = cx
                .diag(
                    &INFO,
                    format!(
                        "allow rule `{}` lets `{}` reach `{}` beyond its declared listeners ({declared})",
                        r.name,
                        an.atom_name(x),
                        dev.name
                    ),
                    r.span,
                    "broader than the listener",
                )
                .with_secondary(dev.span, "listeners declared here")
                .with_note(cx.permitted_note(&f))
                .with_help("restrict the reverse leg to the device's DICOM listener, or declare the workflow (`storage-commitment`, `c-move`)");
            cx.push(d);
            reported.insert(info.rule);
            break;
        }
    }
}
