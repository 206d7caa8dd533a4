//! What one firewall enforces, built once and rendered by every target.
//!
//! [`FirewallPlan::build`] turns the IR and a firewall into what every
//! target renders: the zones the firewall enforces (with disjoint address
//! sets, addressed by [`PlanZoneId`]), and for each ordered zone pair the
//! list of [`Entry`]s (deny entries first, then allows, each in canonical
//! rule order; no entry twice). An entry borrows its [`Rule`]: name,
//! action, expiry and justification are read from the policy, never copied.
//! The plan depends on the policy and the firewall only, not on the target,
//! so the pipeline builds it once per firewall and renders every target of
//! that firewall from it.
//!
//! Exactness: every zone pair gets every part of every active rule whose
//! source lies in the first zone and destination in the second; since the
//! zones' address sets partition the address space (in by-address mode an
//! `unzoned` pseudo zone takes the addresses of no zone), dispatching a
//! packet to its zone pair's entries and taking the first match (denies
//! first) gives exactly `Policy::decide`.
//!
//! Wide terms: in address mode a term that spans more than
//! [`WIDE_MIN_PAIRS`] zone pairs (`any -> any`, group → group) is not split
//! per pair: it becomes one entry of [`FirewallPlan::wide`], decided after
//! the packet's zone pair did not decide it. Deny wins, so each narrow pair
//! with an allow also carries the wide denies restricted to it (marked
//! [`Entry::injected`]); the rendered size then follows the policy, not
//! the product of the zones. With interfaces the plan has no wide entries.
//!
//! Family split: [`Entry::family`] restricts an entry to IPv4 or IPv6 and
//! refuses (never widens) when a side has no address of that family.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_model::service::{ICMP, ICMPV6, proto_name, selector_domain};
use zonal_model::{
    Action, AddrSet, Date, Family, OriginKind, Policy, Prefix, Rule, RuleId, ServiceSet,
};

use crate::escape::{self, Namer};
use crate::objects::ObjectBook;
use crate::{Firewall, Target};

/// The header every output starts with.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Header {
    /// Policy name (sanitised).
    pub(crate) policy: String,
    /// `Policy::digest`.
    pub(crate) digest: String,
    /// Zonal's version.
    pub(crate) version: &'static str,
    /// Target name.
    pub(crate) target: &'static str,
    /// Firewall name (sanitised).
    pub(crate) firewall: String,
}

impl Header {
    pub(crate) fn new(policy: &Policy, firewall: &Firewall, target: Target) -> Self {
        Header {
            policy: escape::comment(target, &policy.name),
            digest: escape::comment(target, &policy.digest),
            version: env!("CARGO_PKG_VERSION"),
            target: target.name(),
            firewall: escape::comment(target, &firewall.name),
        }
    }
}

/// A zone as the firewall sees it.
#[derive(Clone, Debug)]
pub(crate) struct PlanZone {
    /// The zone name (raw; sanitise before output), or `unzoned`.
    pub(crate) name: String,
    /// Its addresses, disjoint from every other plan zone's.
    pub(crate) addrs: AddrSet,
    /// Bound interface.
    pub(crate) interface: Option<String>,
    /// Bound vendor zone name.
    pub(crate) vendor_zone: Option<String>,
    /// Whether this is the `unzoned` pseudo zone.
    pub(crate) pseudo: bool,
}

/// The id of a zone in a [`FirewallPlan`]: its position in
/// [`FirewallPlan::zones`]. Only the plan makes them, so indexing the plan
/// with one never fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PlanZoneId(u32);

impl PlanZoneId {
    /// The position in [`FirewallPlan::zones`] (and in any list a target
    /// builds in the same order).
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }

    fn new(i: usize) -> Self {
        PlanZoneId(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

/// One rendered rule fragment: `src × dst × services` of one rule within
/// one zone pair.
#[derive(Clone, Debug)]
pub(crate) struct Entry<'p> {
    /// The rule (name, action, origin, expiry and justification are its).
    pub(crate) rule: &'p Rule,
    /// Other rules that produced exactly the same fragment.
    pub(crate) also: Vec<&'p Rule>,
    /// Source addresses.
    pub(crate) src: AddrSet,
    /// Destination addresses.
    pub(crate) dst: AddrSet,
    /// Services.
    pub(crate) services: ServiceSet,
    /// Whether this is a wide deny restricted to its zone pair (see
    /// [`FirewallPlan::wide`]): it repeats, inside a pair with allows, a
    /// deny the wide list decides anyway.
    pub(crate) injected: bool,
}

/// The entries of one ordered zone pair.
#[derive(Clone, Debug)]
pub(crate) struct Pair<'p> {
    /// The source zone.
    pub(crate) src: PlanZoneId,
    /// The destination zone.
    pub(crate) dst: PlanZoneId,
    /// Deny entries first, then allows.
    pub(crate) entries: Vec<Entry<'p>>,
}

