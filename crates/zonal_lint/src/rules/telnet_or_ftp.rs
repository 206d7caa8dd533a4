//! L0402 `telnet-or-ftp`: telnet, FTP or TFTP permitted anywhere.
//!
//! Cleartext credentials (telnet, FTP) or no authentication at all (TFTP).
//! Rules permitting every TCP/UDP port are reported by `any-service`.

use zonal_diagnostics::Severity;
use zonal_model::service::{TCP, UDP};

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0402",
    name: "telnet-or-ftp",
    severity: Severity::High,
    summary: "telnet, FTP or TFTP permitted",
    doc: lint_doc!("L0402"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let bad = super::services(&[(TCP, 23, 23), (TCP, 20, 21), (UDP, 69, 69)]);
    let rules: Vec<_> = cx.active_allows().collect();
    for r in rules {
        if !cx.rule_carries(r, &bad) {
            continue;
        }
        let s = r.all_services();
        if s.has_whole(TCP) || s.has_whole(UDP) {
            continue;
        }
        let Some(f) = cx.rule_witness_as(r.id, &|_| true, &|_| true, &bad) else {
            continue;
        };
        let name =
            cx.moved_service_name(&f.packet)
                .unwrap_or(match (f.packet.proto, f.packet.selector) {
                    (TCP, 23) => "telnet",
                    (UDP, 69) => "tftp",
                    _ => "ftp",
                });
        let d = cx
            .diag(
                &INFO,
                format!("allow rule `{}` permits `{name}`", r.name),
                r.span,
                "cleartext protocol",
            )
            .with_note(cx.permitted_note(&f))
            .with_help("use ssh / sftp instead; telnet and ftp send credentials in cleartext");
        cx.push(d);
    }
}
