//! Cisco ASA: one inbound ACL per interface holding every zone behind it,
//! object groups for addresses and services, an explicit `deny ip any any
//! log` at the end of every ACL, and same-security traffic permitted so
//! that only the ACLs decide.
//!
//! Every interface gets an ACL, so security levels never permit anything by
//! themselves: an ACE is needed for every flow. Several zones may sit
//! behind one interface (the internet and a vendor's peers behind
//! `outside`): their ACEs share the interface's ACL, which is exact because
//! their sources are disjoint address sets. ACL names end in a hash of
//! what they render: loading a new version creates new ACLs beside the old
//! ones, and `access-group` rebinds each interface in one step, with no
//! window where an interface has no ACL; pasting the same version again
//! adds nothing (the ASA refuses duplicate ACEs). Object-group names carry
//! a hash of their content, so re-pasting never adds members to a group an
//! ACE already uses. Zones whose `nameif`s collide after sanitising are a
//! located error (E0332), never one zone's binding silently replacing the
//! other's.
//!
//! Same-security traffic (between interfaces of equal level, and hairpin
//! traffic of a zone with several networks) is permitted: with an ACL on
//! every interface this lets the ACLs decide alone, where `no
//! same-security-traffic` would silently drop flows the policy allows
//! (every `nameif` but `inside` defaults to level 0).
//!
//! An ACL is bound inbound on the source zone's interface, so one ACE covers
//! every destination zone of a rule: the destinations of one rule, source
//! and service are merged across zone pairs. It sees every packet entering
//! from its zones whatever the destination, so with a binding that lists
//! only some zones it also holds their flows to the zones the binding does
//! not list and to addresses in no zone. Flows from those zones enter on
//! interfaces Zonal does not own (their ACLs decide; the ASA is stateful,
//! so no outbound ACL is needed for replies). Permitted ICMP turns on
//! `inspect icmp`, permitted ESP `inspect ipsec-pass-thru` (otherwise the
//! replies of an allowed ESP flow are dropped: ESP has no ports to track).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use zonal_diagnostics::{Diagnostic, Diagnostics, Severity, SourceDb, Span};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Date, Family, Prefix, RuleId};

use super::vendor;
use crate::escape::{Namer, comment, comment_max, ident};
use crate::objects::ObjectBook;
use crate::plan::{
    self, Entry, FamilyEntry, FamilyServices, FirewallPlan, Header, PlanZoneId, family_name,
};
use crate::{Artifact, Firewall, Target, Templates};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] =
    &[("main.j2", include_str!("../../../../templates/asa/main.j2"))];

/// Remark lines are at most this long.
const REMARK_MAX: usize = 100;

/// Renders the target.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let (view, warnings) = view(plan)?;
    let mut out = {
        let n = view.rule_count;
        vendor::single_artifact(Target::Asa, templates, db, view, n)
    }?;
    for a in &mut out {
        a.warnings.extend(warnings.iter().cloned());
    }
    Ok(out)
}

/// ASA `nameif`s are at most 48 characters.
const NAMEIF_MAX: usize = 48;

/// ESP, which `inspect ipsec-pass-thru` tracks.
const ESP: u8 = 50;

/// The view model of `templates/asa/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AsaView {
    /// Header.
    pub(crate) header: Header,
    /// `object-group network` blocks.
    pub(crate) network_groups: Vec<Group>,
    /// `object-group service` blocks.
    pub(crate) service_groups: Vec<Group>,
    /// `time-range` blocks for rules with `until`.
    pub(crate) time_ranges: Vec<TimeRange>,
    /// One ACL per interface.
    pub(crate) acls: Vec<Acl>,
    /// Whether ICMP is permitted (then `inspect icmp` is enabled so that
    /// replies pass as return traffic).
    pub(crate) inspect_icmp: bool,
    /// Whether ESP is permitted (then `inspect ipsec-pass-thru` is enabled
    /// so that the peer's ESP passes back).
    pub(crate) inspect_esp: bool,
    /// Closing notes.
    pub(crate) notes: Vec<String>,
    /// Number of ACEs, including the final denies.
    pub(crate) rule_count: usize,
}

/// An object group.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Group {
    /// Its name.
    pub(crate) name: String,
    /// Its description.
    pub(crate) description: String,
    /// `network-object …` / `service-object …` operands, one per line.
    pub(crate) members: Vec<String>,
}

/// A `time-range`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TimeRange {
    /// Its name.
    pub(crate) name: String,
    /// `HH:MM DD Month YYYY`.
    pub(crate) end: String,
}

/// One interface ACL.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Acl {
    /// ACL name.
    pub(crate) name: String,
    /// Interface `nameif`.
    pub(crate) interface: String,
    /// The Zonal zones behind the interface (sanitised).
    pub(crate) zones: Vec<String>,
    /// The ACEs, denies first.
    pub(crate) aces: Vec<Ace>,
}

