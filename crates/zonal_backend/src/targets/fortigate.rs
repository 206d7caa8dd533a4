//! Fortinet FortiGate (FortiOS 7.4+ CLI, unified IPv4/IPv6 policy table
//! with per-family address negation): zones with `intrazone deny`,
//! addresses and address groups per family, custom services, one-time
//! schedules for temporary flows, Zonal's policies (denies first) and a
//! final deny between Zonal's zones that logs (FortiOS' implicit deny does
//! not log by default).
//!
//! Ownership on a shared device: Zonal owns the policy ids
//! [`BEGIN_ID`]..=[`DENY_ID`] and nothing else in the policy table. The
//! block starts with a disabled marker policy `zonal-begin` and ends with
//! `zonal-deny`, whose id is the block's highest, so FortiOS' `edit 0`
//! (the next id after the highest) never hands an id of the block to
//! another policy. Every version rewrites its slots with every field
//! Zonal uses set, for both families (`"none"` where a family is unused,
//! negation explicitly on or off), so no field of an earlier version
//! survives; then `move`s the slots, in order, right after `zonal-begin`
//! and `zonal-deny` right after the last: slots of a longer earlier
//! version end up after `zonal-deny`, where they match nothing. Policy
//! names end in a tag of the version's content, so a new version never
//! names a slot like an older one that is still there (FortiOS policy
//! names are unique).
//!
//! One policy covers a rule's entries of several zone pairs when they form
//! an exact product (`srcintf`/`dstintf` lists); a side that is most of a
//! family (a catch-all external zone) is written as the negation of its
//! complement (`dstaddr-negate`). Address groups and services are named
//! after a hash of their content.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use zonal_diagnostics::{Diagnostic, Diagnostics, Severity, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Date, Family, RuleId};

use super::vendor::{self, Placed};
use crate::escape::{Namer, comment, comment_max, ident};
use crate::plan::{FamilyServices, FirewallPlan, Header, PlanZoneId};
use crate::{Artifact, Firewall, Target, Templates};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.j2",
    include_str!("../../../../templates/fortigate/main.j2"),
)];

/// The id of `zonal-begin`, the first of Zonal's block.
pub(crate) const BEGIN_ID: u64 = 1_000_000;
/// The id of `zonal-deny`, the last (and highest) of Zonal's block.
pub(crate) const DENY_ID: u64 = 1_099_999;
/// FortiOS policy names are at most 35 characters.
const NAME_MAX: usize = 35;
/// FortiOS policy comments are at most 1,023 bytes.
const COMMENT_MAX: usize = 1023;

/// Renders the target.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let (view, warnings) = view(plan)?;
    let mut out = {
        let n = view.rule_count;
        vendor::single_artifact(Target::Fortigate, templates, db, view, n)
    }?;
    for a in &mut out {
        a.warnings.extend(warnings.iter().cloned());
    }
    Ok(out)
}

/// The view model of `templates/fortigate/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FortiView {
    /// Header.
    pub(crate) header: Header,
    /// The version tag that ends every policy name.
    pub(crate) tag: String,
    /// Zones.
    pub(crate) zones: Vec<FortiZone>,
    /// The vendor names of every zone (`srcintf`/`dstintf` of the marker
    /// and the final deny).
    pub(crate) zone_names: Vec<String>,
    /// IPv4 addresses.
    pub(crate) addresses: Vec<Address>,
    /// IPv6 addresses.
    pub(crate) addresses6: Vec<Address>,
    /// IPv4 address groups.
    pub(crate) groups: Vec<Group>,
    /// IPv6 address groups.
    pub(crate) groups6: Vec<Group>,
    /// Custom services.
    pub(crate) services: Vec<Service>,
    /// One-time schedules for rules with `until`.
    pub(crate) schedules: Vec<Schedule>,
    /// Policies in order (denies first), without the marker and the final
    /// deny.
    pub(crate) policies: Vec<FortiPolicy>,
    /// Id of the disabled marker policy that starts Zonal's block.
    pub(crate) begin_id: u64,
    /// Id of the final deny.
    pub(crate) deny_id: u64,
    /// The id the final deny is moved after (the last policy, or the
    /// marker).
    pub(crate) last_id: u64,
    /// Closing notes.
    pub(crate) notes: Vec<String>,
    /// Number of policies, including the final deny (the marker is
    /// disabled and not counted).
    pub(crate) rule_count: usize,
}

/// A zone.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FortiZone {
    /// Vendor zone name.
    pub(crate) name: String,
    /// Zonal zone name (sanitised).
    pub(crate) zonal: String,
    /// Member interfaces (from the deployment binding).
    pub(crate) interfaces: Vec<String>,
}

/// An address (`subnet A M` or `ip6 P`).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Address {
    /// Name.
    pub(crate) name: String,
    /// The value after `set subnet` or `set ip6`.
    pub(crate) value: String,
}

/// An address group.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Group {
    /// Name.
    pub(crate) name: String,
    /// Members.
    pub(crate) members: Vec<String>,
}

