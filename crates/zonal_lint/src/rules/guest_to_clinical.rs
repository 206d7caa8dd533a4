//! L0304 `guest-to-clinical`: a guest or wireless-client zone can open
//! connections to a clinical zone (modality, medical-device, clinical,
//! PACS, RIS).
//!
//! NHS imaging pattern: wireless and guest networks must not reach clinical
//! destinations; IEC 62443-3-2 ZCR 3.5.

use zonal_diagnostics::Severity;

use crate::ctx::{Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0304",
    name: "guest-to-clinical",
    severity: Severity::Critical,
    summary: "guest or wireless zone can reach a clinical zone",
    doc: lint_doc!("L0304"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let src = cx.zone_atoms_where(|z| zones::is_guest_or_wireless(z) && !zones::is_clinical(z));
    let dst = cx.zone_atoms_where(zones::is_clinical);
    for f in cx.direct_flows(&src, &dst, None) {
        let r = cx.policy.rule(f.rule);
        let (from, to) = (cx.atom_zone(f.src), cx.atom_zone(f.dst));
        let d = cx
            .diag(
                &INFO,
                format!(
                    "allow rule `{}` lets guest zone `{}` reach clinical zone `{}`",
                    r.name,
                    from.map(|z| z.name.as_str()).unwrap_or("?"),
                    to.map(|z| z.name.as_str()).unwrap_or("?")
                ),
                r.span,
                "guest to clinical",
            )
            .with_note(cx.permitted_note(&f))
            .with_help("guests get the internet only; remove the flow or move the client to a managed zone");
        cx.push(d);
    }
}