/// One ACE with its remarks.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Ace {
    /// Remark lines (each within the remark limit).
    pub(crate) remarks: Vec<String>,
    /// `permit` or `deny`.
    pub(crate) action: String,
    /// The rest of the ACE after the action (protocol or service group,
    /// source, destination, ports, options), as tokens.
    pub(crate) tokens: Vec<String>,
}

/// The `nameif` of every plan zone: the binding's interface (or vendor
/// zone), else the zone name in lower case within 48 characters; zones
/// bound to one interface share it (whatever the case of its spelling),
/// and two zones whose names only collide after sanitising are refused.
fn nameifs(plan: &FirewallPlan<'_>) -> Result<Vec<String>, Diagnostics> {
    let mut out: Vec<String> = Vec::new();
    // The first zone of each nameif, keyed by the nameif in lower case
    // (ASA compares them without case): (nameif, zone index, whether the
    // binding named it). A map, not a scan of every earlier zone.
    let mut seen: BTreeMap<String, (String, usize, bool)> = BTreeMap::new();
    let mut errors = Diagnostics::new();
    let span_of = |i: usize| -> Span {
        plan.zones
            .get(i)
            .and_then(|z| plan.policy.zone_by_name(&z.name))
            .map_or(plan.policy.header_span, |z| z.decl_span)
    };
    for (i, z) in plan.zones.iter().enumerate() {
        let named = z.interface.clone().or_else(|| z.vendor_zone.clone());
        let (mut name, bound) = match named {
            Some(n) => (n, true),
            None => {
                let raw = ident(Target::Asa, "", &z.name).to_ascii_lowercase();
                let name = if raw.len() > NAMEIF_MAX {
                    let hash = vendor::content_hash(&z.name);
                    let head = raw.get(..NAMEIF_MAX - hash.len() - 1).unwrap_or(&raw);
                    format!("{}_{hash}", head.trim_end_matches('_'))
                } else {
                    raw
                };
                (name, false)
            }
        };
        // `escape::same_interface` for ASA: equal ignoring ASCII case.
        let key = name.to_ascii_lowercase();
        if let Some((first, j, first_bound)) = seen.get(&key).cloned() {
            if bound && first_bound {
                // One interface, several zones: they share its ACL.
                name = first;
            } else {
                let other = plan.zones.get(j).map_or("", |z| z.name.as_str());
                errors.push(
                    Diagnostic::error(
                        "E0332",
                        format!(
                            "zones `{other}` and `{}` both become the ASA interface `{name}`",
                            z.name
                        ),
                        span_of(i),
                        "same `nameif` after sanitising",
                    )
                    .with_secondary(span_of(j), "first zone with this `nameif`")
                    .with_help(
                        "rename one of the zones, or bind each zone to its interface in the deployment binding",
                    ),
                );
            }
        }
        seen.entry(key).or_insert_with(|| (name.clone(), i, bound));
        out.push(name);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A hash of at least 48 bits of a text, for names that must change with
/// what they hold.
fn long_hash(text: &str) -> String {
    format!(
        "{}{}",
        vendor::content_hash(text),
        vendor::content_hash(&format!("{text}\n"))
    )
}

/// Builds the ASA view of a policy for a firewall, with its build
/// warnings.
pub(crate) fn view(plan: &FirewallPlan<'_>) -> Result<(AsaView, Diagnostics), Diagnostics> {
    let (policy, firewall) = (plan.policy, plan.firewall);
    let mut b = Builder::default();
    let nameifs = nameifs(plan)?;
    // One ACL per interface, in zone order; `acl_of[zone]` is its index.
    let mut acls: Vec<Acl> = Vec::new();
    let mut acl_of: Vec<usize> = Vec::new();
    let mut acl_by_nameif: BTreeMap<&str, usize> = BTreeMap::new();
    for (z, nameif) in plan.zones.iter().zip(&nameifs) {
        let i = match acl_by_nameif.get(nameif.as_str()) {
            Some(&i) => i,
            None => {
                acl_by_nameif.insert(nameif, acls.len());
                acls.push(Acl {
                    name: String::new(),
                    interface: nameif.clone(),
                    zones: Vec::new(),
                    aces: Vec::new(),
                });
                acls.len() - 1
            }
        };
        if let Some(acl) = acls.get_mut(i) {
            acl.zones.push(comment(Target::Asa, &z.name));
        }
        acl_of.push(i);
    }
    let mut inspect_icmp = false;
    let mut inspect_esp = false;
    let mut warnings = Diagnostics::new();
    // An inbound ACL sees every packet entering from its zones, whatever
    // the destination: with a binding that lists only some zones, it also
    // holds the flows from its zones to the addresses of no listed zone.
    let outside = plan.outside();
    let leaving: Vec<(PlanZoneId, Vec<Entry<'_>>)> = plan
        .zone_ids()
        .map(|(zi, z)| (zi, plan.entries_between(&z.addrs, &outside)))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let (items, rendered) = items(plan, &leaving);
    let merged = merge(items);
    for (p, dst) in &merged {
        let e = p.fe.entry;
        let allow = e.action() == Action::Allow;
        let has = |proto: u8| p.fe.services.protos.iter().any(|s| s.proto == proto);
        inspect_icmp |= allow && (p.fe.services.all || has(ICMP) || has(ICMPV6));
        inspect_esp |= allow && (p.fe.services.all || has(ESP));
        let ace = b.ace(plan, p, dst, firewall, &mut warnings);
        if let Some(acl) = acl_of.get(p.src.index()).and_then(|&i| acls.get_mut(i)) {
            acl.aces.push(ace);
        }
    }
    // ACL names end in a hash of everything the ACL renders.
    for acl in &mut acls {
        let mut text = format!("{} {}\n", acl.interface, acl.zones.join(" "));
        for ace in &acl.aces {
            text.push_str(&format!(
                "{} {} {}\n",
                ace.remarks.join(" "),
                ace.action,
                ace.tokens.join(" ")
            ));
        }
        acl.name = b.namer.name(
            Target::Asa,
            "",
            &format!(
                "{}_{}_IN_{}",
                firewall.naming.acl,
                acl.interface,
                long_hash(&text)
            ),
        );
    }
    // Every ACL ends with the template's `deny ip any any log`.
    let rule_count = acls.iter().map(|a| a.aces.len() + 1).sum();
    let view = AsaView {
        header: Header::new(policy, firewall, Target::Asa),
        network_groups: b
            .network_groups
            .in_key_order()
            .into_iter()
            .map(|o| o.value)
            .collect(),
        service_groups: b.service_groups.into_values().collect(),
        time_ranges: b.time_ranges.into_values().collect(),
        acls,
        inspect_icmp,
        inspect_esp,
        notes: notes(plan, &outside, &rendered)
            .iter()
            .map(|n| comment_max(n, 400))
            .collect(),
        rule_count,
    };
    Ok((view, warnings))
}

/// The notes: the plan's (with a binding that lists only some zones, "no
/// traffic" is said only of the rules no ACL holds, since the flows to the
/// zones it does not list are rendered too), then the per-family omissions.
fn notes(plan: &FirewallPlan<'_>, outside: &AddrSet, rendered: &BTreeSet<RuleId>) -> Vec<String> {
    if outside.is_empty() {
        vendor::notes(plan)
    } else {
        vendor::notes_after(plan, plan.ingress_notes(rendered))
    }
}

/// Every entry of every source zone per family, denies before allows (the
/// zone pairs, then the flows to the outside, in rule order), and the
/// rules that have an entry at all.
fn items<'e>(
    plan: &'e FirewallPlan<'_>,
    leaving: &'e [(PlanZoneId, Vec<Entry<'_>>)],
) -> (Vec<Item<'e>>, BTreeSet<RuleId>) {
    let mut rendered: BTreeSet<RuleId> = BTreeSet::new();
    let mut items: Vec<Item<'_>> = Vec::new();
    for p in vendor::placed(plan) {
        let dst = match &p.wide {
            Some(w) => Arc::clone(&w.dst),
            None => Arc::new(p.fe.dst.clone()),
        };
        items.push(Item {
            src: p.src,
            family: p.family,
            fe: p.fe,
            dst,
        });
    }
    for (zi, list) in leaving {
        for family in [Family::V4, Family::V6] {
            for e in list {
                if let Ok(fe) = e.family(family) {
                    let dst = Arc::new(fe.dst.clone());
                    items.push(Item {
                        src: *zi,
                        family,
                        fe,
                        dst,
                    });
                }
            }
        }
    }
    for e in plan
        .all_entries()
        .chain(leaving.iter().flat_map(|(_, l)| l))
    {
        rendered.insert(e.rule.id);
        rendered.extend(e.also.iter().map(|r| r.id));
    }
    // Every deny of an ACL before its allows (stable: zone pairs, then the
    // flows to the outside, in rule order).
    items.sort_by_key(|i| i.fe.entry.action() == Action::Allow);
    (items, rendered)
}