/// A custom service.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Service {
    /// Name.
    pub(crate) name: String,
    /// `TCP/UDP/SCTP`, `ICMP`, `ICMP6` or `IP`.
    pub(crate) protocol: String,
    /// TCP port ranges (`104`, `5000-5010`).
    pub(crate) tcp: Vec<String>,
    /// UDP port ranges.
    pub(crate) udp: Vec<String>,
    /// ICMP type, if one.
    pub(crate) icmptype: Option<u16>,
    /// IP protocol number, for `IP`.
    pub(crate) protocol_number: Option<u8>,
}

/// A one-time schedule.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Schedule {
    /// Name.
    pub(crate) name: String,
    /// `hh:mm YYYY/MM/DD`.
    pub(crate) start: String,
    /// `hh:mm YYYY/MM/DD`.
    pub(crate) end: String,
}

/// One address side of a policy for one family: an object or group name
/// (`all`, `none`) and whether it is negated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Side {
    /// Address, group, `all` or `none`.
    pub(crate) name: String,
    /// `enable` or `disable`.
    pub(crate) negate: &'static str,
}

impl Side {
    fn none() -> Side {
        Side {
            name: "none".into(),
            negate: "disable",
        }
    }
}

/// A firewall policy. Every address field is set for both families.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FortiPolicy {
    /// Policy id (a slot of Zonal's block).
    pub(crate) id: u64,
    /// The id it is moved after.
    pub(crate) after: u64,
    /// Name (at most 35 characters, ending in the version tag).
    pub(crate) name: String,
    /// Source zones.
    pub(crate) srcintf: Vec<String>,
    /// Destination zones.
    pub(crate) dstintf: Vec<String>,
    /// IPv4 source.
    pub(crate) src4: Side,
    /// IPv4 destination.
    pub(crate) dst4: Side,
    /// IPv6 source.
    pub(crate) src6: Side,
    /// IPv6 destination.
    pub(crate) dst6: Side,
    /// Services.
    pub(crate) services: Vec<String>,
    /// `accept` or `deny`.
    pub(crate) action: String,
    /// `all` or `disable`.
    pub(crate) logtraffic: String,
    /// `always` or a one-time schedule.
    pub(crate) schedule: String,
    /// Comment (sanitised, with Zonal's marker).
    pub(crate) comments: String,
}

/// A policy before it has an id and a name.
struct Draft<'a> {
    base: String,
    rule: &'a zonal_model::Rule,
    srcintf: Vec<PlanZoneId>,
    dstintf: Vec<PlanZoneId>,
    family: Family,
    src: AddrSet,
    dst: AddrSet,
    services: Vec<String>,
    action: Action,
    log: bool,
    schedule: String,
    comment_raw: String,
}

