//! L0405 `any-address`: an allow rule whose source or destination is `any`.
//!
//! NIST SP 800-82 §5.8: restrict by address. Use an external zone for the
//! internet and named zones or groups for internal systems.

use zonal_diagnostics::Severity;
use zonal_model::Endpoint;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0405",
    name: "any-address",
    severity: Severity::High,
    summary: "allow rule from or to `any` address",
    doc: lint_doc!("L0405"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let rules: Vec<_> = cx
        .active_allows()
        .filter(|r| r.src.contains(&Endpoint::Any) || r.dst.contains(&Endpoint::Any))
        .collect();
    for r in rules {
        let side = match (
            r.src.contains(&Endpoint::Any),
            r.dst.contains(&Endpoint::Any),
        ) {
            (true, true) => "source and destination",
            (true, false) => "source",
            _ => "destination",
        };
        let mut d = cx.diag(
            &INFO,
            format!("allow rule `{}` has `any` as its {side}", r.name),
            r.span,
            "any address",
        );
        if let Some(f) = cx.rule_witness(r.id, &|_| true, &|_| true, None) {
            d = d.with_note(cx.permitted_note(&f));
        }
        let d =
            d.with_help("name the zones, devices or groups; use an external zone for the internet");
        cx.push(d);
    }
}
