//! Palo Alto PAN-OS (set commands): addresses and address-groups, TCP/UDP
//! service objects, applications for ICMP types and other IP protocols
//! (the predefined `ping`, `icmp`, `ipv6-icmp`, `ipsec-esp`, `gre` where
//! they are exact), non-recurring schedules for temporary flows, and
//! Zonal's security rules as one block.
//!
//! The firewall's own traffic: with `default-deny`, the binding's `device:`
//! block becomes allow rules at the top of the block, before any deny, each
//! limited to the firewall's addresses (E0343 without them where the
//! traffic is unicast); without it, nothing (the default rules decide).
//!
//! Ownership: Zonal's rules carry the tag `<prefix>-<policy>` and names
//! starting with `<prefix>-`; nothing else in the rulebase is deleted or
//! edited. The block is moved to the top of the rulebase (or after the
//! rule the binding names in `panos: { after: RULE }`), and ends with a
//! deny between Zonal's zones (inter-zone only; with `panos: {
//! default-deny: true }` it covers same-zone traffic too and the two
//! predefined default rules are set to deny and log). Stale rules of the
//! previous version are removed by deleting the rules with Zonal's tag
//! before the paste (docs/targets/panos.md, "Redeploy").
//!
//! One Zonal rule is one PAN-OS rule where it can be: its zone pairs merge
//! into zone lists when they form a product (every source zone with every
//! destination zone, with the same addresses per zone), and its IPv4 and
//! IPv6 halves merge when they match the same applications and services.
//! A catch-all external zone is written with `negate-destination` (or
//! `negate-source`) and its complement when that is shorter.
//!
//! PAN-OS service objects carry only TCP/UDP ports, so a rule whose services
//! mix ports and other protocols becomes two rules: one with `application
//! any` and the service objects, one with the applications and `service
//! application-default`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use zonal_diagnostics::{Diagnostic, Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_name};
use zonal_model::sets::IntervalSet;
use zonal_model::{Action, AddrSet, Date, Family, Prefix, ServiceSet};

use super::vendor::{self, Placed};
use crate::device::{DeviceTraffic, Fhrp, Routing};
use crate::escape::{Namer, comment, ident};
use crate::plan::{FamilyServices, FirewallPlan, Header, PlanZoneId, family_name};
use crate::{Artifact, Target, Templates};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.j2",
    include_str!("../../../../templates/panos/main.j2"),
)];

/// PAN-OS security rule names: at most 63 characters.
const RULE_NAME_MAX: usize = 63;

/// Renders the target.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view(plan)?;
    let mut out = {
        let n = view.rule_count;
        vendor::single_artifact(Target::Panos, templates, db, view, n)
    }?;
    if !plan.firewall.panos.default_deny
        && let Some(a) = out.first_mut()
    {
        a.warnings.push(same_zone_warning(plan));
    }
    Ok(out)
}

/// W0332: same-zone traffic is left to the predefined `intrazone-default`.
fn same_zone_warning(plan: &FirewallPlan<'_>) -> Diagnostic {
    let span = plan.firewall.span.unwrap_or(plan.policy.header_span);
    Diagnostic::new(
        "W0332",
        zonal_diagnostics::Severity::Low,
        format!(
            "PAN-OS firewall `{}`: traffic inside one zone that no rule of the policy matches is left to `intrazone-default` (allow)",
            plan.firewall.name
        ),
        span,
        "same-zone traffic is not denied by default here",
    )
    .with_note("PAN-OS filters traffic to the firewall's own interfaces as same-zone traffic (IKE, GlobalProtect, routing, management), so Zonal does not deny it unless asked")
    .with_help("add `panos: { default-deny: true }` to the firewall in the binding to deny same-zone traffic and set both default rules to deny and log")
}

/// The view model of `templates/panos/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PanView {
    /// Header.
    pub(crate) header: Header,
    /// The tag on every Zonal rule.
    pub(crate) tag: String,
    /// The rule Zonal's block is placed after (`None`: top).
    pub(crate) after: Option<String>,
    /// Zones.
    pub(crate) zones: Vec<PanZone>,
    /// Address objects.
    pub(crate) addresses: Vec<Address>,
    /// Address groups.
    pub(crate) address_groups: Vec<AddressGroup>,
    /// Service objects (one protocol each).
    pub(crate) services: Vec<Service>,
    /// Custom applications.
    pub(crate) applications: Vec<Application>,
    /// Non-recurring schedules for rules with `until`.
    pub(crate) schedules: Vec<Schedule>,
    /// Security rules in order (denies first), the final deny included.
    pub(crate) rules: Vec<SecurityRule>,
    /// Whether the predefined default rules are set to deny and log.
    pub(crate) default_deny: bool,
    /// Closing notes.
    pub(crate) notes: Vec<String>,
    /// Number of security rules, including the final deny.
    pub(crate) rule_count: usize,
}

/// A zone.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PanZone {
    /// Vendor zone name.
    pub(crate) name: String,
    /// Zonal zone name (sanitised).
    pub(crate) zonal: String,
    /// Layer-3 interfaces from the binding.
    pub(crate) interfaces: Vec<String>,
}

/// An address object.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Address {
    /// Name.
    pub(crate) name: String,
    /// `ip-netmask` value.
    pub(crate) prefix: String,
}

/// A static address group.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AddressGroup {
    /// Name.
    pub(crate) name: String,
    /// Member address names.
    pub(crate) members: Vec<String>,
}

