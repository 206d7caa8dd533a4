//! L0104 `zone-missing-attributes`: an internal zone without `trust` or `kind`.
//!
//! The intent lints (untrusted-reaches-legacy, guest-to-clinical, blast
//! radius, …) can only reason about zones whose trust and kind are known
//! (IEC 62443-3-2 ZCR 6.4: zone characteristics).

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0104",
    name: "zone-missing-attributes",
    severity: Severity::Medium,
    summary: "internal zone without a trust level or a kind",
    doc: lint_doc!("L0104"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    for z in &cx.policy.zones {
        if z.external {
            continue;
        }
        let missing: Vec<&str> = [("trust", z.trust.is_none()), ("kind", z.kind.is_none())]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| *n)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let what = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        let d = cx
            .diag(&INFO, format!("zone `{}` has no {what}", z.name), z.span, "declared here")
            .with_note("witness: the intent lints treat a zone without trust or kind as neither trusted nor clinical, so they cannot check it")
            .with_help("add e.g. `trust medium` and `kind servers` to the zone");
        cx.push(d);
    }
}
