//! L0702 `expired-suppression`: an `@suppress` past its `until` date.
//!
//! It no longer applies: the finding it silenced is reported again.

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0702",
    name: "expired-suppression",
    severity: Severity::High,
    summary: "suppression past its expiry date",
    doc: lint_doc!("L0702"),
};

/// Reports the expired suppressions (`active[i]` is false).
pub(crate) fn report(cx: &mut Ctx<'_, '_>, active: &[bool]) {
    for (s, active) in cx.policy.suppressions.iter().zip(active) {
        if *active {
            continue;
        }
        let until = s.until.map(|u| u.to_string()).unwrap_or_default();
        let d = cx
            .diag(
                &INFO,
                format!("suppression of `{}` expired on {until}", s.lint),
                s.span,
                "expired",
            )
            .with_note(format!(
                "witness: today is {}; the suppression no longer applies",
                cx.policy.today
            ))
            .with_help("fix the finding, or renew the suppression with a new date and reason");
        cx.push(d);
    }
}