/// Builds the FortiGate view of a policy for a firewall, with its build
/// warnings; refuses a plan with more policies than Zonal's block holds.
#[expect(
    clippy::too_many_lines,
    reason = "one pass from the plan to the view: zones, merged policies, ids, names, objects"
)]
pub(crate) fn view(plan: &FirewallPlan<'_>) -> Result<(FortiView, Diagnostics), Diagnostics> {
    let (policy, firewall) = (plan.policy, plan.firewall);
    let mut b = Builder::default();
    for reserved in ["zonal-deny", "zonal-begin", "all", "always", "ALL", "none"] {
        b.namer.unique(Target::Fortigate, reserved.into());
    }
    let zones: Vec<FortiZone> = plan
        .zones
        .iter()
        .map(|z| FortiZone {
            name: vendor::zone_name(Target::Fortigate, z),
            // The zone description is at most 127 bytes.
            zonal: comment_max(&z.name, 100),
            interfaces: z.interface.iter().cloned().collect(),
        })
        .collect();
    zone_collisions(plan, &zones)?;
    let mut notes = vendor::notes(plan);
    let mut warnings = Diagnostics::new();
    let drafts = b.drafts(plan, firewall, &mut notes);
    let slots = usize::try_from(DENY_ID - BEGIN_ID - 1).unwrap_or(usize::MAX);
    if drafts.len() > slots {
        let mut d = Diagnostics::new();
        d.push(
            Diagnostic::error(
                "E0331",
                format!(
                    "policy `{}` needs {} FortiGate policies on firewall `{}`, more than the {slots} ids Zonal owns",
                    policy.name,
                    drafts.len(),
                    firewall.name
                ),
                firewall.span.unwrap_or(policy.header_span),
                "too many policies for one FortiGate",
            )
            .with_help("split the firewall's zones over several firewalls (or VDOMs) in the deployment binding"),
        );
        return Err(d);
    }
    let zone_name = |i: PlanZoneId| {
        zones
            .get(i.index())
            .map_or(String::new(), |z| z.name.clone())
    };
    // The version tag: a hash of everything the policies say but their
    // names (objects are named by content already).
    let mut content = String::new();
    let mut policies: Vec<FortiPolicy> = Vec::new();
    let mut sides = Vec::new();
    for d in &drafts {
        let (src, dst) = (
            b.side(
                &vendor::side_hint(plan, &d.src, &d.rule.src_written),
                &d.src,
                d.family,
            ),
            b.side(
                &vendor::side_hint(plan, &d.dst, &d.rule.dst_written),
                &d.dst,
                d.family,
            ),
        );
        sides.push((src, dst));
    }
    for (d, (src, dst)) in drafts.iter().zip(sides) {
        let (src4, dst4, src6, dst6) = match d.family {
            Family::V4 => (src, dst, Side::none(), Side::none()),
            Family::V6 => (Side::none(), Side::none(), src, dst),
        };
        let budget = COMMENT_MAX - "zonal:abcdef ".len();
        let (text, cut) = utf8_comment(&d.comment_raw, budget);
        if cut {
            warnings.push(
                Diagnostic::new(
                    "W0321",
                    Severity::Low,
                    format!(
                        "the comment of rule `{}` is cut to {COMMENT_MAX} bytes on fortigate",
                        d.rule.name
                    ),
                    d.rule.span,
                    "justification too long for a FortiOS policy comment",
                )
                .with_help("shorten the justification; the whole text stays in the policy file"),
            );
        }
        let p = FortiPolicy {
            id: 0,
            after: 0,
            name: String::new(),
            srcintf: d.srcintf.iter().map(|&i| zone_name(i)).collect(),
            dstintf: d.dstintf.iter().map(|&i| zone_name(i)).collect(),
            src4,
            dst4,
            src6,
            dst6,
            services: d.services.clone(),
            action: match d.action {
                Action::Allow => "accept".into(),
                Action::Deny => "deny".into(),
            },
            logtraffic: if d.log {
                "all".into()
            } else {
                "disable".into()
            },
            schedule: d.schedule.clone(),
            comments: text,
        };
        content.push_str(&format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {} {}\n",
            p.srcintf,
            p.dstintf,
            p.src4,
            p.dst4,
            p.src6,
            p.dst6,
            p.services,
            p.action,
            p.logtraffic,
            p.schedule,
            p.comments
        ));
        policies.push(p);
    }
    let zone_names: Vec<String> = zones.iter().map(|z| z.name.clone()).collect();
    content.push_str(&zone_names.join(" "));
    let tag = vendor::content_hash(&content);
    let mut names = PolicyNames::default();
    let mut prev = BEGIN_ID;
    for (i, (p, d)) in policies.iter_mut().zip(&drafts).enumerate() {
        let id = BEGIN_ID + 1 + u64::try_from(i).unwrap_or(u64::MAX);
        p.id = id;
        p.after = prev;
        prev = id;
        p.name = names.name(&d.base, &tag);
        p.comments = format!("zonal:{tag} {}", p.comments);
    }
    // (IPv6, object), in key order; IPv4 and IPv6 objects are declared
    // apart.
    let addresses: Vec<(bool, Address)> = b
        .addresses
        .prefixes
        .in_key_order()
        .into_iter()
        .map(|o| {
            let p = o.value;
            let value = if p.is_v4() {
                format!("{} {}", p.addr(), p.netmask())
            } else {
                p.to_string()
            };
            (
                !p.is_v4(),
                Address {
                    name: o.name,
                    value,
                },
            )
        })
        .collect();
    let groups: Vec<(bool, Group)> = b
        .addresses
        .groups
        .in_key_order()
        .into_iter()
        .map(|o| {
            let (family, members) = o.value;
            (
                family == Family::V6,
                Group {
                    name: o.name,
                    members,
                },
            )
        })
        .collect();
    let rule_count = policies.len() + 1;
    let view = FortiView {
        header: Header::new(policy, firewall, Target::Fortigate),
        tag,
        zones,
        zone_names,
        addresses: addresses
            .iter()
            .filter(|a| !a.0)
            .map(|a| a.1.clone())
            .collect(),
        addresses6: addresses
            .iter()
            .filter(|a| a.0)
            .map(|a| a.1.clone())
            .collect(),
        groups: groups
            .iter()
            .filter(|g| !g.0)
            .map(|g| g.1.clone())
            .collect(),
        groups6: groups.iter().filter(|g| g.0).map(|g| g.1.clone()).collect(),
        services: b.services.into_values().collect(),
        schedules: b.schedules.into_values().collect(),
        policies,
        begin_id: BEGIN_ID,
        deny_id: DENY_ID,
        last_id: prev,
        notes: notes
            .iter()
            .map(|n| comment(Target::Fortigate, n))
            .collect(),
        rule_count,
    };
    Ok((view, warnings))
}

/// Free text for a FortiOS comment: UTF-8 letters and digits kept
/// ("Röntgen, 放射線科" stays), at most `max` bytes; whether it was cut.
fn utf8_comment(raw: &str, max: usize) -> (String, bool) {
    crate::escape::free_text(true, raw, max)
}