/// One ACE per (source zone, rule, family, source, services): the
/// destinations of the zone pairs are merged, which is exact since the ACL
/// is bound on the source interface. Looked up by key, in the order of
/// first appearance; a wide entry's destinations stay shared until a
/// zone pair's own entry adds to them.
fn merge(items: Vec<Item<'_>>) -> Vec<(Item<'_>, Arc<AddrSet>)> {
    let mut merged: Vec<(Item<'_>, Arc<AddrSet>)> = Vec::new();
    let mut index: BTreeMap<(PlanZoneId, Family, RuleId, AddrSet, FamilyServices), usize> =
        BTreeMap::new();
    for p in items {
        let owned = (
            p.src,
            p.family,
            p.fe.entry.rule.id,
            p.fe.src.clone(),
            p.fe.services.clone(),
        );
        match index.get(&owned).and_then(|&i| merged.get_mut(i)) {
            Some((_, dst)) => {
                if !p.dst.is_subset(dst) {
                    *dst = Arc::new(dst.union(&p.dst));
                }
            }
            None => {
                index.insert(owned, merged.len());
                let dst = Arc::clone(&p.dst);
                merged.push((p, dst));
            }
        }
    }
    merged
}

/// One entry of one source zone restricted to one family.
struct Item<'e> {
    src: PlanZoneId,
    family: Family,
    fe: FamilyEntry<'e>,
    /// The destinations (`fe.dst`, or a wide entry's shared set).
    dst: Arc<AddrSet>,
}

