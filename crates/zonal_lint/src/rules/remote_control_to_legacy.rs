//! L0407 `remote-control-to-legacy`: a remote-control service (RDP, VNC,
//! telnet, SSH, WinRM) permitted to a legacy / end-of-support device or
//! zone from anywhere but a jump host.
//!
//! An end-of-support host is unpatched: its remote-control service is a
//! door with known holes that will not be fixed (BlueKeep, CVE-2019-0708,
//! is RDP pre-authentication code execution on Windows XP, 7 and Server
//! 2003 / 2008). Like SMB (`smb-to-legacy`, L0403), remote control into
//! such a host is a finding (IMDRF N70: compensating segmentation for
//! legacy devices). Legacy is the property (`end-of-support` or `legacy`
//! on the device or its zone), never the trust label: a Windows XP zone
//! modelled as `trust untrusted` is still checked.
//!
//! Accepted: rules whose every source is a jump host — an internal zone of
//! kind or tag `management`, or an internal `vendor` / `remote-access`
//! zone when the rule has an `until` (the brokered, time-limited vendor
//! session that `vendor-access-not-brokered`, L0307, prescribes). Reported
//! once per allow rule, with one permitted packet.

use zonal_diagnostics::Severity;
use zonal_model::Endpoint;

use crate::ctx::{Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0407",
    name: "remote-control-to-legacy",
    severity: Severity::High,
    summary: "RDP, VNC or another remote-control service permitted to a legacy device",
    doc: lint_doc!("L0407"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let remote = super::vendor_access_not_brokered::remote_access();
    let an = cx.an();
    let p = cx.policy;
    let rules: Vec<_> = cx.active_allows().collect();
    for r in rules {
        if !cx.rule_carries(r, &remote) {
            continue;
        }
        let jump_host = |e: &Endpoint| {
            let zone = match e {
                Endpoint::Zone(z) => p.zone(*z),
                Endpoint::Device(d) => p.zone(p.device(*d).zone),
                Endpoint::Any => return false,
            };
            !zone.external
                && (zones::is_management(zone) || (zones::is_vendor(zone) && r.until.is_some()))
        };
        if r.src.iter().all(jump_host) {
            continue;
        }
        let legacy = |a: u32| an.atom_is_legacy(a);
        let Some(f) = cx.rule_witness_as(r.id, &|_| true, &legacy, &remote) else {
            continue;
        };
        let d = cx
            .diag(
                &INFO,
                format!(
                    "allow rule `{}` permits remote control ({}) into end-of-support `{}`",
                    r.name,
                    cx.moved_service_name(&f.packet)
                        .unwrap_or_else(|| remote_name(f.packet.selector)),
                    an.atom_name(f.dst)
                ),
                r.span,
                "remote control of an unpatched host",
            )
            .with_note(cx.permitted_note(&f))
            .with_help("remove the flow, or admit remote sessions only from a jump host (a management zone, or a vendor zone with `until`)");
        cx.push(d);
    }
}

/// The remote-control service on a well-known port.
fn remote_name(port: u16) -> &'static str {
    match port {
        22 => "ssh",
        23 => "telnet",
        3389 => "rdp",
        5900 | 5901 => "vnc",
        5985 | 5986 => "winrm",
        _ => "remote control",
    }
}