/// What one firewall enforces, independent of the target: build it once
/// with [`crate::plan`] and render it for every target of the firewall
/// with [`crate::render_plan`].
#[derive(Clone, Debug)]
pub struct FirewallPlan<'p> {
    /// The policy.
    pub(crate) policy: &'p Policy,
    /// The firewall.
    pub(crate) firewall: &'p Firewall,
    /// Zones (sorted by name; the pseudo zone last).
    pub(crate) zones: Vec<PlanZone>,
    /// Zone pairs with at least one narrow entry, sorted by `(src, dst)`:
    /// the terms that span few zone pairs, plus (marked
    /// [`Entry::injected`], after the pair's denies) the wide denies
    /// restricted to each pair that has an allow. nftables, iptables and
    /// SRX render them pair by pair and the wide list after them; pf and
    /// IOS merge both per rule ([`FirewallPlan::by_rule`]); the other
    /// vendor targets restrict the wide entries to each pair and merge the
    /// pairs into zone lists.
    pub(crate) narrow: Vec<Pair<'p>>,
    /// Entries of the wide terms (those spanning more than
    /// [`WIDE_MIN_PAIRS`] zone pairs, address mode only), restricted to the
    /// plan's zones, denies first: they are decided after a packet's zone
    /// pair did not decide it, before the default deny. Deny wins, so this
    /// is exact: a pair with an allow carries the wide denies itself.
    pub(crate) wide: Vec<Entry<'p>>,
    /// Whether packets are classified by interface (every bound zone has one).
    pub(crate) by_interface: bool,
    /// Notes for the output (raw; sanitise before output): expired rules,
    /// rules that do not cross this firewall.
    pub(crate) notes: Vec<String>,
    /// Names of address sets (see [`FirewallPlan::describe`]).
    names: BTreeMap<AddrSet, String>,
    /// The zones' address ranges, sorted (see [`FirewallPlan::zone_parts`]).
    index: ZoneIndex,
}

impl FirewallPlan<'_> {
    /// The zones with their ids, in order.
    pub(crate) fn zone_ids(&self) -> impl Iterator<Item = (PlanZoneId, &PlanZone)> {
        self.zones
            .iter()
            .enumerate()
            .map(|(i, z)| (PlanZoneId::new(i), z))
    }

    /// The zones whose addresses meet `set` (ascending), each with its part
    /// of `set`: found through the sorted index of zone ranges, so the cost
    /// follows the zones met, not every zone of the firewall.
    pub(crate) fn zone_parts(&self, set: &AddrSet) -> Vec<(PlanZoneId, AddrSet)> {
        self.index
            .parts_of(set)
            .into_iter()
            .map(|(i, v4, v6)| (PlanZoneId::new(i), AddrSet::from_ranges(v4, v6)))
            .collect()
    }
}

impl std::ops::Index<PlanZoneId> for FirewallPlan<'_> {
    type Output = PlanZone;

    fn index(&self, id: PlanZoneId) -> &PlanZone {
        &self.zones[id.index()]
    }
}

/// The end of the note on a rule that crosses no zone pair of the firewall.
const NO_TRAFFIC: &str = " has no traffic through this firewall; not rendered";

/// `(source, destination, services)` of a rule within one zone pair.
type Fragment = (AddrSet, AddrSet, ServiceSet);

/// Why an entry is left out of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// The source has no address of the family.
    Src,
    /// The destination has no address of the family.
    Dst,
    /// No service applies to the family (ICMP in IPv6, ICMPv6 in IPv4).
    Service,
}

/// One protocol with its selectors.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct ProtoSel {
    /// IP protocol number.
    pub(crate) proto: u8,
    /// Its usual name (`tcp`, `udp`, `icmp`, `icmpv6`, `esp`, or the number).
    pub(crate) name: String,
    /// Whether every port/type of the protocol is covered (or it has none).
    pub(crate) whole: bool,
    /// Port or ICMP type ranges, merged and ascending (empty when `whole`).
    pub(crate) ranges: Vec<(u16, u16)>,
}

/// Services restricted to one family.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FamilyServices {
    /// Every protocol of the family (no protocol match needed).
    pub(crate) all: bool,
    /// The protocols, ascending (empty when `all`).
    pub(crate) protos: Vec<ProtoSel>,
}

/// An entry restricted to one family.
#[derive(Clone, Debug)]
pub(crate) struct FamilyEntry<'e> {
    /// The entry.
    pub(crate) entry: &'e Entry<'e>,
    /// Source addresses of the family (non-empty).
    pub(crate) src: AddrSet,
    /// Destination addresses of the family (non-empty).
    pub(crate) dst: AddrSet,
    /// Services of the family (non-empty).
    pub(crate) services: FamilyServices,
}

impl<'p> FirewallPlan<'p> {
    /// Builds the plan of `firewall` for `policy`.
    pub(crate) fn build(policy: &'p Policy, firewall: &'p Firewall) -> FirewallPlan<'p> {
        let mut zones: Vec<PlanZone> = Vec::new();
        let mut covered = AddrSet::empty();
        let bound = firewall.zones.as_ref();
        // A checked policy's zones are disjoint: then no zone loses
        // addresses to an earlier one and the covered set is one merge,
        // not a set grown zone by zone.
        let disjoint = zones_disjoint(policy);
        for z in &policy.zones {
            let binding = match bound {
                Some(list) => match list.iter().find(|b| b.zone == z.name) {
                    Some(b) => Some(b),
                    None => continue,
                },
                None => None,
            };
            let addrs = if disjoint {
                z.addrs.clone()
            } else {
                let addrs = z.addrs.subtract(&covered);
                covered = covered.union(&addrs);
                addrs
            };
            zones.push(PlanZone {
                name: z.name.clone(),
                addrs,
                interface: binding.and_then(|b| b.interface.clone()),
                vendor_zone: binding.and_then(|b| b.vendor_zone.clone()),
                pseudo: false,
            });
        }
        if disjoint {
            covered = AddrSet::union_all(zones.iter().map(|z| z.addrs.clone()));
        }
        if bound.is_none() {
            let rest = covered.complement();
            if !rest.is_empty() {
                zones.push(PlanZone {
                    name: "unzoned".into(),
                    addrs: rest,
                    interface: None,
                    vendor_zone: None,
                    pseudo: true,
                });
            }
        }

