//! Checks every target shares, run on the plan before and after a target
//! renders: what the target cannot represent is an error (E0308: an expiry
//! date beyond the target's range), what no firewall of this kind can
//! enforce is a warning (W0303: traffic inside one subnet of a zone never
//! crosses a layer-3 device), and text the target's limit cuts is a
//! warning (W0304), never silent.

use std::collections::BTreeSet;

use zonal_diagnostics::{Diagnostic, Diagnostics, Severity};
use zonal_model::{Action, AddrSet, Rule};

use crate::Target;
use crate::escape;
use crate::plan::FirewallPlan;

/// The rules the plan renders, once each, in rule order.
fn rendered_rules<'p>(plan: &FirewallPlan<'p>) -> Vec<&'p Rule> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    {
        for e in plan.all_entries() {
            for r in std::iter::once(e.rule).chain(e.also.iter().copied()) {
                if seen.insert(r.id) {
                    out.push(r);
                }
            }
        }
    }
    out.sort_by_key(|r| r.id);
    out
}

/// E0308 for every rendered rule whose `until` lies beyond the last date
/// the target can hold: rendered without its expiry it would permit more
/// than written after that date, and a wrapped date would end it at once.
pub(crate) fn dates(target: Target, plan: &FirewallPlan<'_>) -> Diagnostics {
    let mut out = Diagnostics::new();
    let Some(last) = escape::limits(target).last_until else {
        return out;
    };
    for r in rendered_rules(plan) {
        let Some(until) = r.until.filter(|u| *u > last) else {
            continue;
        };
        out.push(
            Diagnostic::error(
                "E0308",
                format!(
                    "rule `{}` expires on {until}, later than {target} can enforce an expiry (the last day it can hold is {last})",
                    r.name
                ),
                r.span,
                "expiry out of the target's range",
            )
            .with_help(format!(
                "write `until {last}` or earlier and renew the rule then, or leave out `until` and remove the rule by hand; see docs/targets/{target}.md"
            )),
        );
    }
    out
}

/// Same-zone entries, zone by zone: a pair's own (narrow) entries, then
/// the wide entries restricted to the zone.
fn same_zone_entries<'a>(
    plan: &'a FirewallPlan<'_>,
) -> Vec<(crate::plan::PlanZoneId, &'a Rule, AddrSet, AddrSet)> {
    // Found through the zone index: linear in the zones each wide entry
    // meets, not every zone times every wide entry.
    let mut same_zone: Vec<(crate::plan::PlanZoneId, &Rule, AddrSet, AddrSet)> = Vec::new();
    let mut own: std::collections::BTreeMap<crate::plan::PlanZoneId, &crate::plan::Pair<'_>> =
        std::collections::BTreeMap::new();
    for pair in plan.narrow.iter().filter(|p| p.src == p.dst) {
        own.entry(pair.src).or_insert(pair);
    }
    let mut wide_in: std::collections::BTreeMap<
        crate::plan::PlanZoneId,
        Vec<(&Rule, AddrSet, AddrSet)>,
    > = std::collections::BTreeMap::new();
    for e in &plan.wide {
        let dsts: std::collections::BTreeMap<_, _> = plan.zone_parts(&e.dst).into_iter().collect();
        for (zi, s) in plan.zone_parts(&e.src) {
            if let Some(d) = dsts.get(&zi) {
                wide_in.entry(zi).or_default().push((e.rule, s, d.clone()));
            }
        }
    }
    for (zi, _) in plan.zone_ids() {
        if let Some(pair) = own.get(&zi) {
            for e in pair.entries.iter().filter(|e| !e.injected) {
                same_zone.push((zi, e.rule, e.src.clone(), e.dst.clone()));
            }
        }
        for (rule, s, d) in wide_in.remove(&zi).unwrap_or_default() {
            same_zone.push((zi, rule, s, d));
        }
    }
    same_zone
}