/// A service object.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Service {
    /// Name.
    pub(crate) name: String,
    /// `tcp` or `udp`.
    pub(crate) protocol: String,
    /// `104,5000-5010`.
    pub(crate) ports: String,
}

/// A custom application identified by ICMP type or IP protocol.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Application {
    /// Name.
    pub(crate) name: String,
    /// `ident-by-icmp-type type 8`, `ident-by-icmp6-type type 128` or
    /// `ident-by-ip-protocol 47`.
    pub(crate) ident: String,
    /// Description (sanitised).
    pub(crate) description: String,
}

/// A non-recurring schedule.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Schedule {
    /// Name.
    pub(crate) name: String,
    /// `YYYY/MM/DD@hh:mm-YYYY/MM/DD@hh:mm`.
    pub(crate) range: String,
}

/// A security rule.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SecurityRule {
    /// Name.
    pub(crate) name: String,
    /// From-zones.
    pub(crate) from: Vec<String>,
    /// To-zones.
    pub(crate) to: Vec<String>,
    /// Source addresses or groups.
    pub(crate) source: Vec<String>,
    /// Whether the source matches every address except `source`.
    pub(crate) negate_source: bool,
    /// Destination addresses or groups.
    pub(crate) destination: Vec<String>,
    /// Whether the destination matches every address except `destination`.
    pub(crate) negate_destination: bool,
    /// Applications (`any`, or custom and predefined applications).
    pub(crate) applications: Vec<String>,
    /// Services (`any`, `application-default` or service objects).
    pub(crate) services: Vec<String>,
    /// `allow` or `deny`.
    pub(crate) action: String,
    /// `log-end` value (`yes` or `no`).
    pub(crate) log_end: String,
    /// `universal` or `interzone`.
    pub(crate) rule_type: String,
    /// Schedule, for rules with `until`.
    pub(crate) schedule: Option<String>,
    /// Description (sanitised).
    pub(crate) description: String,
}

/// One rule before its zone pairs and families are merged.
struct Part {
    /// Merge key: rule, action, family, services, schedule.
    key: (usize, String, Family, FamilyServices, Option<Date>),
    src: PlanZoneId,
    dst: PlanZoneId,
    src_addrs: AddrSet,
    /// The destinations (shared by the source zones of a wide entry).
    dst_addrs: Arc<AddrSet>,
    /// A wide entry's destination zones (see [`vendor::Placed::wide`]).
    wide: Option<Arc<vendor::Wide>>,
    family: Family,
    rule: String,
    description: String,
}

impl Part {
    /// The destination zones the part stands for.
    fn dst_zones(&self) -> &[PlanZoneId] {
        match &self.wide {
            Some(w) => &w.dsts,
            None => std::slice::from_ref(&self.dst),
        }
    }
}

/// Builds the PAN-OS view of a policy for a firewall.
#[expect(
    clippy::too_many_lines,
    reason = "the rules, merged, then the final deny and the view; the steps share the builder"
)]
pub(crate) fn view(plan: &FirewallPlan<'_>) -> Result<PanView, Diagnostics> {
    let (policy, firewall) = (plan.policy, plan.firewall);
    let prefix = &firewall.naming.prefix;
    let mut b = Builder::default();
    let tag = ident(Target::Panos, "", &format!("{prefix}-{}", policy.name));
    let zones: Vec<PanZone> = plan
        .zones
        .iter()
        .map(|z| PanZone {
            name: vendor::zone_name(Target::Panos, z),
            zonal: comment(Target::Panos, &z.name),
            interfaces: z.interface.iter().cloned().collect(),
        })
        .collect();
    let zone = |i: PlanZoneId| {
        zones
            .get(i.index())
            .map_or(String::new(), |z| z.name.clone())
    };
    let deny_name = b.namer.name_len(
        Target::Panos,
        "",
        &format!("{prefix}-{}-deny", policy.name),
        RULE_NAME_MAX,
    );
    let placed = vendor::placed(plan);
    let parts: Vec<Part> = placed
        .iter()
        .map(|p| part(plan, p, &b.rule_ids(plan, p)))
        .collect();
    // How many parts each rule has per family (once, not per group).
    let mut counts: BTreeMap<(usize, Family), usize> = BTreeMap::new();
    for p in &parts {
        *counts.entry((p.key.0, p.family)).or_default() += 1;
    }
    let mut rules = Vec::new();
    for group in merge_zone_pairs(parts) {
        b.rules(plan, &zone, prefix, &group, &counts, &mut rules);
    }
    let mut rules = merge_families(rules);
    let names: Vec<String> = rules
        .iter()
        .map(|r| b.namer.name_len(Target::Panos, "", &r.name, RULE_NAME_MAX))
        .collect();
    for (r, n) in rules.iter_mut().zip(names) {
        r.name = n;
    }
    let zone_names: Vec<String> = zones.iter().map(|z| z.name.clone()).collect();
    let default_deny = firewall.panos.default_deny;
    let mut notes = vendor::notes(plan);
    if default_deny {
        // The device's own traffic first: the predefined default rules
        // deny now, and Zonal's denies must not catch it.
        let mut device = device_rules(&mut b, plan, &mut notes)?;
        device.append(&mut rules);
        rules = device;
    }
    if default_deny || zone_names.len() > 1 {
        rules.push(SecurityRule {
            name: deny_name,
            from: zone_names.clone(),
            to: zone_names,
            source: vec!["any".into()],
            negate_source: false,
            destination: vec!["any".into()],
            negate_destination: false,
            applications: vec!["any".into()],
            services: vec!["any".into()],
            action: "deny".into(),
            log_end: "yes".into(),
            rule_type: if default_deny {
                "universal"
            } else {
                "interzone"
            }
            .into(),
            schedule: None,
            description: comment(
                Target::Panos,
                &format!(
                    "Zonal default deny between the zones of policy {}",
                    policy.name
                ),
            ),
        });
    }
    let rule_count = rules.len();
    Ok(PanView {
        header: Header::new(policy, firewall, Target::Panos),
        tag,
        after: firewall.panos.after.clone(),
        zones,
        addresses: b
            .addresses
            .prefixes
            .in_key_order()
            .into_iter()
            .map(|o| Address {
                name: o.name,
                prefix: o.value.to_string(),
            })
            .collect(),
        address_groups: b
            .addresses
            .groups
            .in_key_order()
            .into_iter()
            .map(|o| AddressGroup {
                name: o.name,
                members: o.value.1,
            })
            .collect(),
        services: b.services.into_values().collect(),
        applications: b.applications.into_values().collect(),
        schedules: b.schedules.into_values().collect(),
        rules,
        default_deny,
        notes: notes.iter().map(|n| comment(Target::Panos, n)).collect(),
        rule_count,
    })
}

