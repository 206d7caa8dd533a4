//! The lint registry: one entry per lint, code to rule.

use zonal_diagnostics::Severity;

use crate::rules;

/// What a lint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LintInfo {
    /// Stable code, `L0xxx`.
    pub code: &'static str,
    /// Stable kebab-case name, usable wherever the code is.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One-line summary.
    pub summary: &'static str,
    /// The documentation page (Markdown), `docs/diagnostics/<code>.md`.
    pub doc: &'static str,
}

impl LintInfo {
    /// The category, from the code's hundreds.
    pub fn category(&self) -> &'static str {
        match self.code.get(0..3) {
            Some("L01") => "structure",
            Some("L02") => "rule-anomaly",
            Some("L03") => "zone-intent",
            Some("L04") => "protocol-hygiene",
            Some("L05") => "workflow",
            Some("L06") => "time",
            Some("L07") => "suppression",
            _ => "other",
        }
    }
}

/// Every lint, ordered by code.
pub static REGISTRY: &[LintInfo] = &[
    rules::unused_zone::INFO,
    rules::unused_service::INFO,
    rules::unused_device::INFO,
    rules::zone_missing_attributes::INFO,
    rules::zone_mixes_wireless_clinical::INFO,
    rules::group_spans_trust::INFO,
    rules::shadowed_rule::INFO,
    rules::redundant_rule::INFO,
    rules::unmatchable_rule::INFO,
    rules::allow_deny_overlap::INFO,
    rules::untrusted_reaches_legacy::INFO,
    rules::modality_internet_egress::INFO,
    rules::internet_inbound::INFO,
    rules::guest_to_clinical::INFO,
    rules::never_violated::INFO,
    rules::required_flow_missing::INFO,
    rules::vendor_access_not_brokered::INFO,
    rules::admin_from_non_management::INFO,
    rules::blast_radius::INFO,
    rules::cleartext_across_boundary::INFO,
    rules::telnet_or_ftp::INFO,
    rules::smb_to_legacy::INFO,
    rules::any_service::INFO,
    rules::any_address::INFO,
    rules::broad_port_range::INFO,
    rules::reverse_leg_missing::INFO,
    rules::reverse_leg_too_broad::INFO,
    rules::expired_flow::INFO,
    rules::suppression_without_reason::INFO,
    rules::expired_suppression::INFO,
    rules::unused_suppression::INFO,
];

/// Finds a lint by code (`L0201`, any case) or name (`shadowed-rule`).
pub fn find_lint(code_or_name: &str) -> Option<&'static LintInfo> {
    REGISTRY
        .iter()
        .find(|l| l.code.eq_ignore_ascii_case(code_or_name) || l.name == code_or_name)
}

/// "no lint named `x`", with a did-you-mean hint when one is close.
pub(crate) fn unknown_lint_message(name: &str) -> String {
    match did_you_mean(name) {
        Some(s) => format!("no lint is named `{name}`; did you mean `{s}`?"),
        None => format!("no lint is named `{name}`"),
    }
}

/// The closest lint name, if it is close enough.
pub(crate) fn did_you_mean(name: &str) -> Option<&'static str> {
    zonal_syntax::suggest::did_you_mean(name, REGISTRY.iter().map(|l| l.name))
}
