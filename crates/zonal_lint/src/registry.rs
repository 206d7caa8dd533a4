//! The lint registry: one entry per lint, code to rule.

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
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

/// A policy lint's check.
pub(crate) type Run = fn(&mut Ctx<'_, '_>);

/// When, and on which thread, a lint runs.
#[derive(Clone, Copy)]
pub(crate) enum Schedule {
    /// A policy lint, run on the caller's thread.
    Policy(Run),
    /// A policy lint that costs the most on large policies (one pass over
    /// the strongly connected components plus a path per finding): it runs
    /// on its own thread while the others run on the caller's, and its
    /// findings come after theirs.
    Heavy(Run),
    /// A lint about `@suppress` annotations: [`crate::suppress`] runs it
    /// once suppressed findings are removed, as it needs to know which
    /// suppressions were used.
    Suppression,
}

/// One row of the registration table.
pub(crate) struct Lint {
    /// What the lint is.
    pub(crate) info: LintInfo,
    /// How it runs.
    pub(crate) schedule: Schedule,
}

/// Every lint, ordered by code: the one registration table. Adding a lint
/// is a rule file under `rules/`, a row here, its page under
/// `docs/diagnostics/` and its fixtures under `policies/lint/`.
pub(crate) const LINTS: &[Lint] = &[
    Lint {
        info: rules::unused_zone::INFO,
        schedule: Schedule::Policy(rules::unused_zone::run),
    },
    Lint {
        info: rules::unused_service::INFO,
        schedule: Schedule::Policy(rules::unused_service::run),
    },
    Lint {
        info: rules::unused_device::INFO,
        schedule: Schedule::Policy(rules::unused_device::run),
    },
    Lint {
        info: rules::zone_missing_attributes::INFO,
        schedule: Schedule::Policy(rules::zone_missing_attributes::run),
    },
    Lint {
        info: rules::zone_mixes_wireless_clinical::INFO,
        schedule: Schedule::Policy(rules::zone_mixes_wireless_clinical::run),
    },
    Lint {
        info: rules::group_spans_trust::INFO,
        schedule: Schedule::Policy(rules::group_spans_trust::run),
    },
    Lint {
        info: rules::external_covers_private::INFO,
        schedule: Schedule::Policy(rules::external_covers_private::run),
    },
    Lint {
        info: rules::shadowed_rule::INFO,
        schedule: Schedule::Policy(rules::shadowed_rule::run),
    },
    Lint {
        info: rules::redundant_rule::INFO,
        schedule: Schedule::Policy(rules::redundant_rule::run),
    },
    Lint {
        info: rules::unmatchable_rule::INFO,
        schedule: Schedule::Policy(rules::unmatchable_rule::run),
    },
    Lint {
        info: rules::allow_deny_overlap::INFO,
        schedule: Schedule::Policy(rules::allow_deny_overlap::run),
    },
    Lint {
        info: rules::untrusted_reaches_legacy::INFO,
        schedule: Schedule::Policy(rules::untrusted_reaches_legacy::run),
    },
    Lint {
        info: rules::modality_internet_egress::INFO,
        schedule: Schedule::Policy(rules::modality_internet_egress::run),
    },
    Lint {
        info: rules::internet_inbound::INFO,
        schedule: Schedule::Policy(rules::internet_inbound::run),
    },
    Lint {
        info: rules::guest_to_clinical::INFO,
        schedule: Schedule::Policy(rules::guest_to_clinical::run),
    },
    Lint {
        info: rules::never_violated::INFO,
        schedule: Schedule::Policy(rules::never_violated::run),
    },
    Lint {
        info: rules::required_flow_missing::INFO,
        schedule: Schedule::Policy(rules::required_flow_missing::run),
    },
    Lint {
        info: rules::vendor_access_not_brokered::INFO,
        schedule: Schedule::Policy(rules::vendor_access_not_brokered::run),
    },
    Lint {
        info: rules::admin_from_non_management::INFO,
        schedule: Schedule::Policy(rules::admin_from_non_management::run),
    },
    Lint {
        info: rules::blast_radius::INFO,
        schedule: Schedule::Heavy(rules::blast_radius::run),
    },
    Lint {
        info: rules::cleartext_across_boundary::INFO,
        schedule: Schedule::Policy(rules::cleartext_across_boundary::run),
    },
    Lint {
        info: rules::telnet_or_ftp::INFO,
        schedule: Schedule::Policy(rules::telnet_or_ftp::run),
    },
    Lint {
        info: rules::smb_to_legacy::INFO,
        schedule: Schedule::Policy(rules::smb_to_legacy::run),
    },
    Lint {
        info: rules::any_service::INFO,
        schedule: Schedule::Policy(rules::any_service::run),
    },
    Lint {
        info: rules::any_address::INFO,
        schedule: Schedule::Policy(rules::any_address::run),
    },
    Lint {
        info: rules::broad_port_range::INFO,
        schedule: Schedule::Policy(rules::broad_port_range::run),
    },
    Lint {
        info: rules::remote_control_to_legacy::INFO,
        schedule: Schedule::Policy(rules::remote_control_to_legacy::run),
    },
    Lint {
        info: rules::reverse_leg_missing::INFO,
        schedule: Schedule::Policy(rules::reverse_leg_missing::run),
    },
    Lint {
        info: rules::reverse_leg_too_broad::INFO,
        schedule: Schedule::Policy(rules::reverse_leg_too_broad::run),
    },
    Lint {
        info: rules::workflow_listener_undeclared::INFO,
        schedule: Schedule::Policy(rules::workflow_listener_undeclared::run),
    },
    Lint {
        info: rules::expired_flow::INFO,
        schedule: Schedule::Policy(rules::expired_flow::run),
    },
    Lint {
        info: rules::suppression_without_reason::INFO,
        schedule: Schedule::Suppression,
    },
    Lint {
        info: rules::expired_suppression::INFO,
        schedule: Schedule::Suppression,
    },
    Lint {
        info: rules::unused_suppression::INFO,
        schedule: Schedule::Suppression,
    },
];

/// The [`LintInfo`] of every lint, ordered by code (built from [`LINTS`]).
pub(crate) static REGISTRY: [LintInfo; LINTS.len()] = {
    let mut out = [LINTS[0].info; LINTS.len()];
    let mut i = 0;
    while i < LINTS.len() {
        out[i] = LINTS[i].info;
        i += 1;
    }
    out
};

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
