//! L0102 `unused-service`: a service defined in the policy but never used.
//!
//! A service is used when a rule, a workflow or a device listener names it,
//! or when an invariant's services include it. Prelude services are never
//! reported.

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0102",
    name: "unused-service",
    severity: Severity::Info,
    summary: "service defined in the policy but never used",
    doc: lint_doc!("L0102"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    let mut used = vec![false; p.services.len()];
    for r in &p.rules {
        for s in &r.services_written {
            if let Some(def) = s.name.as_deref().and_then(|n| p.service_by_name(n)) {
                used[def.id.index()] = true;
            }
        }
    }
    for d in &p.devices {
        for l in &d.listens {
            used[l.service.index()] = true;
        }
    }
    for s in &p.services {
        if s.prelude || used[s.id.index()] {
            continue;
        }
        if p.invariants
            .iter()
            .any(|i| i.services_written && !s.set.is_empty() && s.set.is_subset(&i.services))
        {
            continue;
        }
        if p.services.iter().any(|o| {
            o.id != s.id
                && used[o.id.index()]
                && !o.prelude
                && o.set != s.set
                && s.set.is_subset(&o.set)
        }) {
            // Probably part of a used composite service (the model does not
            // record which services a service is built from).
            continue;
        }
        let d = cx
            .diag(
                &INFO,
                format!("service `{}` is never used", s.name),
                s.span,
                "defined here",
            )
            .with_note(format!(
                "witness: no rule, workflow, listener or invariant uses `{}` ({})",
                s.name, s.set
            ))
            .with_help("remove the definition, or use it where it was meant to be used");
        cx.push(d);
    }
}
