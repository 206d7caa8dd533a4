//! L0406 `broad-port-range`: an allow rule opening more than N TCP or UDP
//! ports of one protocol (N is `max-port-range` in `zonal.toml`, default
//! 100). Whole-protocol rules are `any-service`.

use zonal_diagnostics::Severity;
use zonal_model::ServiceSet;
use zonal_model::service::{TCP, UDP, proto_name};

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0406",
    name: "broad-port-range",
    severity: Severity::Medium,
    summary: "allow rule opening more than 100 ports",
    doc: lint_doc!("L0406"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let max = cx.config.max_port_range;
    let rules: Vec<_> = cx.active_allows().collect();
    for r in rules {
        // The union has at most as many ports as the terms together.
        if r.terms.iter().map(|t| t.services.port_count()).sum::<u64>() <= max {
            continue;
        }
        let s = r.all_services();
        let Some((proto, count)) = [TCP, UDP]
            .into_iter()
            .filter(|p| !s.has_whole(*p))
            .map(|p| (p, ServiceSet::proto(p, s.selectors(p)).port_count()))
            .find(|(_, c)| *c > max)
        else {
            continue;
        };
        let only = ServiceSet::proto(proto, s.selectors(proto));
        let mut d = cx.diag(
            &INFO,
            format!(
                "allow rule `{}` opens {count} {} ports (more than {max})",
                r.name,
                proto_name(proto).to_uppercase()
            ),
            r.span,
            "broad port range",
        );
        if let Some(f) = cx.rule_witness(r.id, &|_| true, &|_| true, Some(&only)) {
            d = d.with_note(cx.permitted_note(&f));
        }
        let d = d.with_help(
            "list the ports the application really uses (see the vendor's port list / MDS2 form)",
        );
        cx.push(d);
    }
}
