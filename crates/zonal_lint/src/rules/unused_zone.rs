//! L0101 `unused-zone`: a zone that no rule or invariant mentions.
//!
//! Default deny means such a zone can neither send nor receive anything:
//! either the zone is dead, or the flows its systems need were never
//! written (Batfish's `unusedStructures`: "the final step was not completed").

use zonal_diagnostics::Severity;
use zonal_model::Endpoint;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0101",
    name: "unused-zone",
    severity: Severity::Low,
    summary: "zone that no rule or invariant mentions",
    doc: lint_doc!("L0101"),
};

/// Marks the zones mentioned (directly or through their devices) by any
/// rule or invariant.
pub(crate) fn used_zones(cx: &Ctx<'_, '_>) -> Vec<bool> {
    let p = cx.policy;
    let mut used = vec![false; p.zones.len()];
    let mut mark = |e: &Endpoint| match e {
        Endpoint::Zone(z) => used[z.index()] = true,
        Endpoint::Device(d) => used[p.device(*d).zone.index()] = true,
        Endpoint::Any => {}
    };
    for r in &p.rules {
        r.src.iter().chain(&r.dst).for_each(&mut mark);
    }
    for i in &p.invariants {
        i.src.iter().chain(&i.dst).for_each(&mut mark);
    }
    used
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let used = used_zones(cx);
    for z in &cx.policy.zones {
        if used[z.id.index()] {
            continue;
        }
        let what = if z.devices.is_empty() {
            format!("no rule or invariant names `{}`", z.name)
        } else {
            format!(
                "no rule or invariant names `{}` or any of its {} device(s)",
                z.name,
                z.devices.len()
            )
        };
        let d = cx
            .diag(
                &INFO,
                format!("zone `{}` is not used by any rule or invariant", z.name),
                z.span,
                "defined here",
            )
            .with_note(format!(
                "witness: {what}; every connection to or from it is denied by default"
            ))
            .with_help("remove the zone, or write the flows its systems need");
        cx.push(d);
    }
}
