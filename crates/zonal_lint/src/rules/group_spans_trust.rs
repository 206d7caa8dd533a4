//! L0106 `group-spans-trust`: a group whose members lie in zones of different trust.
//!
//! One rule written for the group silently grants the same access to
//! members of very different trust (Wool's zone-spanning objects).
//!
//! A group that active allow rules use only as a source of infrastructure
//! services — DNS, NTP, syslog (also over TLS) and SNMP traps — toward
//! destinations that are neither clinical nor untrusted is not reported:
//! "every host sends its logs to the SIEM" grants no access that differs
//! by trust. Any other use (a destination, another service, a clinical
//! destination) makes it a finding again.

use std::collections::BTreeMap;

use zonal_diagnostics::Severity;
use zonal_model::service::{TCP, UDP};
use zonal_model::{Action, Endpoint, Group, Policy, ServiceSet, Trust};

use crate::ctx::{CLINICAL_DEVICE_KINDS, Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0106",
    name: "group-spans-trust",
    severity: Severity::Medium,
    summary: "group whose members lie in zones of different trust",
    doc: lint_doc!("L0106"),
};

/// Infrastructure services whose flows end in a collector or a resolver:
/// DNS, NTP, syslog, syslog over TLS, SNMP traps.
pub(crate) fn infrastructure_sinks() -> ServiceSet {
    super::services(&[
        (UDP, 53, 53),
        (TCP, 53, 53),
        (UDP, 123, 123),
        (UDP, 514, 514),
        (TCP, 6514, 6514),
        (UDP, 162, 162),
    ])
}

/// Whether every active allow rule naming the group uses it only as a
/// source of infrastructure services toward a destination that is neither
/// clinical nor untrusted (and at least one does).
fn infrastructure_source_only(p: &Policy, g: &Group) -> bool {
    let sinks = infrastructure_sinks();
    let names = |w: &[(String, zonal_diagnostics::Span)]| w.iter().any(|(n, _)| *n == g.name);
    let plain_dst = |e: &Endpoint| match e {
        Endpoint::Zone(z) => {
            let z = p.zone(*z);
            !zones::is_clinical(z) && !zones::is_untrusted(z)
        }
        Endpoint::Device(d) => {
            let dev = p.device(*d);
            let z = p.zone(dev.zone);
            !zones::is_clinical(z)
                && !zones::is_untrusted(z)
                && !dev
                    .kind
                    .as_deref()
                    .is_some_and(|k| CLINICAL_DEVICE_KINDS.contains(&k))
        }
        Endpoint::Any => false,
    };
    let mut used = false;
    for r in p
        .rules
        .iter()
        .filter(|r| r.is_active() && r.action == Action::Allow)
    {
        if names(&r.dst_written) {
            return false;
        }
        if !names(&r.src_written) {
            continue;
        }
        let services = r
            .services_written
            .iter()
            .fold(ServiceSet::empty(), |a, u| a.union(&u.set));
        if !services.is_subset(&sinks) || !r.dst.iter().all(plain_dst) {
            return false;
        }
        used = true;
    }
    used
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    for g in &p.groups {
        if infrastructure_source_only(p, g) {
            continue;
        }
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