/// The description every rule for the firewall's own traffic starts with.
const DEVICE_TRAFFIC: &str = "traffic to the firewall itself";

/// The security rules for the firewall's own traffic (the binding's
/// `device:` block), with `default-deny` only: each from any zone to any
/// zone, to the firewall's addresses (or the link-local groups and
/// broadcast its protocols use), with only the services it needs.
/// Management, BGP and IPsec are unicast to the firewall: without its
/// addresses they are refused (E0343) rather than permitted to any host.
#[expect(
    clippy::too_many_lines,
    reason = "one block per kind of device traffic, in the order the binding documents them"
)]
fn device_rules(
    b: &mut Builder,
    plan: &FirewallPlan<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<SecurityRule>, Diagnostics> {
    let fw = plan.firewall;
    let dev: &DeviceTraffic = &fw.device;
    let needs = dev.needs_addresses();
    if !needs.is_empty() && dev.addresses.is_empty() {
        let span = fw.span.unwrap_or(plan.policy.header_span);
        let mut d = Diagnostics::new();
        d.push(
            Diagnostic::error(
                "E0343",
                format!(
                    "the `device` block of `{}` needs the firewall's own addresses for {} (PAN-OS `default-deny`)",
                    fw.name,
                    needs
                        .iter()
                        .map(|w| format!("`{w}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                span,
                "unicast to the firewall, which a security rule names by address",
            )
            .with_help(
                "list the firewall's interface and loopback addresses under `device:` as `addresses: [10.20.110.1]`",
            ),
        );
        return Err(d);
    }
    let prefix = &fw.naming.prefix;
    let mine = AddrSet::from_prefixes(&dev.addresses);
    let set = |ps: &[Prefix]| AddrSet::from_prefixes(ps);
    let hosts = |v: &[&str]| -> AddrSet {
        let ps: Vec<Prefix> = v.iter().filter_map(|a| Prefix::parse(a).ok()).collect();
        AddrSet::from_prefixes(&ps)
    };
    let types = |proto: u8, ts: &[u16]| {
        ts.iter().fold(ServiceSet::empty(), |a, t| {
            a.union(&ServiceSet::proto(proto, IntervalSet::single(*t)))
        })
    };
    // (name, what, source, destination, services), both families.
    let mut items: Vec<(String, String, AddrSet, AddrSet, ServiceSet)> = Vec::new();
    if dev.icmp_errors {
        if mine.is_empty() {
            notes.push(
                "ICMP errors to the firewall itself are not permitted: the binding's `device:` block lists no `addresses`".into(),
            );
        } else {
            items.push((
                "icmp-errors".into(),
                "ICMP errors and path-MTU discovery (RFC 4890)".into(),
                AddrSet::full(),
                mine.clone(),
                types(ICMP, &[3, 11]).union(&types(ICMPV6, &[1, 2, 3, 4])),
            ));
        }
    }
    for r in &dev.routing {
        let groups = match r {
            Routing::Ospf => hosts(&["224.0.0.5/32", "224.0.0.6/32"]),
            Routing::Ospfv3 => hosts(&["ff02::5/128", "ff02::6/128"]),
            Routing::Eigrp => hosts(&["224.0.0.10/32", "ff02::a/128"]),
            Routing::Rip => hosts(&["224.0.0.9/32"]),
            Routing::Ripng => hosts(&["ff02::9/128"]),
            Routing::Pim => hosts(&["224.0.0.13/32", "ff02::d/128"]),
            Routing::Bgp => AddrSet::empty(),
        };
        // OSPFv2 and RIPv2 are IPv4 only, OSPFv3 and RIPng IPv6 only.
        let own = match r {
            Routing::Ospf | Routing::Rip => mine.family(Family::V4),
            Routing::Ospfv3 | Routing::Ripng => mine.family(Family::V6),
            Routing::Eigrp | Routing::Pim | Routing::Bgp => mine.clone(),
        };
        items.push((
            r.name().into(),
            format!("routing: {}", r.name()),
            AddrSet::full(),
            groups.union(&own),
            r.services(),
        ));
    }
    for f in &dev.fhrp {
        // HSRP: version 2 over UDP 1985 (IPv4), HSRP for IPv6 over UDP 2029.
        let per_family = match f {
            Fhrp::Hsrp => vec![
                (
                    hosts(&["224.0.0.2/32", "224.0.0.102/32"]),
                    ServiceSet::ports(UDP, 1985, 1985),
                ),
                (hosts(&["ff02::66/128"]), ServiceSet::ports(UDP, 2029, 2029)),
            ],
            Fhrp::Vrrp | Fhrp::Carp => {
                vec![(hosts(&["224.0.0.18/32", "ff02::12/128"]), f.services())]
            }
        };
        for (groups, services) in per_family {
            items.push((
                f.name().into(),
                format!("first-hop redundancy: {}", f.name()),
                AddrSet::full(),
                groups,
                services,
            ));
        }
    }
    if dev.dhcp_relay {
        // Clients broadcast to the relay, servers answer its address.
        for (to, port) in [
            (
                hosts(&["255.255.255.255/32"]).union(&mine.family(Family::V4)),
                67,
            ),
            (
                hosts(&["ff02::1:2/128"]).union(&mine.family(Family::V6)),
                547,
            ),
        ] {
            items.push((
                "dhcp-relay".into(),
                "DHCP relay: clients and servers to the relay".into(),
                AddrSet::full(),
                to,
                ServiceSet::ports(UDP, port, port),
            ));
        }
    }
    if !dev.management.is_empty() {
        items.push((
            "management".into(),
            "management of the firewall itself".into(),
            set(&dev.management),
            mine.clone(),
            dev.management_services.clone(),
        ));
    }
    if !dev.ipsec_peers.is_empty() {
        items.push((
            "ipsec".into(),
            "IPsec peers terminating on the firewall".into(),
            set(&dev.ipsec_peers),
            mine.clone(),
            DeviceTraffic::ipsec_services(),
        ));
    }
    let mut out = Vec::new();
    for (name, what, src, dst, services) in items {
        for family in [Family::V4, Family::V6] {
            let (s, d) = (src.family(family), dst.family(family));
            let Some(fs) = crate::plan::family_services(&services, family) else {
                continue;
            };
            if s.is_empty() || d.is_empty() {
                continue;
            }
            let operand = |b: &mut Builder, hint: &str, a: &AddrSet| {
                if *a == AddrSet::full_family(family) {
                    "any".to_string()
                } else {
                    b.addresses.set(&mut b.namer, hint, a, family)
                }
            };
            let source = operand(b, &format!("device-{name}-from"), &s);
            let destination = operand(b, "device-self", &d);
            let mut halves: Vec<(Vec<String>, Vec<String>)> = Vec::new();
            if fs.all {
                halves.push((vec!["any".into()], vec!["any".into()]));
            } else {
                let svc = b.services(&fs);
                if !svc.is_empty() {
                    halves.push((vec!["any".into()], svc));
                }
                let apps = b.applications(&fs);
                if !apps.is_empty() {
                    halves.push((apps, vec!["application-default".into()]));
                }
            }
            let split = halves.len() > 1;
            for (i, (applications, services)) in halves.into_iter().enumerate() {
                let part = if split && i == 1 { "-apps" } else { "" };
                let raw = format!("{prefix}-device-{name}-{}{part}", vendor::digit(family));
                out.push(SecurityRule {
                    name: b.namer.name_len(Target::Panos, "", &raw, RULE_NAME_MAX),
                    from: vec!["any".into()],
                    to: vec!["any".into()],
                    source: vec![source.clone()],
                    negate_source: false,
                    destination: vec![destination.clone()],
                    negate_destination: false,
                    applications,
                    services,
                    action: "allow".into(),
                    log_end: if fw.logging.allow { "yes" } else { "no" }.into(),
                    rule_type: "universal".into(),
                    schedule: None,
                    description: comment(
                        Target::Panos,
                        &format!("{DEVICE_TRAFFIC}: {what} ({})", family_name(family)),
                    ),
                });
            }
        }
    }
    Ok(out)
}

fn part(plan: &FirewallPlan<'_>, p: &Placed<'_>, rule_index: &usize) -> Part {
    let e = p.entry();
    let action = match e.action() {
        Action::Allow => "allow",
        Action::Deny => "deny",
    };
    Part {
        key: (
            *rule_index,
            action.to_string(),
            p.family,
            p.fe.services.clone(),
            e.until(),
        ),
        src: p.src,
        dst: p.dst,
        src_addrs: p.fe.src.clone(),
        dst_addrs: match &p.wide {
            Some(w) => Arc::clone(&w.dst),
            None => Arc::new(p.fe.dst.clone()),
        },
        wide: p.wide.clone(),
        family: p.family,
        rule: e.name().to_string(),
        description: vendor::describe(plan, p),
    }
}

/// Parts with the same key whose zone pairs form a product (every source
/// zone with every destination zone, the same addresses per zone) become
/// one group; the others stay one part per group. Groups keep the order
/// of their first part.
fn merge_zone_pairs(parts: Vec<Part>) -> Vec<Vec<Part>> {
    let mut order: Vec<usize> = Vec::new();
    let mut by_key: BTreeMap<usize, Vec<Part>> = BTreeMap::new();
    let mut index: BTreeMap<(usize, String, Family, FamilyServices, Option<Date>), usize> =
        BTreeMap::new();
    for p in parts {
        let next = index.len();
        let i = *index.entry(p.key.clone()).or_insert_with(|| {
            order.push(next);
            next
        });
        by_key.entry(i).or_default().push(p);
    }
    let mut out = Vec::new();
    for i in order {
        let Some(group) = by_key.remove(&i) else {
            continue;
        };
        if is_product(&group) {
            out.push(group);
        } else {
            out.extend(group.into_iter().map(|p| vec![p]));
        }
    }
    out
}

/// Whether the parts' zone pairs are exactly `sources × destinations`,
/// each zone pair once, each source zone with one address set and each
/// destination zone with one address set.
fn is_product(group: &[Part]) -> bool {
    // Parts of a wide entry: a product when they all come from wide
    // entries with the same destination zones and destinations, each
    // source zone once (a mix with zone pairs' own parts stays apart).
    if let Some(first) = group.first()
        && group.iter().any(|p| p.wide.is_some())
    {
        let Some(w0) = &first.wide else {
            return false;
        };
        let mut srcs = std::collections::BTreeSet::new();
        return group.iter().all(|p| {
            p.wide
                .as_ref()
                .is_some_and(|w| Arc::ptr_eq(w, w0) || w.dsts == w0.dsts)
                && (Arc::ptr_eq(&p.dst_addrs, &first.dst_addrs) || p.dst_addrs == first.dst_addrs)
                && srcs.insert(p.src)
        });
    }
    let mut srcs: BTreeMap<PlanZoneId, &AddrSet> = BTreeMap::new();
    let mut dsts: BTreeMap<PlanZoneId, &AddrSet> = BTreeMap::new();
    let mut pairs = std::collections::BTreeSet::new();
    for p in group {
        if !pairs.insert((p.src, p.dst)) {
            return false;
        }
        if *srcs.entry(p.src).or_insert(&p.src_addrs) != &p.src_addrs
            || *dsts.entry(p.dst).or_insert(&*p.dst_addrs) != &*p.dst_addrs
        {
            return false;
        }
    }
    pairs.len() == srcs.len() * dsts.len()
}

/// Rules of one Zonal rule that differ only in their family's addresses
/// (same zones, applications, services, negation, action, schedule)
/// become one rule with both families' addresses: a packet of one family
/// never matches the other family's objects.
fn merge_families(rules: Vec<SecurityRule>) -> Vec<SecurityRule> {
    type TwinKey = (
        String,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        bool,
        bool,
        String,
        Option<String>,
    );
    let key = |r: &SecurityRule| -> TwinKey {
        (
            r.description_key(),
            r.from.clone(),
            r.to.clone(),
            r.applications.clone(),
            r.services.clone(),
            r.negate_source,
            r.negate_destination,
            r.action.clone(),
            r.schedule.clone(),
        )
    };
    let mut out: Vec<SecurityRule> = Vec::new();
    let mut index: BTreeMap<TwinKey, usize> = BTreeMap::new();
    for r in rules {
        let k = key(&r);
        let twin = index.get(&k).and_then(|&i| out.get_mut(i));
        match twin {
            Some(o) => {
                o.source.extend(r.source);
                o.destination.extend(r.destination);
                if let Some(base) = o.name.strip_suffix("-4-apps") {
                    o.name = format!("{base}-apps");
                } else if let Some(base) = o.name.strip_suffix("-4") {
                    o.name = base.to_string();
                }
                o.description = o.description.replace(" IPv4)", ")");
            }
            None => {
                index.insert(k, out.len());
                out.push(r);
            }
        }
    }
    out
}

impl SecurityRule {
    /// The rule (and part) a rule was made from, for family merging.
    fn description_key(&self) -> String {
        let base = self.name.trim_end_matches("-apps");
        let base = base
            .strip_suffix("-4")
            .or_else(|| base.strip_suffix("-6"))
            .unwrap_or(base);
        format!("{base}|{}", self.name.ends_with("-apps"))
    }
}

struct Builder {
    namer: Namer,
    addresses: vendor::Addresses,
    services: BTreeMap<(u8, String), Service>,
    applications: BTreeMap<String, Application>,
    schedules: BTreeMap<Date, Schedule>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            namer: Namer::default(),
            addresses: vendor::Addresses::new(Target::Panos, '-'),
            services: BTreeMap::new(),
            applications: BTreeMap::new(),
            schedules: BTreeMap::new(),
        }
    }
}

impl Builder {
    /// The index of the placed entry's rule in the policy (a merge key).
    /// The rule's index in the policy (rules are stored in id order).
    fn rule_ids(&self, _plan: &FirewallPlan<'_>, p: &Placed<'_>) -> usize {
        p.entry().rule.id.index()
    }

    fn rules(
        &mut self,
        plan: &FirewallPlan<'_>,
        zone: &dyn Fn(PlanZoneId) -> String,
        prefix: &str,
        group: &[Part],
        counts: &BTreeMap<(usize, Family), usize>,
        out: &mut Vec<SecurityRule>,
    ) {
        let Some(first) = group.first() else {
            return;
        };
        let (_, action, family, services, until) = &first.key;
        let mut from: Vec<PlanZoneId> = group.iter().map(|p| p.src).collect();
        // A wide entry's destination zones are shared: taken once.
        let mut lists = std::collections::BTreeSet::new();
        let mut to: Vec<PlanZoneId> = Vec::new();
        for p in group {
            let zones = p.dst_zones();
            if lists.insert((zones.as_ptr(), zones.len())) {
                to.extend_from_slice(zones);
            }
        }
        from.sort();
        from.dedup();
        to.sort();
        to.dedup();
        let src = AddrSet::union_all(group.iter().map(|p| p.src_addrs.clone()));
        // Shared destinations are taken once.
        let mut seen = std::collections::BTreeSet::new();
        let mut dsts: Vec<&Arc<AddrSet>> = Vec::new();
        for p in group {
            if seen.insert(Arc::as_ptr(&p.dst_addrs)) {
                dsts.push(&p.dst_addrs);
            }
        }
        let dst = AddrSet::union_all(dsts.into_iter().map(|d| (**d).clone()));
        let rule = &first.rule;
        // Objects are named by what they hold: the zone, device or group
        // the set is exactly, else the zones it lies in.
        let zone_names = |ids: &[PlanZoneId]| {
            ids.iter()
                .map(|z| plan[*z].name.as_str())
                .collect::<Vec<_>>()
                .join("-")
        };
        let dst_hint = plan.describe(&dst).unwrap_or_else(|| zone_names(&to));
        let src_hint = plan.describe(&src).unwrap_or_else(|| zone_names(&from));
        let (destination, negate_destination) = self.address(&dst_hint, &dst, *family, true);
        let (source, negate_source) = self.address(&src_hint, &src, *family, !negate_destination);
        let schedule = until.map(|u| self.schedule(u));
        let description = if group.len() == 1 && first.wide.is_none() {
            first.description.clone()
        } else {
            let e = plan.policy.rules.get(first.key.0);
            let pairs: usize = group.iter().map(|p| p.dst_zones().len()).sum();
            let mut s = format!(
                "{rule} ({pairs} zone pairs {})",
                crate::plan::family_name(first.family)
            );
            if let Some(j) = e.and_then(|r| r.justification.as_deref()) {
                s.push_str(": ");
                s.push_str(j);
            }
            s
        };
        let description = comment(Target::Panos, &description);
        let log = match action.as_str() {
            "allow" => plan.firewall.logging.allow,
            _ => plan.firewall.logging.deny,
        };
        // TCP/UDP ports as service objects with `application any`; every
        // other protocol as applications with `service application-default`.
        let mut halves: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        if services.all {
            halves.push((vec!["any".into()], vec!["any".into()]));
        } else {
            let svc = self.services(services);
            if !svc.is_empty() {
                halves.push((vec!["any".into()], svc));
            }
            let apps = self.applications(services);
            if !apps.is_empty() {
                halves.push((apps, vec!["application-default".into()]));
            }
        }
        let split = halves.len() > 1;
        let base =
            if group.len() == 1 && from.len() * to.len() == 1 && !is_whole_rule(counts, group) {
                let (s, d) = (&plan[first.src].name, &plan[first.dst].name);
                format!("{prefix}-{rule}-{s}-{d}")
            } else {
                format!("{prefix}-{rule}")
            };
        for (i, (applications, services)) in halves.into_iter().enumerate() {
            let part = if split && i == 1 { "-apps" } else { "" };
            out.push(SecurityRule {
                name: format!("{base}-{}{part}", vendor::digit(*family)),
                from: from.iter().map(|z| zone(*z)).collect(),
                to: to.iter().map(|z| zone(*z)).collect(),
                source: vec![source.clone()],
                negate_source,
                destination: vec![destination.clone()],
                negate_destination,
                applications,
                services,
                action: action.clone(),
                log_end: if log { "yes".into() } else { "no".into() },
                rule_type: "universal".into(),
                schedule: schedule.clone(),
                description: description.clone(),
            });
        }
    }

    /// The address operand of `a` and whether it is negated: with
    /// `may_negate`, a set whose complement within the family has fewer
    /// prefixes (a catch-all external zone) is written as that complement.
    fn address(
        &mut self,
        hint: &str,
        a: &AddrSet,
        family: Family,
        may_negate: bool,
    ) -> (String, bool) {
        let full = AddrSet::full_family(family);
        let rest = full.subtract(a);
        if may_negate && !rest.is_empty() && rest.prefix_count() < a.prefix_count() {
            let hint = format!("{hint}-not");
            return (
                self.addresses.set(&mut self.namer, &hint, &rest, family),
                true,
            );
        }
        (self.addresses.set(&mut self.namer, hint, a, family), false)
    }

    /// Service objects for the TCP and UDP ports (one per protocol).
    fn services(&mut self, s: &FamilyServices) -> Vec<String> {
        let mut out = Vec::new();
        for ps in s
            .protos
            .iter()
            .filter(|ps| ps.proto == TCP || ps.proto == UDP)
        {
            let ranges = if ps.whole {
                vec![(0, u16::MAX)]
            } else {
                ps.ranges.clone()
            };
            let ports: Vec<String> = ranges
                .iter()
                .map(|&(lo, hi)| {
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}-{hi}")
                    }
                })
                .collect();
            let ports = ports.join(",");
            let key = (ps.proto, ports.clone());
            if let Some(svc) = self.services.get(&key) {
                out.push(svc.name.clone());
                continue;
            }
            let name = self
                .namer
                .name(Target::Panos, &format!("{}-", ps.name), &ports);
            self.services.insert(
                key,
                Service {
                    name: name.clone(),
                    protocol: ps.name.clone(),
                    ports,
                },
            );
            out.push(name);
        }
        out
    }

    /// Applications for everything but TCP and UDP: the predefined
    /// App-IDs where they are exact (`ping` is ICMP echo request and
    /// ICMPv6 echo request), custom applications otherwise.
    fn applications(&mut self, s: &FamilyServices) -> Vec<String> {
        let mut out = Vec::new();
        for ps in &s.protos {
            match ps.proto {
                TCP | UDP => {}
                // PAN-OS identifies echo as `ping`, the rest as `icmp`.
                ICMP if ps.whole => out.extend(["icmp".to_string(), "ping".to_string()]),
                ICMPV6 if ps.whole => out.extend(["ipv6-icmp".to_string(), "ping".to_string()]),
                47 => out.push("gre".into()),
                50 => out.push("ipsec-esp".into()),
                51 => out.push("ipsec-ah".into()),
                ICMP | ICMPV6 => {
                    let (kw, label, echo) = if ps.proto == ICMP {
                        ("icmp", "ICMP", 8)
                    } else {
                        ("icmp6", "ICMPv6", 128)
                    };
                    for &(lo, hi) in &ps.ranges {
                        for t in lo..=hi {
                            if t == echo {
                                out.push("ping".into());
                                continue;
                            }
                            out.push(self.application(
                                &format!("{kw}-{t}"),
                                format!("ident-by-{kw}-type type {t}"),
                                &format!("{label} type {t}"),
                            ));
                        }
                    }
                }
                n => {
                    out.push(self.application(
                        &format!("proto-{n}"),
                        format!("ident-by-ip-protocol {n}"),
                        &format!("IP protocol {n} ({})", proto_name(n)),
                    ));
                }
            }
        }
        out
    }

    fn application(&mut self, key: &str, ident_by: String, description: &str) -> String {
        if let Some(a) = self.applications.get(key) {
            return a.name.clone();
        }
        let name = self.namer.name(Target::Panos, "zonal-", key);
        self.applications.insert(
            key.to_string(),
            Application {
                name: name.clone(),
                ident: ident_by,
                description: comment(Target::Panos, description),
            },
        );
        name
    }

    fn schedule(&mut self, until: Date) -> String {
        let namer = &mut self.namer;
        self.schedules
            .entry(until)
            .or_insert_with(|| Schedule {
                name: namer.unique(
                    Target::Panos,
                    ident(Target::Panos, "until-", &until.to_string()),
                ),
                range: format!(
                    "2001/01/01@00:00-{:04}/{:02}/{:02}@23:59",
                    until.year, until.month, until.day
                ),
            })
            .name
            .clone()
    }
}