        let by_interface = firewall.by_interface();
        let mut notes = Vec::new();
        for rule in &policy.rules {
            if rule.expired {
                let until = rule.until.map(|d| d.to_string()).unwrap_or_default();
                notes.push(format!(
                    "rule {} expired on {until}; not rendered",
                    rule.name
                ));
            }
        }
        let index = ZoneIndex::new(&zones);
        let split = split_terms(policy, &zones, &index, !by_interface);
        for rule in &policy.rules {
            if !rule.expired && !split.placed.contains(&rule.id) {
                notes.push(format!("rule {}{NO_TRAFFIC}", rule.name));
            }
        }
        let mut wide_by_rule: BTreeMap<RuleId, Vec<Fragment>> = BTreeMap::new();
        for (rid, f) in split.wide {
            wide_by_rule.entry(rid).or_default().push(f);
        }
        let wide = ordered_entries(policy, wide_by_rule);
        let mut narrow = Vec::new();
        for ((src, dst), by_rule) in split.narrow {
            let mut entries = ordered_entries(policy, by_rule);
            inject_wide_denies(
                &mut entries,
                &wide,
                &zones[src.index()],
                &zones[dst.index()],
            );
            narrow.push(Pair { src, dst, entries });
        }
        let names = address_names(policy, &zones);
        FirewallPlan {
            policy,
            firewall,
            zones,
            narrow,
            wide,
            by_interface,
            notes,
            names,
            index,
        }
    }

    /// Every rendered entry once: the narrow pairs' own entries (not the
    /// injected wide denies) and the wide entries.
    pub(crate) fn all_entries(&self) -> impl Iterator<Item = &Entry<'p>> {
        self.narrow
            .iter()
            .flat_map(|p| p.entries.iter().filter(|e| !e.injected))
            .chain(&self.wide)
    }

    /// The entries merged over zone pairs, one group per rule (denies
    /// first, then allows, canonical order; no entry twice). Targets that
    /// match by address without zone dispatch (pf, a single IOS ACL) use
    /// this: the union of a rule's pair entries is the rule restricted to
    /// the firewall's zones.
    pub(crate) fn by_rule(&self) -> Vec<Entry<'p>> {
        let policy = self.policy;
        let mut frags: BTreeMap<RuleId, Vec<Fragment>> = BTreeMap::new();
        {
            for e in self.all_entries() {
                for rule in std::iter::once(e.rule).chain(e.also.iter().copied()) {
                    frags.entry(rule.id).or_default().push((
                        e.src.clone(),
                        e.dst.clone(),
                        e.services.clone(),
                    ));
                }
            }
        }
        ordered_entries(policy, frags)
    }

    /// Notes for the rules that have an entry on this firewall but are left
    /// out of `family` entirely (never widened), e.g. an IPv4-only source.
    pub(crate) fn family_notes(&self, family: Family) -> Vec<String> {
        let policy = self.policy;
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for e in self.all_entries() {
            seen.insert(e.rule.id);
        }
        for e in self.all_entries() {
            if e.family(family).is_ok() {
                seen.remove(&e.rule.id);
            }
        }
        let fam = family_name(family);
        for rid in seen {
            let rule = policy.rule(rid);
            let why = if !rule.src_addrs().has_family(family) {
                format!("its source has no {fam} address")
            } else if !rule.dst_addrs().has_family(family) {
                format!("its destination has no {fam} address")
            } else if family_services(&rule.all_services(), family).is_none() {
                format!("none of its services applies to {fam}")
            } else {
                format!("no source and destination of the same zone pair have {fam} addresses")
            };
            out.push(format!(
                "rule {} is not rendered for {fam}: {why}",
                rule.name
            ));
        }
        out
    }

    /// The addresses of no plan zone: what a binding that lists only some
    /// zones leaves out (zones it does not list, addresses in no zone).
    /// Empty without a binding (the pseudo zone `unzoned` takes them).
    pub(crate) fn outside(&self) -> AddrSet {
        AddrSet::union_all(self.zones.iter().map(|z| z.addrs.clone())).complement()
    }

    /// The entries of every active rule restricted to sources in `src` and
    /// destinations in `dst` (denies first, then allows, in rule order).
    /// Targets that filter where a packet enters (an inbound interface ACL
    /// sees every packet leaving its zone, whatever the destination) use it
    /// for the flows between a listed zone and [`FirewallPlan::outside`].
    pub(crate) fn entries_between(&self, src: &AddrSet, dst: &AddrSet) -> Vec<Entry<'p>> {
        let mut denies = Vec::new();
        let mut allows = Vec::new();
        if src.is_empty() || dst.is_empty() {
            return denies;
        }
        for rule in self.policy.rules.iter().filter(|r| !r.expired) {
            for term in &rule.terms {
                if term.services.is_empty() {
                    continue;
                }
                let (s, d) = (term.src.intersect(src), term.dst.intersect(dst));
                if s.is_empty() || d.is_empty() {
                    continue;
                }
                let e = Entry {
                    rule,
                    also: Vec::new(),
                    src: s,
                    dst: d,
                    services: term.services.clone(),
                    injected: false,
                };
                if rule.action == Action::Deny {
                    denies.push(e);
                } else {
                    allows.push(e);
                }
            }
        }
        denies.extend(allows);
        denies
    }

    /// The plan's notes for a target that also renders the flows between
    /// listed zones and [`FirewallPlan::outside`] (see
    /// [`FirewallPlan::entries_between`]): the plan counts only flows
    /// between listed zones, so "no traffic" is said again of the active
    /// rules not in `rendered` only.
    pub(crate) fn ingress_notes(
        &self,
        rendered: &std::collections::BTreeSet<RuleId>,
    ) -> Vec<String> {
        let mut out: Vec<String> = self
            .notes
            .iter()
            .filter(|n| !n.ends_with(NO_TRAFFIC))
            .cloned()
            .collect();
        let listed = AddrSet::union_all(
            self.zones
                .iter()
                .filter(|z| !z.pseudo)
                .map(|z| z.addrs.clone()),
        );
        for r in self.policy.rules.iter().filter(|r| !r.expired) {
            if rendered.contains(&r.id) {
                continue;
            }
            // Its traffic reaches listed zones only from zones the binding
            // does not list: it enters on interfaces Zonal does not own.
            let enters = r.terms.iter().any(|t| !t.dst.intersect(&listed).is_empty());
            if enters {
                out.push(format!(
                    "rule {} reaches the listed zones only from interfaces this binding does not list; not rendered here",
                    r.name
                ));
            } else {
                out.push(format!("rule {}{NO_TRAFFIC}", r.name));
            }
        }
        out
    }

    /// A display name for an address set: the zone, device or group it is
    /// exactly (or exactly one family of), if any.
    pub(crate) fn describe(&self, set: &AddrSet) -> Option<String> {
        self.names.get(set).cloned()
    }
}

