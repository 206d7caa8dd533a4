//! L0403 `smb-to-legacy`: SMB or NetBIOS permitted to a legacy /
//! end-of-support device or zone.
//!
//! WannaCry / EternalBlue-class worms spread over SMB to unpatched Windows
//! modalities (IMDRF N70: compensating segmentation for legacy devices).

use zonal_diagnostics::Severity;
use zonal_model::service::{TCP, UDP};

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0403",
    name: "smb-to-legacy",
    severity: Severity::High,
    summary: "SMB or NetBIOS permitted to a legacy device",
    doc: lint_doc!("L0403"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let smb = super::services(&[(TCP, 445, 445), (TCP, 139, 139), (UDP, 137, 138)]);
    let an = cx.an();
    let rules: Vec<_> = cx.active_allows().collect();
    for r in rules {
        if !cx.rule_carries(r, &smb) {
            continue;
        }
        let legacy = |a: u32| an.atom_is_legacy(a);
        let Some(f) = cx.rule_witness_as(r.id, &|_| true, &legacy, &smb) else {
            continue;
        };
        let d = cx
            .diag(
                &INFO,
                format!("allow rule `{}` permits SMB/NetBIOS to legacy `{}`", r.name, an.atom_name(f.dst)),
                r.span,
                "SMB to end-of-support",
            )
            .with_note(cx.permitted_note(&f))
            .with_help("export through DICOM to the PACS instead, or isolate the legacy device from file sharing");
        cx.push(d);
    }
}
