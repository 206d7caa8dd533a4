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
use zonal_model::{Action, Endpoint, Policy, ServiceSet, Trust};

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

/// Whether a destination is neither clinical nor untrusted: a zone that is
/// neither, or a device in such a zone whose kind is not clinical.
fn plain_destination(p: &Policy, e: &Endpoint) -> bool {
    match e {
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
    }
}

/// For each group, whether every active allow rule naming it uses it only
/// as a source of infrastructure services toward a destination that is
/// neither clinical nor untrusted (and at least one does). One pass over
/// the rules, indexed by the names they write, rather than one pass per
/// group (groups × rules name compares on large policies); the result is
/// the same whatever the order the rules are seen in.
fn infrastructure_source_only(p: &Policy) -> Vec<bool> {
    let sinks = infrastructure_sinks();
    let plain_dst = |e: &Endpoint| plain_destination(p, e);
    // Per group: (used as an infrastructure source, used otherwise).
    let index: BTreeMap<&str, usize> = p
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), i))
        .collect();
    let mut state = vec![(false, false); p.groups.len()];
    for r in p
        .rules
        .iter()
        .filter(|r| r.is_active() && r.action == Action::Allow)
    {
        for (n, _) in &r.dst_written {
            if let Some(i) = index.get(n.as_str()) {
                state[*i].1 = true;
            }
        }
        let mut plain: Option<bool> = None;
        for (n, _) in &r.src_written {
            let Some(i) = index.get(n.as_str()) else {
                continue;
            };
            let ok = *plain.get_or_insert_with(|| {
                let services = r
                    .services_written
                    .iter()
                    .fold(ServiceSet::empty(), |a, u| a.union(&u.set));
                services.is_subset(&sinks) && r.dst.iter().all(plain_dst)
            });
            if ok {
                state[*i].0 = true;
            } else {
                state[*i].1 = true;
            }
        }
    }
    state
        .into_iter()
        .map(|(used, other)| used && !other)
        .collect()
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    let infra_only = infrastructure_source_only(p);
    for (g, skip) in p.groups.iter().zip(infra_only) {
        if skip {
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

#[cfg(test)]
mod tests {
    use super::*;
    use zonal_model::{Date, Group, Options, load_str};

    /// The slow twin of [`infrastructure_source_only`]: every group scans
    /// every active allow rule, comparing names.
    fn per_group(p: &Policy, g: &Group) -> bool {
        let sinks = infrastructure_sinks();
        let names = |w: &[(String, zonal_diagnostics::Span)]| w.iter().any(|(n, _)| *n == g.name);
        let plain_dst = |e: &Endpoint| plain_destination(p, e);
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

    /// The one-pass index agrees with the per-group scan on seeded small
    /// and tiny policies, and on a policy where a group is an
    /// infrastructure source only, one where it is also a destination and
    /// one where it sends another service.
    #[test]
    fn index_matches_per_group_scan() {
        let options = Options {
            today: Date::new(2026, 11, 28).unwrap(),
        };
        let base = "policy t { owner \"t\" }\n\
                    zone a { network 10.0.1.0/24 trust high kind servers device a1 { address 10.0.1.5 } }\n\
                    zone b { network 10.0.2.0/24 trust low kind staff device b1 { address 10.0.2.5 } }\n\
                    zone log { network 10.0.3.0/24 trust high kind servers device siem { address 10.0.3.5 } }\n\
                    group both = a1, b1\n\
                    allow both -> siem : syslog\n";
        let mut texts = vec![
            base.to_string(),
            format!("{base}allow siem -> both : ssh\n"),
            format!("{base}allow both -> siem : ssh\n"),
        ];
        for seed in 0..40u64 {
            texts.push(zonal_synth::generate(&zonal_synth::SynthConfig::small(
                seed,
            )));
            texts.push(zonal_synth::generate_tiny(seed));
        }
        let mut groups = 0;
        let mut infra = 0;
        for text in &texts {
            let loaded = load_str("t.zonal", text, &options);
            let Some(p) = &loaded.policy else {
                assert!(!text.starts_with("policy t "), "{text}");
                continue;
            };
            let fast = infrastructure_source_only(p);
            let slow: Vec<bool> = p.groups.iter().map(|g| per_group(p, g)).collect();
            assert_eq!(fast, slow, "{text}");
            groups += slow.len();
            infra += slow.iter().filter(|b| **b).count();
        }
        assert!(groups > 40, "only {groups} groups");
        assert!(infra >= 1, "no infrastructure-only group");
    }
}