/// A term spanning more than this many zone pairs is wide: rendered once
/// (per family) with its address sets instead of once per zone pair.
pub(crate) const WIDE_MIN_PAIRS: usize = 4;

/// The plan zones' address ranges, sorted, to find the zones a set meets
/// without intersecting it with every zone.
#[derive(Clone, Debug)]
struct ZoneIndex {
    v4: Vec<(u32, u32, usize)>,
    v6: Vec<(u128, u128, usize)>,
}

impl ZoneIndex {
    fn new(zones: &[PlanZone]) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            v4.extend(z.addrs.v4_ranges().iter().map(|&(lo, hi)| (lo, hi, i)));
            v6.extend(z.addrs.v6_ranges().iter().map(|&(lo, hi)| (lo, hi, i)));
        }
        v4.sort_unstable();
        v6.sort_unstable();
        ZoneIndex { v4, v6 }
    }

    /// The zones (positions, ascending) whose addresses meet `set`, each
    /// with the ranges of `set` inside it (IPv4, IPv6).
    #[expect(
        clippy::type_complexity,
        reason = "a zone position with its two lists of ranges"
    )]
    fn parts_of(&self, set: &AddrSet) -> Vec<(usize, Vec<(u32, u32)>, Vec<(u128, u128)>)> {
        fn clip<T: Copy + Ord>(
            index: &[(T, T, usize)],
            ranges: &[(T, T)],
            out: &mut Vec<(usize, T, T)>,
        ) {
            for &(lo, hi) in ranges {
                let first = index.partition_point(|&(_, zhi, _)| zhi < lo);
                for &(zlo, zhi, z) in &index[first..] {
                    if zlo > hi {
                        break;
                    }
                    out.push((z, lo.max(zlo), hi.min(zhi)));
                }
            }
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        clip(&self.v4, set.v4_ranges(), &mut a);
        clip(&self.v6, set.v6_ranges(), &mut b);
        let mut parts: BTreeMap<usize, (Vec<(u32, u32)>, Vec<(u128, u128)>)> = BTreeMap::new();
        for (z, lo, hi) in a {
            parts.entry(z).or_default().0.push((lo, hi));
        }
        for (z, lo, hi) in b {
            parts.entry(z).or_default().1.push((lo, hi));
        }
        parts.into_iter().map(|(z, (v4, v6))| (z, v4, v6)).collect()
    }

    /// The zones (positions, ascending) whose addresses meet `set`.
    fn zones_of(&self, set: &AddrSet) -> Vec<usize> {
        fn meet<T: Copy + Ord>(index: &[(T, T, usize)], ranges: &[(T, T)], out: &mut Vec<usize>) {
            for &(lo, hi) in ranges {
                // Zone ranges are disjoint: sorted by start, so by end too.
                let first = index.partition_point(|&(_, zhi, _)| zhi < lo);
                for &(zlo, _, z) in &index[first..] {
                    if zlo > hi {
                        break;
                    }
                    out.push(z);
                }
            }
        }
        let mut out = Vec::new();
        meet(&self.v4, set.v4_ranges(), &mut out);
        meet(&self.v6, set.v6_ranges(), &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Whether the policy's zones have pairwise disjoint addresses (one sort of
/// their ranges).
fn zones_disjoint(policy: &Policy) -> bool {
    fn sorted_apart<T: Copy + Ord>(mut ranges: Vec<(T, T)>) -> bool {
        ranges.sort_unstable();
        ranges.windows(2).all(|w| w[0].1 < w[1].0)
    }
    let v4: Vec<(u32, u32)> = policy
        .zones
        .iter()
        .flat_map(|z| z.addrs.v4_ranges().iter().copied())
        .collect();
    let v6: Vec<(u128, u128)> = policy
        .zones
        .iter()
        .flat_map(|z| z.addrs.v6_ranges().iter().copied())
        .collect();
    sorted_apart(v4) && sorted_apart(v6)
}

/// The active terms of a policy split into narrow fragments per zone pair
/// and wide fragments (when `allow_wide`).
struct Split {
    narrow: BTreeMap<(PlanZoneId, PlanZoneId), BTreeMap<RuleId, Vec<Fragment>>>,
    wide: Vec<(RuleId, Fragment)>,
    /// Rules with at least one fragment.
    placed: std::collections::BTreeSet<RuleId>,
}

fn split_terms(policy: &Policy, zones: &[PlanZone], index: &ZoneIndex, allow_wide: bool) -> Split {
    let mut split = Split {
        narrow: BTreeMap::new(),
        wide: Vec::new(),
        placed: std::collections::BTreeSet::new(),
    };
    let covered = AddrSet::union_all(zones.iter().map(|z| z.addrs.clone()));
    for rule in policy.rules.iter().filter(|r| !r.expired) {
        for term in &rule.terms {
            if term.services.is_empty() {
                continue;
            }
            let (sz, dz) = (index.zones_of(&term.src), index.zones_of(&term.dst));
            if sz.is_empty() || dz.is_empty() {
                continue;
            }
            split.placed.insert(rule.id);
            if allow_wide && sz.len().saturating_mul(dz.len()) > WIDE_MIN_PAIRS {
                split.wide.push((
                    rule.id,
                    (
                        term.src.intersect(&covered),
                        term.dst.intersect(&covered),
                        term.services.clone(),
                    ),
                ));
                continue;
            }
            let part = |list: &[usize], set: &AddrSet| -> Vec<(PlanZoneId, AddrSet)> {
                list.iter()
                    .map(|&i| (PlanZoneId::new(i), set.intersect(&zones[i].addrs)))
                    .collect()
            };
            let (srcs, dsts) = (part(&sz, &term.src), part(&dz, &term.dst));
            for (si, s) in &srcs {
                for (di, d) in &dsts {
                    split
                        .narrow
                        .entry((*si, *di))
                        .or_default()
                        .entry(rule.id)
                        .or_default()
                        .push((s.clone(), d.clone(), term.services.clone()));
                }
            }
        }
    }
    split
}

/// Puts the wide denies, restricted to the zone pair, after the pair's
/// own denies when the pair has an allow: a pair's allow must not decide a
/// packet a wide deny denies.
fn inject_wide_denies<'p>(
    entries: &mut Vec<Entry<'p>>,
    wide: &[Entry<'p>],
    src: &PlanZone,
    dst: &PlanZone,
) {
    let Some(first_allow) = entries.iter().position(|e| e.rule.action == Action::Allow) else {
        return;
    };
    let mut injected = Vec::new();
    for w in wide.iter().filter(|w| w.rule.action == Action::Deny) {
        let (s, d) = (w.src.intersect(&src.addrs), w.dst.intersect(&dst.addrs));
        if s.is_empty() || d.is_empty() {
            continue;
        }
        injected.push(Entry {
            rule: w.rule,
            also: w.also.clone(),
            src: s,
            dst: d,
            services: w.services.clone(),
            injected: true,
        });
    }
    entries.splice(first_allow..first_allow, injected);
}

/// The entries of per-rule fragments: merged per rule, denies first, then
/// allows, in canonical rule order, no entry twice.
fn ordered_entries<'p>(
    policy: &'p Policy,
    by_rule: BTreeMap<RuleId, Vec<Fragment>>,
) -> Vec<Entry<'p>> {
    let mut denies = Vec::new();
    let mut allows = Vec::new();
    for (rid, fs) in by_rule {
        let rule = policy.rule(rid);
        for (src, dst, services) in merge_fragments(fs) {
            let e = Entry {
                rule,
                also: Vec::new(),
                src,
                dst,
                services,
                injected: false,
            };
            if rule.action == Action::Deny {
                denies.push(e);
            } else {
                allows.push(e);
            }
        }
    }
    let mut entries = dedup(denies);
    entries.extend(dedup(allows));
    entries
}

/// Names of address sets, for [`FirewallPlan::describe`]: zones, devices and groups
/// by their exact addresses, then by one family of them (first name wins).
fn address_names(policy: &Policy, zones: &[PlanZone]) -> BTreeMap<AddrSet, String> {
    let groups: Vec<(&str, AddrSet)> = policy
        .groups
        .iter()
        .map(|g| {
            let addrs = AddrSet::union_all(g.members.iter().map(|m| policy.endpoint_addrs(*m)));
            (g.name.as_str(), addrs)
        })
        .collect();
    let mut names: BTreeMap<AddrSet, String> = BTreeMap::new();
    let mut add = |set: AddrSet, name: &str| {
        names.entry(set).or_insert_with(|| name.to_string());
    };
    for z in zones {
        add(z.addrs.clone(), &z.name);
    }
    for d in &policy.devices {
        add(d.addrs.clone(), &d.name);
    }
    for (name, a) in &groups {
        add(a.clone(), name);
    }
    for f in [Family::V4, Family::V6] {
        for (name, a) in &groups {
            add(a.family(f), name);
        }
        for z in zones {
            add(z.addrs.family(f), &z.name);
        }
        for d in &policy.devices {
            add(d.addrs.family(f), &d.name);
        }
    }
    names.remove(&AddrSet::empty());
    names
}

/// `IPv4` or `IPv6`.
pub(crate) fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

impl<'p> Entry<'p> {
    /// The rule's stable name (`[a-z0-9-]`).
    pub(crate) fn name(&self) -> &'p str {
        &self.rule.name
    }

    /// Allow or deny.
    pub(crate) fn action(&self) -> Action {
        self.rule.action
    }

    /// Expiry (active rules only reach the plan).
    pub(crate) fn until(&self) -> Option<Date> {
        self.rule.until
    }

    /// The entry restricted to one family, or why it has no part in it.
    pub(crate) fn family(&self, family: Family) -> Result<FamilyEntry<'_>, Skip> {
        let src = self.src.family(family);
        if src.is_empty() {
            return Err(Skip::Src);
        }
        let dst = self.dst.family(family);
        if dst.is_empty() {
            return Err(Skip::Dst);
        }
        let services = family_services(&self.services, family).ok_or(Skip::Service)?;
        Ok(FamilyEntry {
            entry: self,
            src,
            dst,
            services,
        })
    }

    /// A comment for the entry: rule name, leg, expiry and justification,
    /// sanitised and cut for `target`.
    pub(crate) fn comment(&self, target: Target) -> String {
        escape::comment(target, &self.comment_raw())
    }

    /// The comment text before sanitising.
    pub(crate) fn comment_raw(&self) -> String {
        let rule = self.rule;
        let mut s = rule.name.clone();
        if !self.also.is_empty() {
            let also: Vec<&str> = self.also.iter().map(|r| r.name.as_str()).collect();
            s.push_str(&format!(" (also {})", also.join(", ")));
        }
        if rule.origin != OriginKind::Flow {
            s.push_str(&format!(" ({})", rule.origin.describe()));
        }
        if let Some(u) = rule.until {
            s.push_str(&format!(" until {u}"));
        }
        if let Some(j) = &rule.justification {
            s.push_str(": ");
            s.push_str(j);
        }
        s
    }
}