#[derive(Default)]
struct Builder {
    namer: Namer,
    /// Keyed by content, so equal groups are shared.
    network_groups: ObjectBook<String, Group>,
    service_groups: BTreeMap<String, Group>,
    time_ranges: BTreeMap<Date, TimeRange>,
    /// Destination operands by (shared set, family, hint): every set is
    /// alive while the ACEs are built, so its address identifies it.
    dst_operands: BTreeMap<(usize, Family, String), Vec<String>>,
    /// The network group of each set of more than one prefix: the group is
    /// keyed by its member lines, which a set determines, so a set seen
    /// again needs neither its prefixes nor its member lines again.
    group_of_set: BTreeMap<AddrSet, String>,
}

impl Builder {
    fn ace(
        &mut self,
        plan: &FirewallPlan<'_>,
        p: &Item<'_>,
        dst: &Arc<AddrSet>,
        firewall: &Firewall,
        warnings: &mut Diagnostics,
    ) -> Ace {
        let e = p.fe.entry;
        let zone = plan[p.src].name.as_str();
        let mut tokens = Vec::new();
        let (proto, tail) = self.service(&vendor::services_hint(e.rule), &p.fe.services, p.family);
        tokens.extend(proto);
        tokens.extend(self.address(
            &vendor::side_hint(plan, &p.fe.src, &e.rule.src_written),
            &p.fe.src,
            p.family,
        ));
        // A wide entry's destinations are shared by every source zone:
        // their operand is made once.
        let key = (
            Arc::as_ptr(dst) as usize,
            p.family,
            vendor::side_hint(plan, dst, &e.rule.dst_written),
        );
        let dst_tokens = match self.dst_operands.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = self.address(&key.2, dst, p.family);
                self.dst_operands.insert(key, t.clone());
                t
            }
        };
        tokens.extend(dst_tokens);
        tokens.extend(tail);
        let log = match e.action() {
            Action::Allow => firewall.logging.allow,
            Action::Deny => firewall.logging.deny,
        };
        if log {
            tokens.push("log".into());
        }
        if let Some(until) = e.until() {
            tokens.push("time-range".into());
            tokens.push(self.time_range(until));
        }
        let remark = format!("{} ({zone} {})", e.comment_raw(), family_name(p.family));
        let max = 4 * REMARK_MAX;
        if comment_max(&remark, usize::MAX).len() > max
            && !warnings.iter().any(|w| w.primary.span == e.rule.span)
        {
            warnings.push(
                Diagnostic::new(
                    "W0322",
                    Severity::Low,
                    format!(
                        "the remarks of rule `{}` are cut to {max} characters on asa",
                        e.name()
                    ),
                    e.rule.span,
                    "justification too long for the ACL remarks",
                )
                .with_help("shorten the justification; the whole text stays in the policy file"),
            );
        }
        Ace {
            remarks: vendor::split_lines(&comment_max(&remark, 4 * REMARK_MAX), REMARK_MAX),
            action: match e.action() {
                Action::Allow => "permit".into(),
                Action::Deny => "deny".into(),
            },
            tokens,
        }
    }

    /// The protocol tokens before the addresses and the port or type tokens
    /// after them.
    fn service(
        &mut self,
        rule: &str,
        s: &FamilyServices,
        family: Family,
    ) -> (Vec<String>, Vec<String>) {
        if s.all {
            return (vec!["ip".into()], Vec::new());
        }
        if let [one] = s.protos.as_slice() {
            let name = asa_proto(one.proto);
            if one.whole {
                return (vec![name], Vec::new());
            }
            if let [(lo, hi)] = one.ranges.as_slice() {
                match one.proto {
                    TCP | UDP if lo == hi => {
                        return (vec![name], vec!["eq".into(), lo.to_string()]);
                    }
                    TCP | UDP => {
                        return (
                            vec![name],
                            vec!["range".into(), lo.to_string(), hi.to_string()],
                        );
                    }
                    ICMP | ICMPV6 if lo == hi => return (vec![name], vec![lo.to_string()]),
                    _ => {}
                }
            }
        }
        let mut members = Vec::new();
        for ps in &s.protos {
            let name = asa_proto(ps.proto);
            if ps.whole {
                members.push(name);
                continue;
            }
            for &(lo, hi) in &ps.ranges {
                match ps.proto {
                    TCP | UDP if lo == hi => members.push(format!("{name} destination eq {lo}")),
                    TCP | UDP => members.push(format!("{name} destination range {lo} {hi}")),
                    _ => members.extend((lo..=hi).map(|t| format!("{name} {t}"))),
                }
            }
        }
        let key = members.join("|");
        let name = match self.service_groups.get(&key) {
            Some(g) => g.name.clone(),
            None => {
                let raw = format!("{rule}_{}", vendor::content_hash(&key));
                let name = self.namer.name(Target::Asa, "SVC_", &raw);
                let description = comment(
                    Target::Asa,
                    &format!("services of {rule} ({})", family_name(family)),
                );
                self.service_groups.insert(
                    key,
                    Group {
                        name: name.clone(),
                        description,
                        members,
                    },
                );
                name
            }
        };
        (vec!["object-group".into(), name], Vec::new())
    }

    /// The tokens of one address operand.
    fn address(&mut self, hint: &str, a: &AddrSet, family: Family) -> Vec<String> {
        if *a == AddrSet::full_family(family) {
            return vec![match family {
                Family::V4 => "any4".into(),
                Family::V6 => "any6".into(),
            }];
        }
        if let Some(p) = plan::one_prefix(a) {
            return address_tokens(&p);
        }
        if let Some(name) = self.group_of_set.get(a) {
            return vec!["object-group".into(), name.clone()];
        }
        let prefixes = a.to_prefixes();
        let members: Vec<String> = prefixes
            .iter()
            .map(|p| address_tokens(p).join(" "))
            .collect();
        let namer = &mut self.namer;
        let name = self.network_groups.intern(members.join("|"), |key| {
            let raw = format!("{hint}_{}", vendor::content_hash(key));
            let name = namer.name(Target::Asa, "NET_", &raw);
            let description = comment(
                Target::Asa,
                &format!(
                    "{hint}: {} {} prefixes",
                    prefixes.len(),
                    family_name(family)
                ),
            );
            let group = Group {
                name: name.clone(),
                description,
                members,
            };
            (name, group)
        });
        self.group_of_set.insert(a.clone(), name.clone());
        vec!["object-group".into(), name]
    }

    fn time_range(&mut self, until: Date) -> String {
        let namer = &mut self.namer;
        self.time_ranges
            .entry(until)
            .or_insert_with(|| TimeRange {
                name: namer.name(Target::Asa, "UNTIL_", &until.to_string()),
                end: format!(
                    "23:59 {} {} {}",
                    until.day,
                    vendor::month_name(until.month),
                    until.year
                ),
            })
            .name
            .clone()
    }
}