/// W0303 for every rendered rule written between named endpoints (not
/// `any`) that covers traffic between two addresses of one subnet of a zone: such packets go from host to host on the
/// segment and never reach a layer-3 firewall, so the rule (allow or
/// deny) is not enforced there.
pub(crate) fn same_subnet(target: Target, plan: &FirewallPlan<'_>) -> Diagnostics {
    let mut out = Diagnostics::new();
    let mut warned = BTreeSet::new();
    // Allows inside one subnet: one warning per subnet, naming the rules
    // (the traffic flows anyway; the point is that nothing restricts it).
    let mut allows: std::collections::BTreeMap<(String, String), Vec<&Rule>> =
        std::collections::BTreeMap::new();
    // Same-zone entries: a pair's own (narrow) entries, then the wide
    // entries restricted to the zone.
    let same_zone = same_zone_entries(plan);
    for (zi, rule, src, dst) in &same_zone {
        let zone = &plan[*zi];
        if zone.pseudo {
            continue;
        }
        let Some(z) = plan.policy.zone_by_name(&zone.name) else {
            continue;
        };
        {
            // `a -> any` covers `a -> a` only incidentally: warn about the
            // rules written between named endpoints.
            let names_any =
                |w: &[(String, zonal_diagnostics::Span)]| w.iter().any(|(n, _)| n == "any");
            if names_any(&rule.src_written) || names_any(&rule.dst_written) {
                continue;
            }
            let subnet = z.networks.iter().find(|n| {
                let n = AddrSet::from_prefixes([*n]);
                !src.intersect(&n).is_empty() && !dst.intersect(&n).is_empty()
            });
            let Some(subnet) = subnet else { continue };
            if !warned.insert(rule.id) {
                continue;
            }
            if rule.action == Action::Allow {
                allows
                    .entry((zone.name.clone(), subnet.to_string()))
                    .or_default()
                    .push(*rule);
                continue;
            }
            // A deny inside one subnet is the dangerous case: the traffic
            // flows anyway. One warning per rule.
            out.push(
                Diagnostic::new(
                    "W0303",
                    Severity::Low,
                    format!(
                        "rule `{}` denies traffic inside `{subnet}` of zone `{}`, which never crosses the {target} firewall: it is not enforced",
                        rule.name, zone.name
                    ),
                    rule.span,
                    "not enforced by a layer-3 firewall",
                )
                .with_help(
                    "hosts of one subnet talk directly; enforce this with host firewalls, private VLANs or a separate zone behind the firewall",
                ),
            );
        }
    }
    for ((zone, subnet), rules) in allows {
        let Some((first, rest)) = rules.split_first() else {
            continue;
        };
        let names: Vec<String> = rules.iter().map(|r| format!("`{}`", r.name)).collect();
        let mut d = Diagnostic::new(
            "W0303",
            Severity::Low,
            format!(
                "{} rule(s) permit traffic inside `{subnet}` of zone `{zone}`, which never crosses the {target} firewall: nothing restricts traffic inside that subnet",
                rules.len()
            ),
            first.span,
            "inside one subnet",
        )
        .with_note(format!("rules: {}", names.join(", ")))
        .with_help(
            "hosts of one subnet reach each other directly, on every port; to restrict them, use host firewalls, private VLANs or separate zones behind the firewall",
        );
        for r in rest.iter().take(8) {
            d = d.with_secondary(r.span, "also inside the subnet");
        }
        out.push(d);
    }
    out
}

/// W0304 for every rendered rule whose comment (name, leg, expiry and
/// justification) the target's comment limit cuts. FortiGate (W0321) and
/// ASA (W0322) compose their comments themselves and warn themselves.
pub(crate) fn cut_comments(target: Target, plan: &FirewallPlan<'_>) -> Diagnostics {
    let mut out = Diagnostics::new();
    if matches!(target, Target::Fortigate | Target::Asa) {
        return out;
    }
    let max = escape::limits(target).comment_max;
    let mut warned = BTreeSet::new();
    {
        for e in plan.all_entries() {
            if e.rule.justification.is_none() || !warned.insert(e.rule.id) {
                continue;
            }
            let (_, cut) = escape::free_text(escape::keeps_unicode(target), &e.comment_raw(), max);
            if !cut {
                continue;
            }
            out.push(
                Diagnostic::new(
                    "W0304",
                    Severity::Low,
                    format!(
                        "the justification of rule `{}` is cut to {max} bytes on {target}",
                        e.rule.name
                    ),
                    e.rule.span,
                    "shortened in the rendered comment",
                )
                .with_help(format!(
                    "shorten the justification, or keep the details in the policy (the rule's name and the policy's digest lead back to it); {target} comments hold {max} bytes"
                )),
            );
        }
    }
    out
}

/// E0342: two zones whose names sanitise alike (or a zone named like the
/// pseudo zone `unzoned`) would become one SRX or PAN-OS zone: each would
/// match the other's traffic. FortiGate (E0333) and ASA (E0332) check their
/// own names.
pub(crate) fn vendor_zone_collisions(target: Target, plan: &FirewallPlan<'_>) -> Diagnostics {
    let mut out = Diagnostics::new();
    if !matches!(target, Target::Srx | Target::Panos) {
        return out;
    }
    let mut seen: std::collections::BTreeMap<String, (&str, bool)> =
        std::collections::BTreeMap::new();
    for z in &plan.zones {
        let name = crate::targets::vendor_zone_name(target, z);
        match seen.get(name.as_str()).copied() {
            None => {
                seen.insert(name, (&z.name, z.pseudo));
            }
            Some((first, first_pseudo)) => {
                let message = if first_pseudo || z.pseudo {
                    let user = if z.pseudo { first } else { z.name.as_str() };
                    format!(
                        "zone `{user}` takes the {target} zone `{name}`, which Zonal uses for addresses in no zone"
                    )
                } else {
                    format!(
                        "zones `{first}` and `{}` both become the {target} zone `{name}`",
                        z.name
                    )
                };
                let span = plan
                    .policy
                    .zone_by_name(&z.name)
                    .or_else(|| plan.policy.zone_by_name(first))
                    .map_or(plan.policy.header_span, |p| p.decl_span);
                let mut d = Diagnostic::error(
                    "E0342",
                    message,
                    span,
                    "a second zone with this vendor name",
                )
                .with_help("rename one of the zones, or give each its own `vendor-zone` in the deployment binding");
                if let Some(f) = plan.policy.zone_by_name(first)
                    && f.decl_span != span
                {
                    d = d.with_secondary(f.decl_span, "the first zone");
                }
                out.push(d);
            }
        }
    }
    out
}
