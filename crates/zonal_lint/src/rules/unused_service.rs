//! L0102 `unused-service`: a service defined in the policy but never used.
//!
//! A service is used when a rule, a workflow, a device listener or an
//! invariant names it, or when it is part of a used composite service
//! (`service web = http, https` uses `http` and `https`). Prelude services
//! are never reported. Linear in the number of services and rules.

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
    // Linear in the items: mark what rules, listeners and invariants name,
    // then what marked composites are built from.
    let mut used = vec![false; p.services.len()];
    let mut work: Vec<usize> = Vec::new();
    let mark = |i: usize, used: &mut Vec<bool>, work: &mut Vec<usize>| {
        if !used[i] {
            used[i] = true;
            work.push(i);
        }
    };
    for r in &p.rules {
        for s in &r.services_written {
            if let Some(def) = s.name.as_deref().and_then(|n| p.service_by_name(n)) {
                mark(def.id.index(), &mut used, &mut work);
            }
        }
    }
    for d in &p.devices {
        for l in &d.listens {
            mark(l.service.index(), &mut used, &mut work);
        }
    }
    for i in &p.invariants {
        for n in &i.service_names {
            if let Some(def) = p.service_by_name(n) {
                mark(def.id.index(), &mut used, &mut work);
            }
        }
    }
    while let Some(i) = work.pop() {
        for r in &p.services[i].refs {
            mark(r.index(), &mut used, &mut work);
        }
    }
    for s in &p.services {
        if s.prelude || used[s.id.index()] {
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
