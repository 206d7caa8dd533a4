//! L0701 `suppression-without-reason`: an `@suppress` without a reason.
//!
//! A suppression hides a finding from every later reviewer; the reason is
//! the record of why that is acceptable (checkov, kube-linter, clippy's
//! `reason =`).

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0701",
    name: "suppression-without-reason",
    severity: Severity::Medium,
    summary: "suppression without a reason",
    doc: lint_doc!("L0701"),
};

/// Reports suppressions whose reason is missing or blank.
pub(crate) fn report(cx: &mut Ctx<'_, '_>) {
    for s in &cx.policy.suppressions {
        if s.reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
            continue;
        }
        let d = cx
            .diag(
                &INFO,
                format!("suppression of `{}` has no reason", s.lint),
                s.span,
                "no reason",
            )
            .with_note("witness: the annotation has no reason string")
            .with_help(format!(
                "write why the finding is acceptable: `@suppress {} \"reason\"`",
                s.lint
            ));
        cx.push(d);
    }
}
