//! L0307 `vendor-access-not-brokered`: remote access (ssh, rdp, vnc,
//! telnet, winrm) into a clinical zone that does not come through a vendor
//! / remote-access zone, or that comes through one but has no expiry.
//!
//! NHS imaging pattern (supplier access in a dedicated DMZ), CISA (secure
//! remote access), NIST SP 1800-24 (vendor access): vendor sessions are
//! brokered and time-limited.

use zonal_diagnostics::Severity;

use crate::analysis::AtomId;
use crate::ctx::{Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0307",
    name: "vendor-access-not-brokered",
    severity: Severity::High,
    summary: "remote access to clinical systems not through a vendor zone, or without expiry",
    doc: lint_doc!("L0307"),
};

/// Remote-control services: ssh, telnet, rdp, vnc, winrm.
pub(crate) fn remote_access() -> zonal_model::ServiceSet {
    use zonal_model::service::{TCP, UDP};
    super::services(&[
        (TCP, 22, 22),
        (TCP, 23, 23),
        (TCP, 3389, 3389),
        (UDP, 3389, 3389),
        (TCP, 5900, 5901),
        (TCP, 5985, 5986),
    ])
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let remote = remote_access();
    let rules: Vec<_> = cx.active_allows().collect();
    for r in rules {
        if !cx.rule_carries(r, &remote) {
            continue;
        }
        let clinical = |a: AtomId| cx.atom_zone(a).is_some_and(zones::is_clinical);
        let external = |a: AtomId| cx.atom_zone(a).is_none_or(|z| z.external);
        let vendor = |a: AtomId| {
            cx.atom_zone(a)
                .is_some_and(|z| zones::is_vendor(z) && !z.external)
        };
        if let Some(f) = cx.rule_witness_as(r.id, &external, &clinical, &remote) {
            let from = cx
                .atom_zone(f.src)
                .map(|z| z.name.clone())
                .unwrap_or_else(|| "any".into());
            let d = cx
                .diag(
                    &INFO,
                    format!("allow rule `{}` gives remote access from `{from}` to clinical systems without a vendor zone", r.name),
                    r.span,
                    "not brokered",
                )
                .with_note(cx.permitted_note(&f))
                .with_help("let vendors in through a vendor / remote-access zone (a jump host with MFA and session recording), with `until`");
            cx.push(d);
        } else if r.until.is_none()
            && let Some(f) = cx.rule_witness_as(r.id, &vendor, &clinical, &remote)
        {
            let from = cx
                .atom_zone(f.src)
                .map(|z| z.name.clone())
                .unwrap_or_default();
            let d = cx
                .diag(
                    &INFO,
                    format!(
                        "vendor remote access by allow rule `{}` from `{from}` has no expiry",
                        r.name
                    ),
                    r.span,
                    "no `until`",
                )
                .with_note(cx.permitted_note(&f))
                .with_help(
                    "add `until YYYY-MM-DD` and renew it per service window or change ticket",
                );
            cx.push(d);
        }
    }
}
