//! L0601 `expired-flow`: a flow past its `until` date.
//!
//! An expired flow is no longer enforced and not rendered: the access it
//! granted is denied. Remove it, or renew it if the access is still needed.

use std::collections::BTreeSet;

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0601",
    name: "expired-flow",
    severity: Severity::Medium,
    summary: "flow past its expiry date (no longer enforced)",
    doc: lint_doc!("L0601"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let mut seen = BTreeSet::new();
    for r in cx.policy.rules.iter().filter(|r| r.expired) {
        if !seen.insert(r.span) {
            continue;
        }
        let until = r.until.map(|u| u.to_string()).unwrap_or_default();
        let d = cx
            .diag(&INFO, format!("{} rule `{}` expired on {until}", r.action.as_str(), r.name), r.span, "expired")
            .with_note(format!(
                "witness: today is {}; the rule is not enforced and not rendered, so the traffic it {} now falls to the other rules",
                cx.policy.today,
                if r.action == zonal_model::Action::Allow { "allowed" } else { "denied" }
            ))
            .with_help("delete the rule, or move `until` forward if the access is still approved");
        cx.push(d);
    }
}