/// The ASA protocol keyword.
fn asa_proto(p: u8) -> String {
    match p {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmp6".into(),
        n => n.to_string(),
    }
}

/// `host A`, `A MASK`, or `A/len` for IPv6.
fn address_tokens(p: &Prefix) -> Vec<String> {
    if p.is_host() {
        vec!["host".into(), p.addr().to_string()]
    } else if p.is_v4() {
        vec![p.addr().to_string(), p.netmask().to_string()]
    } else {
        vec![p.to_string()]
    }
}

#[cfg(test)]
mod tests {
    use zonal_model::ServiceSet;
    use zonal_model::service::{ICMP, TCP, UDP};

    use super::*;
    use crate::Request;
    use crate::Templates;
    use crate::targets::vendor::fixture::{R, policy, zones};
    use zonal_model::Policy;

    fn render_text(p: &Policy) -> String {
        let fw = Firewall::by_address("fw");
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let mut db = SourceDb::new();
        let out = crate::render(Target::Asa, &req, &mut db).expect("renders");
        out.artifacts.into_iter().map(|a| a.text).collect()
    }

    /// The ACL bound on `nameif`.
    fn acl_of(out: &str, nameif: &str) -> String {
        let suffix = format!(" in interface {nameif}");
        out.lines()
            .find_map(|l| {
                l.strip_prefix("access-group ")?
                    .strip_suffix(suffix.as_str())
            })
            .unwrap_or_else(|| panic!("no access-group on {nameif}:\n{out}"))
            .to_string()
    }

