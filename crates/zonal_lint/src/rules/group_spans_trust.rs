//! L0106 `group-spans-trust`: a group whose members lie in zones of different trust.
//!
//! One rule written for the group silently grants the same access to
//! members of very different trust (Wool's zone-spanning objects).

use std::collections::BTreeMap;

use zonal_diagnostics::Severity;
use zonal_model::{Endpoint, Trust};

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0106",
    name: "group-spans-trust",
    severity: Severity::Medium,
    summary: "group whose members lie in zones of different trust",
    doc: lint_doc!("L0106"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    for g in &p.groups {
        let mut by_trust: BTreeMap<Trust, (&str, &str)> = BTreeMap::new();
        for m in &g.members {
            let zone = match m {
                Endpoint::Zone(z) => p.zone(*z),
                Endpoint::Device(d) => p.zone(p.device(*d).zone),
                Endpoint::Any => continue,
            };
            if let Some(t) = zone.trust {
                by_trust
                    .entry(t)
                    .or_insert((p.endpoint_name(*m), zone.name.as_str()));
            }
        }
        if by_trust.len() < 2 {
            continue;
        }
        let (lo_t, lo) = by_trust
            .first_key_value()
            .map(|(t, v)| (*t, *v))
            .unwrap_or((Trust::Low, ("", "")));
        let (hi_t, hi) = by_trust
            .last_key_value()
            .map(|(t, v)| (*t, *v))
            .unwrap_or((Trust::Low, ("", "")));
        let d = cx
            .diag(
                &INFO,
                format!("group `{}` spans zones of different trust", g.name),
                g.span,
                "defined here",
            )
            .with_note(format!(
                "witness: member `{}` is in `{}` (trust {}) and member `{}` is in `{}` (trust {})",
                lo.0,
                lo.1,
                lo_t.as_str(),
                hi.0,
                hi.1,
                hi_t.as_str()
            ))
            .with_help(
                "split the group by trust level so each rule states which trust level it grants",
            );
        cx.push(d);
    }
}
