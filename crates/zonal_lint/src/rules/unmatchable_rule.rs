//! L0203 `unmatchable-rule`: an enforced rule that no packet can match.
//!
//! Its sources or destinations have no address, its services are empty,
//! its sources and destinations share no address family (IPv4 to IPv6),
//! its services exist only in the other family (ICMPv6 between IPv4-only
//! zones), or its only source and destination is one address (a host
//! talking to itself never crosses the firewall).
//! Batfish calls this `INDEPENDENTLY_UNMATCHABLE`. Expired rules are
//! reported by `expired-flow` instead.

use zonal_diagnostics::Severity;

use crate::ctx::{Ctx, rule_ref};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0203",
    name: "unmatchable-rule",
    severity: Severity::High,
    summary: "rule that no packet can match",
    doc: lint_doc!("L0203"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let an = cx.an();
    for r in cx.policy.rules.iter().filter(|r| r.is_active()) {
        let range = an.rule_terms[r.id.index()].clone();
        let mut reason = None;
        let mut matchable = false;
        for t in range {
            let info = &an.terms[t as usize];
            if an.services(t).is_empty() {
                reason.get_or_insert_with(|| "its services are empty".to_string());
            } else if info.src.is_empty() {
                reason.get_or_insert_with(|| "its sources have no addresses".to_string());
            } else if info.dst.is_empty() {
                reason.get_or_insert_with(|| "its destinations have no addresses".to_string());
            } else if let Some(why) = an.unmatchable_reason(info) {
                reason.get_or_insert_with(|| why.to_string());
            } else {
                matchable = true;
            }
        }
        if matchable {
            continue;
        }
        let reason = reason.unwrap_or_else(|| "it has no packet-level terms".to_string());
        let d = cx
            .diag(
                &INFO,
                format!("{} can never match a packet", rule_ref(r)),
                r.span,
                "matches nothing",
            )
            .with_note(format!("witness: {reason}"))
            .with_help("fix the endpoints or services, or remove the rule");
        cx.push(d);
    }
}