/// Services of one family: ICMP only in IPv4 and ICMPv6 only in IPv6.
/// `None` when nothing is left.
pub(crate) fn family_services(services: &ServiceSet, family: Family) -> Option<FamilyServices> {
    let other = match family {
        Family::V4 => ICMPV6,
        Family::V6 => ICMP,
    };
    let own = services.for_family(family);
    if own.is_empty() {
        return None;
    }
    if own.union(&ServiceSet::whole_proto(other)).is_any() {
        return Some(FamilyServices {
            all: true,
            protos: Vec::new(),
        });
    }
    let protos = own
        .iter()
        .map(|(p, sel)| {
            let whole = *sel == selector_domain(p);
            ProtoSel {
                proto: p,
                name: proto_name(p),
                whole,
                ranges: if whole {
                    Vec::new()
                } else {
                    sel.ranges().to_vec()
                },
            }
        })
        .collect();
    Some(FamilyServices { all: false, protos })
}

/// Merges the fragments of one rule in one zone pair: same services and
/// source → union of destinations; then same services and destination →
/// union of sources. Output is sorted.
fn merge_fragments(fs: Vec<Fragment>) -> Vec<Fragment> {
    let mut by_src: BTreeMap<(ServiceSet, AddrSet), AddrSet> = BTreeMap::new();
    for (s, d, svc) in fs {
        let slot = by_src.entry((svc, s)).or_default();
        *slot = slot.union(&d);
    }
    let mut by_dst: BTreeMap<(ServiceSet, AddrSet), AddrSet> = BTreeMap::new();
    for ((svc, s), d) in by_src {
        let slot = by_dst.entry((svc, d)).or_default();
        *slot = slot.union(&s);
    }
    let mut out: Vec<Fragment> = by_dst
        .into_iter()
        .map(|((svc, d), s)| (s, d, svc))
        .collect();
    out.sort();
    out
}