/// Two Zonal zones must not become one FortiOS zone (names are compared
/// without case): the second `edit` would replace the first's interfaces
/// and both zones' policies would match each other's traffic.
fn zone_collisions(plan: &FirewallPlan<'_>, zones: &[FortiZone]) -> Result<(), Diagnostics> {
    let span_of = |i: usize| {
        plan.zones
            .get(i)
            .and_then(|z| plan.policy.zone_by_name(&z.name))
            .map_or(plan.policy.header_span, |z| z.decl_span)
    };
    let mut errors = Diagnostics::new();
    // The first zone of each name without case: a map, not a scan of
    // every earlier zone.
    let mut first: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (i, z) in zones.iter().enumerate() {
        let j = *first.entry(z.name.to_ascii_lowercase()).or_insert(i);
        if j != i {
            let (a, b) = (
                plan.zones.get(j).map_or("", |z| z.name.as_str()),
                plan.zones.get(i).map_or("", |z| z.name.as_str()),
            );
            errors.push(
                Diagnostic::error(
                    "E0333",
                    format!("zones `{a}` and `{b}` both become the FortiGate zone `{}`", z.name),
                    span_of(i),
                    "same FortiGate zone name after sanitising",
                )
                .with_secondary(span_of(j), "first zone with this name")
                .with_help("rename one of the zones, or give each its own `vendor-zone` in the deployment binding"),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Unique policy names within FortiOS' 35 characters: a base of at most
/// 28, then `-` and the 6-character version tag.
#[derive(Default)]
struct PolicyNames {
    used: BTreeSet<String>,
}

impl PolicyNames {
    fn name(&mut self, base: &str, tag: &str) -> String {
        let keep = NAME_MAX - tag.len() - 1;
        let full = ident(Target::Fortigate, "", base);
        let head = if full.len() > keep {
            let hash = vendor::content_hash(base);
            let cut = full
                .get(..keep - hash.len() - 1)
                .unwrap_or(&full)
                .trim_end_matches(['_', '-']);
            format!("{cut}-{hash}")
        } else {
            full
        };
        let mut cand = head.clone();
        let mut n = 2u32;
        while !self.used.insert(cand.clone()) {
            let suffix = format!("-{n}");
            let cut = head.get(..keep - suffix.len()).unwrap_or(&head);
            cand = format!("{cut}{suffix}");
            n += 1;
        }
        format!("{cand}-{tag}")
    }
}

struct Builder {
    namer: Namer,
    addresses: vendor::Addresses,
    services: BTreeMap<String, Service>,
    schedules: BTreeMap<Date, Schedule>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            namer: Namer::default(),
            addresses: vendor::Addresses::new(Target::Fortigate, '-'),
            services: BTreeMap::new(),
            schedules: BTreeMap::new(),
        }
    }
}

/// Entries that may share one policy: same action, rule, family, services
/// and comment.
type MergeKey = (bool, RuleId, bool, FamilyServices, String);

impl Builder {
    /// The policies of the plan, before ids and names: the placed entries
    /// of one rule (same family, services and comment) merged over zone
    /// pairs where the merge is exact. Denies first; within denies and
    /// within allows the order does not change any decision.
    #[expect(
        clippy::too_many_lines,
        reason = "the two merge steps and the draft of each merged group read best in one place"
    )]
    fn drafts<'a>(
        &mut self,
        plan: &'a FirewallPlan<'_>,
        firewall: &Firewall,
        notes: &mut Vec<String>,
    ) -> Vec<Draft<'a>> {
        // Step 1: one row per (key, source zone, source set): the
        // destination zones and the union of their destinations. A wide
        // entry's zones and destinations stay shared by its source zones
        // until a zone pair's own entry adds to them.
        type Row = (
            MergeKey,
            PlanZoneId,
            AddrSet,
            Arc<Vec<PlanZoneId>>,
            Arc<AddrSet>,
        );
        let mut rows: Vec<Row> = Vec::new();
        let mut row_of: BTreeMap<(MergeKey, PlanZoneId, AddrSet), usize> = BTreeMap::new();
        let mut first: BTreeMap<MergeKey, Placed<'a>> = BTreeMap::new();
        for p in vendor::placed(plan) {
            let e = p.entry();
            let key: MergeKey = (
                e.action() == Action::Allow,
                e.rule.id,
                p.family == Family::V6,
                p.fe.services.clone(),
                e.comment_raw(),
            );
            let (zones, dst) = match &p.wide {
                Some(w) => (Arc::clone(&w.dsts), Arc::clone(&w.dst)),
                None => (Arc::new(vec![p.dst]), Arc::new(p.fe.dst.clone())),
            };
            let row_key = (key.clone(), p.src, p.fe.src.clone());
            match row_of.get(&row_key).and_then(|&i| rows.get_mut(i)) {
                Some(r) => {
                    for z in zones.iter() {
                        if !r.3.contains(z) {
                            Arc::make_mut(&mut r.3).push(*z);
                        }
                    }
                    if !dst.is_subset(&r.4) {
                        r.4 = Arc::new(r.4.union(&dst));
                    }
                }
                None => {
                    row_of.insert(row_key, rows.len());
                    rows.push((key.clone(), p.src, p.fe.src.clone(), zones, dst));
                }
            }
            first.entry(key).or_insert(p);
        }
        // Step 2: rows with the same key, destination zones and
        // destinations merge their sources (zones partition addresses, so
        // the product stays exact). Shared zone lists and sets are
        // compared by content once per distinct list or set.
        let mut zone_ids: BTreeMap<*const Vec<PlanZoneId>, usize> = BTreeMap::new();
        let mut zone_lists: BTreeMap<Vec<PlanZoneId>, usize> = BTreeMap::new();
        let mut set_ids: BTreeMap<*const AddrSet, usize> = BTreeMap::new();
        let mut sets: BTreeMap<AddrSet, usize> = BTreeMap::new();
        type Merged = (
            MergeKey,
            Vec<PlanZoneId>,
            Vec<AddrSet>,
            Arc<Vec<PlanZoneId>>,
            Arc<AddrSet>,
        );
        let mut merged: Vec<Merged> = Vec::new();
        let mut merged_of: BTreeMap<(MergeKey, usize, usize), usize> = BTreeMap::new();
        for (key, s, a, ds, bset) in rows {
            let zi = *zone_ids.entry(Arc::as_ptr(&ds)).or_insert_with(|| {
                let next = zone_lists.len();
                *zone_lists.entry((*ds).clone()).or_insert(next)
            });
            let si = *set_ids.entry(Arc::as_ptr(&bset)).or_insert_with(|| {
                let next = sets.len();
                *sets.entry((*bset).clone()).or_insert(next)
            });
            let k = (key.clone(), zi, si);
            match merged_of.get(&k).and_then(|&i| merged.get_mut(i)) {
                Some(m) => {
                    m.1.push(s);
                    m.2.push(a);
                }
                None => {
                    merged_of.insert(k, merged.len());
                    merged.push((key, vec![s], vec![a], ds, bset));
                }
            }
        }
        type Group = (MergeKey, Vec<PlanZoneId>, AddrSet, Vec<PlanZoneId>, AddrSet);
        let merged: Vec<Group> = merged
            .into_iter()
            .map(|(key, srcs, a, ds, bset)| {
                let a = AddrSet::union_all(a);
                (key, srcs, a, (*ds).clone(), (*bset).clone())
            })
            .collect();
        let mut out = Vec::new();
        for (key, srcs, a, dsts, bset) in merged {
            let Some(p) = first.get(&key) else { continue };
            let e = p.entry();
            let services = self.services(&vendor::services_hint(e.rule), &p.fe.services);
            if services.is_empty() {
                let note = format!(
                    "rule {}: only port 0 is left, which FortiOS cannot express; not rendered",
                    e.name()
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
                continue;
            }
            let log = match e.action() {
                Action::Allow => firewall.logging.allow,
                Action::Deny => firewall.logging.deny,
            };
            let (src_name, dst_name) = (plan[p.src].name.as_str(), plan[p.dst].name.as_str());
            let pair = if srcs.len() == 1 && dsts.len() == 1 {
                format!("{src_name} to {dst_name}")
            } else {
                let names = |ids: &[PlanZoneId]| {
                    ids.iter()
                        .map(|&i| plan[i].name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("{} to {}", names(&srcs), names(&dsts))
            };
            let mut comment_raw = format!(
                "{} ({pair} {})",
                e.name(),
                crate::plan::family_name(p.family)
            );
            let raw = e.comment_raw();
            if let Some(rest) = raw.strip_prefix(e.name()) {
                comment_raw.push_str(rest);
            }
            out.push(Draft {
                base: format!("{}-{}", e.name(), vendor::digit(p.family)),
                rule: e.rule,
                srcintf: srcs,
                dstintf: dsts,
                family: p.family,
                src: a,
                dst: bset,
                services,
                action: e.action(),
                log,
                schedule: e
                    .until()
                    .map_or_else(|| "always".to_string(), |u| self.schedule(u)),
                comment_raw,
            });
        }
        out
    }

    /// One side of a policy in one family: `all`, the object or group of
    /// the set, or, when the set is most of the family (a catch-all
    /// external zone), its complement negated.
    fn side(&mut self, hint: &str, a: &AddrSet, family: Family) -> Side {
        let full = AddrSet::full_family(family);
        if *a == full {
            return Side {
                name: "all".into(),
                negate: "disable",
            };
        }
        let rest = full.subtract(a);
        if rest.prefix_count() < a.prefix_count() {
            return Side {
                name: self
                    .addresses
                    .set(&mut self.namer, &format!("{hint}-not"), &rest, family),
                negate: "enable",
            };
        }
        Side {
            name: self.addresses.set(&mut self.namer, hint, a, family),
            negate: "disable",
        }
    }

    /// The services of an entry: `ALL`, or one custom service for the TCP
    /// and UDP ports, one per ICMP type and one per other protocol.
    fn services(&mut self, rule: &str, s: &FamilyServices) -> Vec<String> {
        if s.all {
            return vec!["ALL".into()];
        }
        let mut out = Vec::new();
        let mut tcp = Vec::new();
        let mut udp = Vec::new();
        for ps in &s.protos {
            match ps.proto {
                TCP | UDP => {
                    let ranges = if ps.whole {
                        vec![(0, u16::MAX)]
                    } else {
                        ps.ranges.clone()
                    };
                    // FortiOS ports start at 1: port 0 carries no traffic.
                    let list: Vec<String> = ranges
                        .iter()
                        .filter(|(_, hi)| *hi > 0)
                        .map(|&(lo, hi)| {
                            let lo = lo.max(1);
                            if lo == hi {
                                lo.to_string()
                            } else {
                                format!("{lo}-{hi}")
                            }
                        })
                        .collect();
                    if ps.proto == TCP {
                        tcp = list
                    } else {
                        udp = list
                    }
                }
                ICMP | ICMPV6 => {
                    let kw = if ps.proto == ICMP { "ICMP" } else { "ICMP6" };
                    let types: Vec<Option<u16>> = if ps.whole {
                        vec![None]
                    } else {
                        ps.ranges
                            .iter()
                            .flat_map(|&(lo, hi)| (lo..=hi).map(Some))
                            .collect()
                    };
                    for t in types {
                        let raw = match t {
                            Some(t) => format!("{}-{t}", kw.to_ascii_lowercase()),
                            None => kw.to_ascii_lowercase(),
                        };
                        out.push(self.service(&raw, &raw, kw, Vec::new(), Vec::new(), t, None));
                    }
                }
                n => {
                    let raw = format!("proto-{n}");
                    out.push(self.service(&raw, &raw, "IP", Vec::new(), Vec::new(), None, Some(n)));
                }
            }
        }
        if !tcp.is_empty() || !udp.is_empty() {
            let key = format!("tcp {} udp {}", tcp.join(" "), udp.join(" "));
            let hint = format!("{rule}-{}", vendor::content_hash(&key));
            let name = self.service(&key, &hint, "TCP/UDP/SCTP", tcp, udp, None, None);
            out.insert(0, name);
        }
        out
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call per kind of FortiOS service; a struct would only rename them"
    )]
    fn service(
        &mut self,
        key: &str,
        hint: &str,
        protocol: &str,
        tcp: Vec<String>,
        udp: Vec<String>,
        icmptype: Option<u16>,
        protocol_number: Option<u8>,
    ) -> String {
        if let Some(s) = self.services.get(key) {
            return s.name.clone();
        }
        let name = self.namer.name(Target::Fortigate, "s-", hint);
        self.services.insert(
            key.to_string(),
            Service {
                name: name.clone(),
                protocol: protocol.into(),
                tcp,
                udp,
                icmptype,
                protocol_number,
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
                    Target::Fortigate,
                    ident(Target::Fortigate, "until-", &until.to_string()),
                ),
                start: "00:00 2001/01/01".into(),
                end: format!(
                    "23:59 {:04}/{:02}/{:02}",
                    until.year, until.month, until.day
                ),
            })
            .name
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use zonal_model::ServiceSet;
    use zonal_model::service::{ICMPV6, TCP, UDP};
    use zonal_model::sets::IntervalSet;

    use super::*;
    use crate::Request;
    use crate::Templates;
    use crate::targets::vendor::fixture::{R, policy, zones};
    use zonal_model::Policy;

    fn rendered(p: &Policy) -> Artifact {
        let fw = Firewall::by_address("fw");
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let mut db = SourceDb::new();
        let mut out = crate::render(Target::Fortigate, &req, &mut db)
            .map(|r| r.artifacts)
            .expect("renders");
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    fn render_text(p: &Policy) -> String {
        rendered(p).text
    }

    /// The `edit … next` blocks of `config firewall policy`, without the
    /// disabled marker.
    fn policy_blocks(out: &str) -> Vec<String> {
        let start = out.find("config firewall policy\n").expect("policy table");
        let table = &out[start..];
        let end = table.find("\nend\n").expect("end");
        table[..end]
            .split("    edit ")
            .skip(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn zones_deny_intrazone_and_the_last_policy_denies_and_logs() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "a",
                &["10.20.0.1"],
                &["10.30.0.1"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_text(&p);
        assert_eq!(
            out.matches("        set intrazone deny\n").count(),
            4,
            "{out}"
        );
        let blocks = policy_blocks(&out);
        assert_eq!(blocks.len(), 2);
        let last = blocks.last().unwrap();
        for line in [
            "set name \"zonal-deny\"",
            // Scoped to Zonal's zones: foreign interfaces are not Zonal's.
            "set srcintf \"imaging\" \"pacs\" \"legacy\" \"internet\"\n",
            "set srcaddr \"all\"",
            "set dstaddr6 \"all\"",
            "set action deny",
            "set service \"ALL\"",
            "set logtraffic all",
        ] {
            assert!(last.contains(line), "{line} missing in {last}");
        }
        assert!(blocks[0].starts_with("1000001\n"), "{}", blocks[0]);
        assert!(last.starts_with("1099999\n"), "{last}");
        assert!(
            blocks[0].contains("set srcaddr \"h4-10_20_0_1\"\n"),
            "{}",
            blocks[0]
        );
        // The other family is set too, to nothing.
        assert!(blocks[0].contains("set srcaddr6 \"none\"\n"));
        assert!(blocks[0].contains("set dstaddr6 \"none\"\n"));
        assert!(out.contains("        set tcp-portrange 104\n"));
        assert!(
            out.contains("    move 1000001 after 1000000\n    move 1099999 after 1000001\nend\n")
        );
    }

    #[test]
    fn every_address_field_is_set_for_both_families() {
        let p = policy(
            &zones(),
            vec![
                R::allow("a", &["10.20.0.1"], &["10.30.0.1"], ServiceSet::any()),
                R::allow(
                    "b",
                    &["2001:db8:20::1"],
                    &["2001:db8:30::1"],
                    ServiceSet::any(),
                ),
            ],
        );
        for block in policy_blocks(&render_text(&p)) {
            for field in [
                "srcaddr",
                "dstaddr",
                "srcaddr6",
                "dstaddr6",
                "srcaddr-negate",
                "dstaddr-negate",
                "srcaddr6-negate",
                "dstaddr6-negate",
                "status",
                "service-negate",
                "schedule",
                "logtraffic",
                "comments",
                "name",
            ] {
                assert_eq!(
                    block.matches(&format!("        set {field} ")).count(),
                    1,
                    "{field} in {block}"
                );
            }
        }
    }

    #[test]
    fn ipv6_uses_address6_and_never_widens() {
        let svc = ServiceSet::proto(ICMPV6, IntervalSet::single(128))
            .union(&ServiceSet::ports(UDP, 5000, 5010));
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "v6",
                    &["2001:db8:20::/64"],
                    &["2001:db8:30::5", "10.30.0.5"],
                    svc,
                ),
                R::allow(
                    "v4src",
                    &["10.40.0.1"],
                    &["2001:db8:20::1"],
                    ServiceSet::ports(TCP, 22, 22),
                ),
            ],
        );
        let out = render_text(&p);
        assert!(out.contains("config firewall address6\n    edit \"n6-2001_db8_20_64\"\n        set ip6 2001:db8:20::/64\n"), "{out}");
        let blocks = policy_blocks(&out);
        assert_eq!(blocks.len(), 2, "{out}");
        assert!(
            blocks[0].contains("set srcaddr6 \"n6-2001_db8_20_64\"")
                && blocks[0].contains("set dstaddr6 \"h6-2001_db8_30_5\"")
                && blocks[0].contains("set srcaddr \"none\"")
        );
        assert!(
            blocks[0].contains("set service \"s-") && blocks[0].contains("\"s-icmp6-128\"\n"),
            "{}",
            blocks[0]
        );
        assert!(out.contains("        set protocol ICMP6\n        set icmptype 128\n"));
        assert!(out.contains("v4src is not rendered"), "{out}");
    }

    #[test]
    fn temporary_flows_carry_a_onetime_schedule() {
        let mut r = R::allow(
            "vendor",
            &["10.20.0.1"],
            &["10.30.0.1"],
            ServiceSet::ports(TCP, 443, 443),
        );
        r.until = Date::new(2026, 12, 31);
        let out = render_text(&policy(&zones(), vec![r]));
        assert!(out.contains(
            "config firewall schedule onetime\n    edit \"until-2026-12-31\"\n        set start \"00:00 2001/01/01\"\n        set end \"23:59 2026/12/31\"\n    next\nend\n"
        ), "{out}");
        assert!(policy_blocks(&out)[0].contains("set schedule \"until-2026-12-31\"\n"));
    }

    fn names(out: &str) -> Vec<String> {
        out.lines()
            .filter_map(|l| l.trim().strip_prefix("set name \""))
            .map(|n| n.trim_end_matches('"').to_string())
            .collect()
    }

    #[test]
    fn long_names_are_cut_to_the_limit_and_stay_unique() {
        let svc = ServiceSet::ports(TCP, 1, 1);
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "allow-modalities-to-imaging-servers-dicom-one",
                    &["10.20.0.1"],
                    &["10.30.0.1"],
                    svc.clone(),
                ),
                R::allow(
                    "allow-modalities-to-imaging-servers-dicom-two",
                    &["10.20.0.1"],
                    &["10.30.0.2"],
                    svc.clone(),
                ),
                // Names that sanitise alike stay apart.
                R::allow("a.b", &["10.20.0.1"], &["10.30.0.3"], svc.clone()),
                R::allow("a_b", &["10.20.0.1"], &["10.30.0.4"], svc),
            ],
        );
        let out = render_text(&p);
        let names = names(&out);
        assert_eq!(names.len(), 6, "{out}");
        assert!(names.iter().all(|n| n.len() <= NAME_MAX), "{names:?}");
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), 6, "{names:?}");
        assert!(
            names.iter().any(|n| n.starts_with("allow-modalities-to-")),
            "{names:?}"
        );
    }

    #[test]
    fn names_carry_the_version_tag_and_change_with_the_content() {
        let r = |dst: &'static [&'static str]| {
            R::allow("a", &["10.20.0.1"], dst, ServiceSet::ports(TCP, 1, 1))
        };
        let v1 = names(&render_text(&policy(&zones(), vec![r(&["10.30.0.1"])])));
        let v2 = names(&render_text(&policy(&zones(), vec![r(&["10.30.0.2"])])));
        assert_eq!(v1[1], v1[1].clone());
        assert_ne!(
            v1[1], v2[1],
            "a changed policy must not reuse the names of the last"
        );
        assert!(v1[1].starts_with("a-4-"), "{v1:?}");
    }

    /// Issue 9, names that collide: `a.b` and `a_b` (or `Img` and `img`,
    /// or a zone named `unzoned`) would be one FortiGate zone.
    #[test]
    fn zones_whose_names_collide_are_an_error() {
        for (a, b) in [("a.b", "a_b"), ("Img", "img"), ("unzoned", "unzoned")] {
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
            let fw = Firewall::by_address("fw");
            let req = Request {
                checked: &crate::checked_for_tests(p),
                firewall: &fw,
                templates: &Templates::embedded(),
            };
            let err = crate::render(Target::Fortigate, &req, &mut SourceDb::new())
                .expect_err("collision");
            let d: Vec<&Diagnostic> = err.iter().collect();
            assert_eq!(d.len(), 1, "{a} {b}: {d:?}");
            assert_eq!(d[0].code, "E0333");
        }
    }

    #[test]
    fn denies_precede_allows() {
        let p = policy(
            &zones(),
            vec![
                R::allow("a", &["10.20.0.0/24"], &["10.30.0.0/24"], ServiceSet::any()),
                R::deny("d", &["10.20.0.66"], &["10.30.0.0/24"], ServiceSet::any()),
            ],
        );
        let blocks = policy_blocks(&render_text(&p));
        assert!(blocks[0].contains("set name \"d-4-") && blocks[0].contains("set action deny"));
        assert!(blocks[1].contains("set name \"a-4-") && blocks[1].contains("set service \"ALL\""));
    }

    #[test]
    fn the_internet_is_a_negation_and_zone_pairs_share_a_policy() {
        // One rule from two zones to the catch-all internet: one policy
        // with both source zones, the internet as "not the internal
        // networks".
        let mut p = policy(
            &zones(),
            vec![R::allow(
                "web",
                &["10.20.0.0/24", "10.30.0.0/24"],
                &["any"],
                ServiceSet::ports(TCP, 443, 443),
            )],
        );
        // To the internet zone only (the complement of the internal zones).
        p.rules[0].terms[0].dst = p.zones[3].addrs.clone();
        let out = render_text(&p);
        let blocks = policy_blocks(&out);
        let web: Vec<&String> = blocks
            .iter()
            .filter(|b| b.contains("set dstintf \"internet\"\n"))
            .collect();
        assert_eq!(web.len(), 1, "{out}");
        assert!(
            web[0].contains("set srcintf \"imaging\" \"pacs\"\n"),
            "{}",
            web[0]
        );
        assert!(web[0].contains("set dstaddr-negate enable\n"), "{}", web[0]);
        assert!(
            web[0].contains("set dstaddr6-negate disable\n"),
            "{}",
            web[0]
        );
        // No expansion of the complement into many objects.
        assert!(out.matches("set subnet").count() < 10, "{out}");
    }

    /// Issue 9, everywhere: justifications lost their non-ASCII text
    /// ("Röntgen, 放射線科" became "R ntgen,"). FortiOS comments are UTF-8:
    /// the letters stay, quotes and controls still go.
    #[test]
    fn justifications_keep_their_unicode_letters() {
        let mut r = R::allow("j", &["10.20.0.1"], &["10.30.0.1"], ServiceSet::any());
        r.justification = Some("Röntgen, 放射線科 \"x\"\n# set action accept");
        let out = render_text(&policy(&zones(), vec![r]));
        let line = out
            .lines()
            .find(|l| l.contains("set comments \"zonal:") && l.contains("Röntgen"))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(
            line.contains("Röntgen, 放射線科 x set action accept\""),
            "{line}"
        );
        assert_eq!(line.matches('"').count(), 2, "{line}");
        let (cut, was_cut) = utf8_comment(&"放".repeat(400), 1010);
        assert!(was_cut && cut.len() <= 1010 && cut.ends_with("..."));
    }

    #[test]
    fn a_long_justification_is_kept_up_to_1023_bytes_and_warned_about_beyond() {
        let mut r = R::allow("j", &["10.20.0.1"], &["10.30.0.1"], ServiceSet::any());
        r.justification = Some(Box::leak("word ".repeat(150).into_boxed_str()));
        let a = rendered(&policy(&zones(), vec![r]));
        let comment = a
            .text
            .lines()
            .find(|l| l.contains("set comments \"zonal:") && l.contains("word"))
            .expect("comment");
        assert!(comment.len() > 700, "{comment}");
        assert!(a.warnings.is_empty());
        let mut r = R::allow("j", &["10.20.0.1"], &["10.30.0.1"], ServiceSet::any());
        r.justification = Some(Box::leak("word ".repeat(300).into_boxed_str()));
        let a = rendered(&policy(&zones(), vec![r]));
        let w: Vec<&Diagnostic> = a.warnings.iter().collect();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, "W0321");
        assert!(w[0].message.contains("`j`") && w[0].message.contains("fortigate"));
        for l in a.text.lines().filter(|l| l.contains("set comments")) {
            assert!(l.len() <= COMMENT_MAX + 30, "{}", l.len());
        }
    }
}
