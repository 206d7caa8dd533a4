//! L0308 `admin-from-non-management`: an administration protocol (ssh,
//! rdp, vnc, telnet, snmp, winrm) permitted from a zone not tagged
//! `management`.
//!
//! NIST SP 800-82 §5.8: administration comes from a management network.
//! Vendor zones are checked by `vendor-access-not-brokered` instead.

use zonal_diagnostics::Severity;
use zonal_model::service::{TCP, UDP};

use crate::analysis::AtomId;
use crate::ctx::{Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0308",
    name: "admin-from-non-management",
    severity: Severity::Medium,
    summary: "admin protocol permitted from a zone not tagged management",
    doc: lint_doc!("L0308"),
};

fn admin_name(proto: u8, port: u16) -> &'static str {
    match (proto, port) {
        (TCP, 22) => "ssh",
        (TCP, 23) => "telnet",
        (_, 3389) => "rdp",
        (TCP, 5900..=5901) => "vnc",
        (UDP, 161..=162) => "snmp",
        (TCP, 5985..=5986) => "winrm",
        _ => "admin",
    }
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let admin = super::vendor_access_not_brokered::remote_access()
        .union(&super::services(&[(UDP, 161, 162)]));
    let rules: Vec<_> = cx.active_allows().collect();
    for r in rules {
        if !cx.rule_carries(r, &admin) {
            continue;
        }
        let non_mgmt = |a: AtomId| {
            cx.atom_zone(a)
                .is_some_and(|z| !zones::is_management(z) && !zones::is_vendor(z))
        };
        let Some(f) = cx.rule_witness_as(r.id, &non_mgmt, &|_| true, &admin) else {
            continue;
        };
        let from = cx
            .atom_zone(f.src)
            .map(|z| z.name.clone())
            .unwrap_or_default();
        let name = cx
            .moved_service_name(&f.packet)
            .unwrap_or_else(|| admin_name(f.packet.proto, f.packet.selector));
        let d = cx
            .diag(
                &INFO,
                format!("allow rule `{}` permits `{name}` from `{from}`, which is not a management zone", r.name),
                r.span,
                "admin protocol",
            )
            .with_note(cx.permitted_note(&f))
            .with_help("administer devices from a zone tagged `management` (a jump host), or tag the source zone if it is one");
        cx.push(d);
    }
}