/// Drops entries whose match equals an earlier one's, recording the
/// dropped rule's name in the earlier entry (no rule is rendered twice).
fn dedup(list: Vec<Entry<'_>>) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry<'_>> = Vec::with_capacity(list.len());
    let mut index: BTreeMap<(AddrSet, AddrSet, ServiceSet), usize> = BTreeMap::new();
    for e in list {
        let key = (e.src.clone(), e.dst.clone(), e.services.clone());
        match index.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(prev) => {
                if prev.rule.name != e.rule.name && !prev.also.iter().any(|r| r.name == e.rule.name)
                {
                    prev.also.push(e.rule);
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(e);
            }
        }
    }
    out
}

/// Named address sets (nftables sets, pf tables, IOS object groups),
/// deduplicated by content in an [`ObjectBook`], in order of first use.
#[derive(Debug, Default)]
pub(crate) struct AddressBook {
    book: ObjectBook<AddrSet, (AddrSet, String)>,
}

/// A named address object.
#[derive(Clone, Debug)]
pub(crate) struct AddrObject {
    /// Its identifier (safe for the target).
    pub(crate) name: String,
    /// Its addresses.
    pub(crate) set: AddrSet,
    /// What it is (zone or device name, or `<rule> source`), raw.
    pub(crate) what: String,
}

