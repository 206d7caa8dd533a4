//! L0302 `modality-internet-egress`: a modality or medical-device zone can
//! open connections to an external zone (the internet).
//!
//! CISA CPG 2.X and NIST SP 800-82 §5.8: control and medical devices should
//! not reach the internet; vendor updates go through the vendor zone's
//! tunnel. Reported on each allow rule that permits it.

use zonal_diagnostics::Severity;

use crate::ctx::{Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0302",
    name: "modality-internet-egress",
    severity: Severity::High,
    summary: "modality or medical-device zone can reach the internet",
    doc: lint_doc!("L0302"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let src = cx.zone_atoms_where(|z| zones::is_modality(z) && !z.external);
    let dst = cx.zone_atoms_where(|z| z.external);
    for f in cx.direct_flows(&src, &dst, None) {
        let r = cx.policy.rule(f.rule);
        let (from, to) = (cx.atom_zone(f.src), cx.atom_zone(f.dst));
        let d = cx
            .diag(
                &INFO,
                format!(
                    "allow rule `{}` lets modality zone `{}` reach external zone `{}`",
                    r.name,
                    from.map(|z| z.name.as_str()).unwrap_or("?"),
                    to.map(|z| z.name.as_str()).unwrap_or("?")
                ),
                r.span,
                "internet egress",
            )
            .with_note(cx.permitted_note(&f))
            .with_help("route vendor updates and cloud services through the vendor zone; modalities must not reach the internet");
        cx.push(d);
    }
}
