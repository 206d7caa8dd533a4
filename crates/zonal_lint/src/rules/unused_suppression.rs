//! L0703 `unused-suppression`: an `@suppress` that silences nothing, or
//! names no lint.
//!
//! Stale suppressions hide the next real finding on the same item (ruff's
//! RUF100, clippy's `#[expect]`).

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
use crate::registry::{LintInfo, did_you_mean, find_lint};

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0703",
    name: "unused-suppression",
    severity: Severity::Low,
    summary: "suppression that silences no finding",
    doc: lint_doc!("L0703"),
};

/// Reports active suppressions that matched no finding.
pub(crate) fn report(cx: &mut Ctx<'_, '_>, active: &[bool], used: &[bool]) {
    for (i, s) in cx.policy.suppressions.iter().enumerate() {
        if !active[i] || used[i] {
            continue;
        }
        let d = match find_lint(&s.lint) {
            None => {
                let mut d = cx
                    .diag(&INFO, format!("suppression names unknown lint `{}`", s.lint), s.lint_span, "unknown lint")
                    .with_note("witness: no lint has this code or name, so the suppression silences nothing");
                d = match did_you_mean(&s.lint) {
                    Some(n) => d.with_help(format!("did you mean `{n}`?")),
                    None => d.with_help("run `zonal explain` with a lint code to see the catalogue in docs/lints.md"),
                };
                d
            }
            Some(info) if !cx.config.enabled(info) => continue,
            Some(info) => cx
                .diag(
                    &INFO,
                    format!("suppression of `{}` silences no finding", s.lint),
                    s.span,
                    "unused",
                )
                .with_note(format!(
                    "witness: `{}` reports nothing on the annotated item",
                    info.name
                ))
                .with_help("remove the suppression"),
        };
        cx.push(d);
    }
}