impl AddressBook {
    /// The name of the object holding exactly `set`, creating it if needed
    /// with an identifier derived from `hint`.
    pub(crate) fn intern(
        &mut self,
        namer: &mut Namer,
        target: Target,
        prefix: &str,
        set: &AddrSet,
        hint: &str,
    ) -> String {
        if let Some(name) = self.book.get(set) {
            return name.to_string();
        }
        self.book.intern(set.clone(), |set| {
            (
                namer.name(target, prefix, hint),
                (set.clone(), hint.to_string()),
            )
        })
    }

    /// The name of the object holding exactly `set`, if there is one.
    pub(crate) fn get(&self, set: &AddrSet) -> Option<&str> {
        self.book.get(set)
    }

    /// The objects, in order of first use.
    pub(crate) fn objects(self) -> Vec<AddrObject> {
        self.book
            .in_first_use_order()
            .into_iter()
            .map(|o| AddrObject {
                name: o.name,
                set: o.value.0,
                what: o.value.1,
            })
            .collect()
    }
}

/// Prefixes of a set as strings (`10.0.0.0/24`, `10.0.0.5/32`).
pub(crate) fn prefix_strings(set: &AddrSet) -> Vec<String> {
    set.to_prefixes().iter().map(ToString::to_string).collect()
}

/// The one prefix a set is, if it is exactly one (what
/// `to_prefixes()` would give as a single element), found without
/// building the list.
pub(crate) fn one_prefix(set: &AddrSet) -> Option<Prefix> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match (set.v4_ranges(), set.v6_ranges()) {
        ([(lo, hi)], []) => {
            let size = u64::from(hi - lo) + 1;
            (size.is_power_of_two() && u64::from(*lo) % size == 0)
                .then(|| {
                    let len = 32 - size.trailing_zeros();
                    Prefix::new(IpAddr::V4(Ipv4Addr::from(*lo)), u8::try_from(len).ok()?)
                })
                .flatten()
        }
        ([], [(lo, hi)]) => {
            if *lo == 0 && *hi == u128::MAX {
                return Prefix::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0);
            }
            let size = hi - lo + 1;
            (size.is_power_of_two() && lo % size == 0)
                .then(|| {
                    let len = 128 - size.trailing_zeros();
                    Prefix::new(IpAddr::V6(Ipv6Addr::from(*lo)), u8::try_from(len).ok()?)
                })
                .flatten()
        }
        _ => None,
    }
}

/// A prefix as the short form writes it: a host without `/32` or `/128`.
pub(crate) fn prefix_short(p: &Prefix) -> String {
    if p.is_host() {
        p.addr().to_string()
    } else {
        p.to_string()
    }
}

/// Prefixes of a set, hosts without `/32` or `/128`.
pub(crate) fn prefix_strings_short(set: &AddrSet) -> Vec<String> {
    set.to_prefixes().iter().map(prefix_short).collect()
}

/// The elements of an interval set (nftables): each interval as an
/// address, a prefix when it is exactly one, or `first-last`.
pub(crate) fn interval_strings(set: &AddrSet) -> Vec<String> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let mut out = Vec::new();
    for &(lo, hi) in set.v4_ranges() {
        out.push(interval_string(u128::from(lo), u128::from(hi), 32, |v| {
            Ipv4Addr::from(u32::try_from(v).unwrap_or(u32::MAX)).to_string()
        }));
    }
    for &(lo, hi) in set.v6_ranges() {
        out.push(interval_string(lo, hi, 128, |v| {
            Ipv6Addr::from(v).to_string()
        }));
    }
    out
}

fn interval_string(lo: u128, hi: u128, bits: u32, show: impl Fn(u128) -> String) -> String {
    if lo == hi {
        return show(lo);
    }
    let size = hi.wrapping_sub(lo).wrapping_add(1);
    // A whole address space of 2^128 wraps to 0.
    if size == 0 && bits == 128 {
        return format!("{}/0", show(0));
    }
    if size.is_power_of_two() && lo.is_multiple_of(size) {
        let len = bits - size.trailing_zeros();
        return format!("{}/{len}", show(lo));
    }
    format!("{}-{}", show(lo), show(hi))
}

