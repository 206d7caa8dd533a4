//! L0404 `any-service`: an allow rule for every service, or every
//! TCP or UDP port.
//!
//! NIST SP 800-82 §5.8 and the NHS imaging pattern: permit service by
//! service. An any-service rule to a PACS exposes its RDP, SMB and database.

use zonal_diagnostics::Severity;
use zonal_model::service::{TCP, UDP};

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0404",
    name: "any-service",
    severity: Severity::High,
    summary: "allow rule for every service or every TCP/UDP port",
    doc: lint_doc!("L0404"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let probe = super::services(&[(TCP, 445, 445), (UDP, 161, 161)]);
    let rules: Vec<_> = cx.active_allows().collect();
    for r in rules {
        let Some(term) = r.terms.iter().find(|t| {
            t.services.is_any() || t.services.has_whole(TCP) || t.services.has_whole(UDP)
        }) else {
            continue;
        };
        let what = if term.services.is_any() {
            "every service".to_string()
        } else {
            format!("`{}`", term.services)
        };
        let mut d = cx.diag(
            &INFO,
            format!("allow rule `{}` permits {what}", r.name),
            r.span,
            "any service",
        );
        let f = cx
            .rule_witness(r.id, &|_| true, &|_| true, Some(&probe))
            .or_else(|| cx.rule_witness(r.id, &|_| true, &|_| true, None));
        if let Some(f) = f {
            d = d.with_note(cx.permitted_note(&f));
        }
        let d = d.with_help("name the services the flow needs (e.g. `dicom`, `https`)");
        cx.push(d);
    }
}
