//! Applying `@suppress` annotations, and the suppression lints.

use zonal_diagnostics::Diagnostic;

use crate::ctx::Ctx;
use crate::registry::find_lint;
use crate::rules::{expired_suppression, suppression_without_reason, unused_suppression};

/// Removes suppressed findings from `cx.out`, then adds the findings about
/// suppressions. Returns every finding that is not suppressed.
pub(crate) fn apply(cx: &mut Ctx<'_, '_>) -> Vec<Diagnostic> {
    let findings = std::mem::take(&mut cx.out);
    let sups = &cx.policy.suppressions;
    let today = cx.policy.today;
    let active: Vec<bool> = sups
        .iter()
        .map(|s| s.until.is_none_or(|u| u >= today))
        .collect();
    let codes: Vec<Option<&str>> = sups
        .iter()
        .map(|s| find_lint(&s.lint).map(|l| l.code))
        .collect();
    let mut used = vec![false; sups.len()];
    let mut kept = Vec::with_capacity(findings.len());
    for d in findings {
        let span = d.primary.span;
        let mut suppressed = false;
        for (i, s) in sups.iter().enumerate() {
            if active[i]
                && codes[i] == Some(d.code)
                && s.target.file == span.file
                && s.target.range.start <= span.range.start
                && span.range.end <= s.target.range.end
            {
                used[i] = true;
                suppressed = true;
            }
        }
        if !suppressed {
            kept.push(d);
        }
    }
    if cx.config.enabled(&suppression_without_reason::INFO) {
        suppression_without_reason::report(cx);
    }
    if cx.config.enabled(&expired_suppression::INFO) {
        expired_suppression::report(cx, &active);
    }
    if cx.config.enabled(&unused_suppression::INFO) {
        unused_suppression::report(cx, &active, &used);
    }
    kept.append(&mut cx.out);
    kept
}