/// Unix time of the start of the day after `d` (UTC): a rule `until D` is
/// enforced through the whole of day D.
pub(crate) fn end_of_day_unix(d: Date) -> i64 {
    let (y, m, day) = (i64::from(d.year), i64::from(d.month), i64::from(d.day));
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days + 1) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;
    use zonal_model::service::{TCP, UDP};

    /// Prefix counts and the single-prefix test agree with `to_prefixes`
    /// (their slow twin) on edges and on many generated sets.
    #[test]
    fn prefix_count_and_one_prefix_match_to_prefixes() {
        let mut sets = vec![
            AddrSet::empty(),
            AddrSet::full(),
            AddrSet::full_family(Family::V4),
            AddrSet::full_family(Family::V6),
            AddrSet::from_ranges(vec![(0, 0)], vec![]),
            AddrSet::from_ranges(vec![(u32::MAX, u32::MAX)], vec![]),
            AddrSet::from_ranges(vec![(1, u32::MAX)], vec![(1, u128::MAX)]),
            AddrSet::from_ranges(vec![], vec![(0, u128::MAX - 1)]),
            AddrSet::from_ranges(vec![], vec![(u128::MAX, u128::MAX)]),
        ];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..3000 {
            let (a, b) = (next(), next());
            let (lo4, hi4) = ((a as u32).min(b as u32), (a as u32).max(b as u32));
            let w = next() % 130;
            let lo6 = u128::from(next()) << (next() % 64);
            let hi6 = if w >= 128 {
                u128::MAX
            } else {
                lo6.saturating_add((1u128 << w) - 1)
            };
            let v4 = if next() % 3 == 0 {
                vec![]
            } else {
                vec![(lo4, hi4)]
            };
            let v6 = if next() % 2 == 0 {
                vec![]
            } else {
                vec![(lo6, hi6)]
            };
            sets.push(AddrSet::from_ranges(v4, v6));
            // Exact blocks, which must be seen as one prefix.
            let len = u32::try_from(next() % 33).unwrap_or(0);
            let base = (next() as u32)
                .checked_shr(32 - len)
                .map_or(0, |v| v.checked_shl(32 - len).unwrap_or(0));
            let size = if len == 0 {
                u64::from(u32::MAX)
            } else {
                (1u64 << (32 - len)) - 1
            };
            let hi = u32::try_from(u64::from(base) + size).unwrap_or(u32::MAX);
            sets.push(AddrSet::from_ranges(vec![(base, hi)], vec![]));
        }
        for s in &sets {
            let slow = s.to_prefixes();
            assert_eq!(s.prefix_count(), slow.len(), "{s:?}");
            let one = match slow.as_slice() {
                [p] => Some(*p),
                _ => None,
            };
            assert_eq!(one_prefix(s), one, "{s:?}");
        }
    }

    #[test]
    fn intervals() {
        let s = AddrSet::from_prefixes(&[
            Prefix::parse("10.0.0.0/24").unwrap(),
            Prefix::parse("10.0.1.5/32").unwrap(),
            Prefix::parse("fd00::/64").unwrap(),
        ]);
        assert_eq!(
            interval_strings(&s),
            vec!["10.0.0.0/24", "10.0.1.5", "fd00::/64"]
        );
        let r = AddrSet::from_prefixes(&[
            Prefix::parse("10.0.0.1/32").unwrap(),
            Prefix::parse("10.0.0.2/31").unwrap(),
        ]);
        assert_eq!(interval_strings(&r), vec!["10.0.0.1-10.0.0.3"]);
        assert_eq!(
            interval_strings(&AddrSet::full()),
            vec!["0.0.0.0/0", "::/0"]
        );
    }

    #[test]
    fn end_of_day() {
        // 2026-12-31 ends at 2027-01-01T00:00:00Z.
        assert_eq!(
            end_of_day_unix(Date::new(2026, 12, 31).unwrap()),
            1_798_761_600
        );
        assert_eq!(end_of_day_unix(Date::new(1970, 1, 1).unwrap()), 86_400);
    }

    #[test]
    fn family_services_split_icmp() {
        let s = ServiceSet::whole_proto(ICMP).union(&ServiceSet::ports(TCP, 104, 104));
        let v6 = family_services(&s, Family::V6).unwrap();
        assert_eq!(v6.protos.len(), 1);
        assert_eq!(v6.protos[0].name, "tcp");
        assert!(family_services(&ServiceSet::whole_proto(ICMP), Family::V6).is_none());
        assert!(family_services(&ServiceSet::any(), Family::V4).unwrap().all);
        let udp = family_services(&ServiceSet::ports(UDP, 5000, 5010), Family::V4).unwrap();
        assert_eq!(udp.protos[0].ranges, vec![(5000, 5010)]);
    }

    #[test]
    fn fragments_merge() {
        let a = AddrSet::from_prefixes(&[Prefix::parse("10.0.0.1/32").unwrap()]);
        let b = AddrSet::from_prefixes(&[Prefix::parse("10.0.0.2/32").unwrap()]);
        let c = AddrSet::from_prefixes(&[Prefix::parse("10.0.1.0/24").unwrap()]);
        let svc = ServiceSet::ports(TCP, 104, 104);
        let out = merge_fragments(vec![
            (a.clone(), c.clone(), svc.clone()),
            (b.clone(), c.clone(), svc.clone()),
        ]);
        assert_eq!(out, vec![(a.union(&b), c, svc)]);
    }
}