/// Whether the group is every part of its rule for its family (then the
/// rule's name alone names it).
fn is_whole_rule(counts: &BTreeMap<(usize, Family), usize>, group: &[Part]) -> bool {
    let Some(first) = group.first() else {
        return false;
    };
    counts
        .get(&(first.key.0, first.family))
        .copied()
        .unwrap_or(0)
        == group.len()
}

#[cfg(test)]
mod tests {
    use zonal_model::ServiceSet;
    use zonal_model::service::{ICMP, TCP, UDP};
    use zonal_model::sets::IntervalSet;

    use super::*;
    use crate::Firewall;
    use crate::Request;
    use crate::Templates;
    use crate::targets::vendor::fixture::{R, policy, zones};
    use zonal_model::Policy;

    fn render_fw(p: &Policy, fw: &Firewall) -> String {
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: fw,
            templates: &Templates::embedded(),
        };
        let mut db = SourceDb::new();
        crate::render(Target::Panos, &req, &mut db)
            .map(|r| r.artifacts)
            .expect("renders")
            .into_iter()
            .map(|a| a.text)
            .collect()
    }

    fn render_text(p: &Policy) -> String {
        render_fw(p, &Firewall::by_address("fw"))
    }

    fn rule_lines(out: &str) -> Vec<&str> {
        out.lines()
            .filter(|l| l.starts_with("set rulebase security rules "))
            .collect()
    }

    fn name_of(line: &str) -> &str {
        line.split(' ').nth(4).unwrap_or_default()
    }

    #[test]
    fn the_rulebase_and_the_default_rules_are_left_alone() {
        let out = render_text(&policy(&zones(), vec![]));
        assert!(!out.contains("delete rulebase"), "{out}");
        assert!(!out.contains("default-security-rules"), "{out}");
        assert!(!out.contains("from any to any"), "{out}");
        let rules = rule_lines(&out);
        assert_eq!(rules.len(), 1, "{out}");
        assert!(rules[0].starts_with("set rulebase security rules zonal-test-deny from [ imaging pacs legacy internet ] to [ imaging pacs legacy internet ] source any destination any application any service any action deny log-end yes rule-type interzone tag zonal-test "), "{}", rules[0]);
        assert!(out.contains("\nmove rulebase security rules zonal-test-deny top\n"));
    }

    #[test]
    fn default_deny_and_placement_are_the_bindings_choice() {
        let mut fw = Firewall::by_address("fw");
        fw.panos.default_deny = true;
        fw.panos.after = Some("admin-ike".into());
        let p = policy(
            &zones(),
            vec![R::allow(
                "a",
                &["10.20.0.1"],
                &["10.30.0.1"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_fw(&p, &fw);
        for line in [
            "set rulebase default-security-rules rules intrazone-default action deny",
            "set rulebase default-security-rules rules interzone-default action deny",
            "move rulebase security rules zonal-a-4 after admin-ike",
            "move rulebase security rules zonal-test-deny after zonal-a-4",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line}:\n{out}");
        }
        assert!(!out.contains("rule-type interzone"), "{out}");
    }

    #[test]
    fn intrazone_flows_are_explicit_rules() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "peer",
                &["10.20.0.1"],
                &["10.20.0.2"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_text(&p);
        assert!(
            rule_lines(&out).iter().any(|l| l.starts_with(
                "set rulebase security rules zonal-peer-4 from imaging to imaging source h4-10_20_0_1 destination h4-10_20_0_2 application any service tcp-104 action allow"
            )),
            "{out}"
        );
        assert!(out.contains("set service tcp-104 protocol tcp port 104\n"));
    }

    #[test]
    fn mixed_services_split_into_ports_and_applications() {
        let svc = ServiceSet::ports(UDP, 5000, 5010)
            .union(&ServiceSet::proto(ICMP, IntervalSet::single(13)))
            .union(&ServiceSet::proto(ICMP, IntervalSet::single(8)))
            .union(&ServiceSet::whole_proto(50));
        let p = policy(
            &zones(),
            vec![R::allow("mix", &["10.20.0.0/24"], &["10.30.0.5"], svc)],
        );
        let out = render_text(&p);
        let rules = rule_lines(&out);
        assert!(
            rules.iter().any(|l| l.contains("zonal-mix-4 ")
                && l.contains(" application any service udp-5000-5010 "))
        );
        assert!(
            rules.iter().any(|l| l.contains("zonal-mix-4-apps ")
                && l.contains(
                    " application [ ping zonal-icmp-13 ipsec-esp ] service application-default "
                )),
            "{out}"
        );
        assert!(
            out.contains("set application zonal-icmp-13 default ident-by-icmp-type type 13\n"),
            "{out}"
        );
        assert!(
            !out.contains("set application zonal-icmp-8 "),
            "echo is the predefined `ping`"
        );
    }

    #[test]
    fn zone_pairs_and_families_merge_into_one_rule() {
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "both",
                    &["10.20.0.0/24", "2001:db8:20::/64"],
                    &["10.30.0.5", "2001:db8:30::5"],
                    ServiceSet::ports(TCP, 443, 443),
                ),
                R::allow(
                    "pairs",
                    &["10.20.0.0/24", "10.40.0.0/24"],
                    &["10.30.0.5"],
                    ServiceSet::ports(TCP, 443, 443),
                ),
            ],
        );
        let out = render_text(&p);
        let rules: Vec<&str> = rule_lines(&out)
            .into_iter()
            .filter(|l| !l.contains("zonal-test-deny"))
            .collect();
        assert_eq!(rules.len(), 2, "{out}");
        assert!(rules.iter().any(|l| l.starts_with("set rulebase security rules zonal-both from imaging to pacs source [ n4-10_20_0_0_24 n6-2001_db8_20_64 ] destination [ h4-10_30_0_5 h6-2001_db8_30_5 ] ")), "{out}");
        assert!(rules.iter().any(|l| l.starts_with("set rulebase security rules zonal-pairs-4 from [ imaging legacy ] to pacs source g-imaging-legacy-4-")), "{out}");
    }

    #[test]
    fn the_internet_is_a_negated_destination() {
        let mut p = policy(
            &zones(),
            vec![R::allow(
                "web",
                &["10.20.0.0/24"],
                &["any"],
                ServiceSet::ports(TCP, 443, 443),
            )],
        );
        let internet = p.zones[3].addrs.clone();
        p.rules[0].terms[0].dst = internet;
        let out = render_text(&p);
        let web = rule_lines(&out)
            .into_iter()
            .find(|l| l.contains(" to internet "))
            .unwrap_or_default();
        assert!(web.contains(" negate-destination yes "), "{out}");
        assert!(
            out.lines()
                .filter(|l| l.starts_with("set address "))
                .count()
                < 10,
            "{out}"
        );
    }

    #[test]
    fn never_widens_and_schedules_temporary_flows() {
        let mut r = R::allow(
            "vendor",
            &["10.40.0.9"],
            &["10.30.0.1", "2001:db8:30::1"],
            ServiceSet::ports(TCP, 443, 443),
        );
        r.until = Date::new(2026, 12, 31);
        let out = render_text(&policy(&zones(), vec![r]));
        let rules = rule_lines(&out);
        assert_eq!(rules.len(), 2, "{out}");
        assert!(
            rules[0].contains(" schedule until-2026-12-31 "),
            "{}",
            rules[0]
        );
        assert!(out.contains("set schedule until-2026-12-31 schedule-type non-recurring 2001/01/01@00:00-2026/12/31@23:59\n"));
        assert!(out.contains("vendor is not rendered for IPv6: its source has no IPv6 address"));
        assert!(!rules[0].contains("source any"));
    }

    #[test]
    fn names_use_63_characters_and_stay_unique() {
        let svc = ServiceSet::ports(TCP, 1, 1);
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "allow-a-very-long-rule-name-that-fits-in-63-one",
                    &["10.20.0.1"],
                    &["10.30.0.1"],
                    svc.clone(),
                ),
                R::allow(
                    "allow-a-very-long-rule-name-that-does-not-fit-in-sixty-three-characters-one",
                    &["10.20.0.1"],
                    &["10.30.0.2"],
                    svc.clone(),
                ),
                R::allow(
                    "allow-a-very-long-rule-name-that-does-not-fit-in-sixty-three-characters-two",
                    &["10.20.0.1"],
                    &["10.30.0.3"],
                    svc,
                ),
            ],
        );
        let out = render_text(&p);
        let names: Vec<&str> = rule_lines(&out).iter().map(|l| name_of(l)).collect();
        assert_eq!(names.len(), 4);
        assert!(
            names.contains(&"zonal-allow-a-very-long-rule-name-that-fits-in-63-one-4"),
            "{names:?}"
        );
        assert!(names.iter().all(|n| n.len() <= 63), "{names:?}");
        let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