    fn render_bound(p: &Policy, fw: &Firewall) -> Result<crate::Rendered, Diagnostics> {
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: fw,
            templates: &Templates::embedded(),
        };
        crate::render(Target::Asa, &req, &mut SourceDb::new())
    }

    fn bind(zone: &str, interface: &str) -> crate::ZoneBinding {
        crate::ZoneBinding {
            zone: zone.into(),
            interface: Some(interface.into()),
            vendor_zone: None,
            span: zonal_diagnostics::Span::default(),
        }
    }

    fn text(r: &crate::Rendered) -> String {
        r.artifacts.iter().map(|a| a.text.clone()).collect()
    }

    /// Issue 9, ASA: the internet and a vendor's peers behind `outside`
    /// share one ACL bound on it, which holds the ACEs of both zones.
    #[test]
    fn several_zones_behind_one_interface_share_its_acl() {
        let mut z = zones();
        z.push(("peers", &["198.51.100.0/28"][..]));
        let p = policy(
            &z,
            vec![
                R::allow(
                    "in",
                    &["any"],
                    &["10.20.0.5"],
                    ServiceSet::ports(TCP, 443, 443),
                ),
                R::allow(
                    "peer",
                    &["198.51.100.0/28"],
                    &["10.30.0.5"],
                    ServiceSet::ports(TCP, 22, 22),
                ),
            ],
        );
        // The internet and the peers are both behind `outside` (spelled
        // in two cases: one interface on the ASA).
        let mut fw = Firewall::by_address("edge");
        fw.zones = Some(vec![
            bind("imaging", "inside"),
            bind("pacs", "dmz"),
            bind("internet", "outside"),
            bind("peers", "Outside"),
        ]);
        let out = text(&render_bound(&p, &fw).expect("renders"));
        let groups: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("access-group "))
            .collect();
        assert_eq!(groups.len(), 3, "{out}");
        let outside = acl_of(&out, "outside");
        assert!(out.contains("! Zone internet: traffic entering interface outside\n! Zone peers: traffic entering interface outside\n"), "{out}");
        let aces: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with(&format!("access-list {outside} extended permit")))
            .collect();
        assert!(
            aces.iter()
                .any(|l| l.contains("198.51.100.0 255.255.255.240 host 10.30.0.5 eq 22")),
            "{out}"
        );
        assert!(
            aces.iter().any(|l| l.contains("host 10.20.0.5 eq 443")),
            "{out}"
        );
    }

    /// Issue 9, names that collide: zones whose names differ only in `-`,
    /// `_`, `.` or case (and a zone named `unzoned`) are a located error,
    /// not one `access-group` silently replacing the other.
    #[test]
    fn zones_whose_nameifs_collide_are_an_error() {
        for (a, b) in [
            ("img-1", "img_1"),
            ("Img.1", "img-1"),
            ("unzoned", "unzoned"),
        ] {
            let z: Vec<(&str, &[&str])> = if a == b {
                vec![("unzoned", &["10.20.0.0/24"][..])]
            } else {
                vec![(a, &["10.20.0.0/24"][..]), (b, &["10.30.0.0/24"][..])]
            };
            let p = policy(
                &z,
                vec![R::allow(
                    "x",
                    &["10.20.0.1"],
                    &["10.30.0.1"],
                    ServiceSet::any(),
                )],
            );
            let err = render_bound(&p, &Firewall::by_address("fw")).expect_err("collision");
            let d: Vec<&Diagnostic> = err.iter().collect();
            assert_eq!(d.len(), 1, "{a} {b}: {d:?}");
            assert_eq!(d[0].code, "E0332");
            assert!(d[0].help.is_some() && d[0].message.contains('`'));
        }
    }

    /// Issue 9: ASA ACL names hash what they render, so two bindings
    /// that render different ACEs never share a name. (The ACL of a zone
    /// holds every flow leaving it, whichever other zones are listed, so
    /// the bindings differ in what shares the interface.)
    #[test]
    fn acl_names_hash_their_content() {
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "a",
                    &["10.20.0.5"],
                    &["any"],
                    ServiceSet::ports(TCP, 104, 104),
                ),
                R::allow(
                    "b",
                    &["10.30.0.5"],
                    &["10.20.0.5"],
                    ServiceSet::ports(TCP, 443, 443),
                ),
            ],
        );
        let mut one = Firewall::by_address("edge");
        one.zones = Some(vec![bind("imaging", "inside"), bind("pacs", "dmz")]);
        let mut two = Firewall::by_address("edge");
        two.zones = Some(vec![bind("imaging", "inside"), bind("pacs", "inside")]);
        let (o1, o2) = (
            text(&render_bound(&p, &one).unwrap()),
            text(&render_bound(&p, &two).unwrap()),
        );
        let (n1, n2) = (acl_of(&o1, "inside"), acl_of(&o2, "inside"));
        assert_ne!(n1, n2, "{o1}\n{o2}");
        // The same content renders the same name (a re-paste adds nothing).
        assert_eq!(
            n1,
            acl_of(&text(&render_bound(&p, &one).unwrap()), "inside")
        );
    }

    /// Issue 9 §2: with a binding that lists only some zones, the inbound
    /// ACL of a listed zone holds its flows to the zones the binding does
    /// not list and to addresses in no zone (denies first), and no note
    /// says such a rule has no traffic through the firewall.
    #[test]
    fn a_partial_binding_renders_every_flow_leaving_a_listed_zone() {
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "ntp",
                    &["10.20.0.0/24"],
                    &["10.40.0.5"],
                    ServiceSet::ports(UDP, 123, 123),
                ),
                R::allow(
                    "web",
                    &["10.20.0.0/24"],
                    &["any"],
                    ServiceSet::ports(TCP, 443, 443),
                ),
                R::deny(
                    "no-legacy",
                    &["10.20.0.9"],
                    &["10.40.0.0/24"],
                    ServiceSet::any(),
                ),
            ],
        );
        let mut fw = Firewall::by_address("edge");
        fw.zones = Some(vec![bind("imaging", "inside"), bind("pacs", "dmz")]);
        let out = text(&render_bound(&p, &fw).unwrap());
        let inside = acl_of(&out, "inside");
        let aces: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("access-list {inside} extended ")))
            .collect();
        assert_eq!(
            aces.first().copied(),
            Some("deny ip host 10.20.0.9 10.40.0.0 255.255.255.0 log"),
            "{out}"
        );
        assert!(
            aces.contains(&"permit udp 10.20.0.0 255.255.255.0 host 10.40.0.5 eq 123"),
            "{out}"
        );
        // `web` to pacs (listed) and to everything else, in one ACE per family.
        assert!(
            aces.iter()
                .any(|a| a.starts_with("permit tcp 10.20.0.0 255.255.255.0 ")
                    && a.ends_with(" eq 443")),
            "{out}"
        );
        assert_eq!(aces.last().copied(), Some("deny ip any any log"));
        assert!(!out.contains("has no traffic"), "{out}");
    }

    /// Issue 9: permitted ESP turns on `inspect ipsec-pass-thru`, without
    /// which the peer's ESP is dropped.
    #[test]
    fn esp_is_inspected_so_that_it_passes_both_ways() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "vpn",
                &["10.20.0.5"],
                &["10.30.0.5"],
                ServiceSet::whole_proto(50),
            )],
        );
        let out = render_text(&p);
        assert!(
            out.contains(" class inspection_default\n  inspect ipsec-pass-thru\n"),
            "{out}"
        );
        assert!(!out.contains("inspect icmp"), "{out}");
        let p = policy(
            &zones(),
            vec![R::allow(
                "web",
                &["10.20.0.5"],
                &["10.30.0.5"],
                ServiceSet::ports(TCP, 443, 443),
            )],
        );
        assert!(!render_text(&p).contains("policy-map"));
    }

    /// Issue 9: a nameif derived from a long zone name stays within the
    /// ASA's 48 characters (it was cut at 64), and two long names that
    /// share their first 48 characters stay apart.
    #[test]
    fn derived_nameifs_fit_in_48_characters() {
        let a = "zone-with-a-very-long-name-that-goes-on-and-on-for-sixty-three-a";
        let b = "zone-with-a-very-long-name-that-goes-on-and-on-for-sixty-three-b";
        let z = vec![(a, &["10.20.0.0/24"][..]), (b, &["10.30.0.0/24"][..])];
        let p = policy(
            &z,
            vec![R::allow(
                "x",
                &["10.20.0.1"],
                &["10.30.0.1"],
                ServiceSet::any(),
            )],
        );
        let out = render_text(&p);
        let nameifs: Vec<&str> = out
            .lines()
            .filter_map(|l| {
                l.strip_prefix("access-group ")?
                    .split(" in interface ")
                    .nth(1)
            })
            .collect();
        assert_eq!(nameifs.len(), 3, "{out}");
        assert!(nameifs.iter().all(|n| n.len() <= NAMEIF_MAX), "{nameifs:?}");
        assert_ne!(nameifs[0], nameifs[1]);
    }

    #[test]
    fn long_remarks_are_warned_about() {
        let mut r = R::allow("j", &["10.20.0.1"], &["10.30.0.1"], ServiceSet::any());
        r.justification = Some(Box::leak("word ".repeat(100).into_boxed_str()));
        let out = render_bound(&policy(&zones(), vec![r]), &Firewall::by_address("fw")).unwrap();
        let w = out.warnings();
        assert_eq!(w.len(), 1);
        assert_eq!(w.iter().next().map(|d| d.code), Some("W0322"));
    }

    #[test]
    fn every_interface_gets_an_acl_ending_in_deny() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "a",
                &["10.20.0.5"],
                &["10.30.0.0/24"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_text(&p);
        for nameif in ["imaging", "pacs", "legacy", "internet"] {
            let line = out.lines().find(|l| {
                l.starts_with("access-group ") && l.ends_with(&format!(" in interface {nameif}"))
            });
            let line = line.unwrap_or_else(|| panic!("no access-group for {nameif}:\n{out}"));
            let acl = line.split(' ').nth(1).unwrap();
            let last = out
                .lines()
                .rfind(|l| l.starts_with(&format!("access-list {acl} extended")))
                .unwrap();
            assert_eq!(
                last,
                format!("access-list {acl} extended deny ip any any log")
            );
        }
        // Equal security levels and hairpins reach the ACLs, which decide alone.
        assert!(
            out.lines()
                .any(|l| l == "same-security-traffic permit inter-interface")
        );
        assert!(
            out.lines()
                .any(|l| l == "same-security-traffic permit intra-interface")
        );
        assert!(
            out.contains("extended permit tcp host 10.20.0.5 10.30.0.0 255.255.255.0 eq 104"),
            "{out}"
        );
    }

    #[test]
    fn never_widens_a_family_without_addresses() {
        // IPv4-only source, dual-stack destination: no IPv6 ACE, and no `any`.
        let p = policy(
            &zones(),
            vec![R::allow(
                "v4only",
                &["10.40.0.7"],
                &["10.20.0.0/24", "2001:db8:20::/64"],
                ServiceSet::ports(TCP, 443, 443),
            )],
        );
        let out = render_text(&p);
        let aces: Vec<&str> = out
            .lines()
            .filter(|l| l.contains(" extended permit"))
            .collect();
        assert_eq!(aces.len(), 1, "{out}");
        assert!(
            aces[0].starts_with("access-list ZONAL_LEGACY_IN_")
                && aces[0].ends_with(
                    " extended permit tcp host 10.40.0.7 10.20.0.0 255.255.255.0 eq 443"
                ),
            "{}",
            aces[0]
        );
        assert!(out.contains("v4only is not rendered for IPv6"), "{out}");
    }

    #[test]
    fn denies_come_first_and_expiry_is_a_time_range() {
        let mut allow = R::allow(
            "vendor",
            &["any"],
            &["10.20.0.5"],
            ServiceSet::ports(TCP, 3389, 3389),
        );
        allow.until = Date::new(2026, 12, 31);
        let p = policy(
            &zones(),
            vec![
                allow,
                R::deny(
                    "block",
                    &["10.40.0.0/24"],
                    &["10.20.0.0/24"],
                    ServiceSet::any(),
                ),
            ],
        );
        let out = render_text(&p);
        let name = acl_of(&out, "legacy");
        let acl: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with(&format!("access-list {name} extended")))
            .collect();
        assert_eq!(acl.len(), 3, "{out}");
        assert!(
            acl[0].contains("extended deny ip 10.40.0.0 255.255.255.0 10.20.0.0 255.255.255.0 log"),
            "{}",
            acl[0]
        );
        assert!(acl[1].contains(
            "permit tcp 10.40.0.0 255.255.255.0 host 10.20.0.5 eq 3389 time-range UNTIL_2026_12_31"
        ));
        assert!(
            out.contains("time-range UNTIL_2026_12_31\n absolute end 23:59 31 December 2026\n"),
            "{out}"
        );
    }

    #[test]
    fn icmp_uses_groups_and_inspection() {
        let svc = ServiceSet::proto(ICMP, zonal_model::sets::IntervalSet::single(8))
            .union(&ServiceSet::ports(TCP, 104, 105));
        let p = policy(
            &zones(),
            vec![R::allow(
                "ping",
                &["10.20.0.0/24"],
                &["10.30.0.1", "10.30.0.9"],
                svc,
            )],
        );
        let out = render_text(&p);
        assert!(
            out.contains(" service-object icmp 8\n service-object tcp destination range 104 105\n"),
            "{out}"
        );
        assert!(out.contains("inspect icmp\n"));
        assert!(
            out.contains(" network-object host 10.30.0.1\n network-object host 10.30.0.9\n"),
            "{out}"
        );
    }

    #[test]
    fn a_binding_names_the_interfaces_and_the_acls() {
        use crate::ZoneBinding;
        let p = policy(
            &zones(),
            vec![R::allow(
                "a",
                &["10.20.0.5"],
                &["10.30.0.5"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let mut fw = Firewall::by_address("edge");
        let bind = |zone: &str, interface: &str| ZoneBinding {
            zone: zone.into(),
            interface: Some(interface.into()),
            vendor_zone: None,
            span: zonal_diagnostics::Span::default(),
        };
        fw.zones = Some(vec![bind("imaging", "inside"), bind("pacs", "dmz")]);
        fw.naming.acl = "RAD".into();
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let out: String = crate::render(Target::Asa, &req, &mut SourceDb::new())
            .map(|r| r.artifacts)
            .expect("renders")
            .into_iter()
            .map(|a| a.text)
            .collect();
        let groups: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("access-group "))
            .collect();
        assert_eq!(groups.len(), 2, "{out}");
        assert!(
            groups[0].starts_with("access-group RAD_INSIDE_IN_")
                && groups[0].ends_with(" in interface inside")
        );
        assert!(
            groups[1].starts_with("access-group RAD_DMZ_IN_")
                && groups[1].ends_with(" in interface dmz")
        );
        let inside = acl_of(&out, "inside");
        assert!(out.contains(&format!(
            "access-list {inside} extended permit tcp host 10.20.0.5 host 10.30.0.5 eq 104\n"
        )));
    }

    #[test]
    fn hostile_justification_stays_in_its_remark() {
        let mut r = R::allow(
            "x",
            &["10.20.0.1"],
            &["10.30.0.1"],
            ServiceSet::ports(TCP, 1, 1),
        );
        r.justification = Some("ok\naccess-list ZONAL_IMAGING_IN permit ip any any ! \"x\"");
        let out = render_text(&policy(&zones(), vec![r]));
        assert!(
            !out.lines()
                .any(|l| l.starts_with("access-list ZONAL_IMAGING_IN permit")),
            "{out}"
        );
        assert!(
            out.lines()
                .filter(|l| l.contains("permit ip any any"))
                .all(|l| l.contains(" remark ")),
            "{out}"
        );
    }
}
