//! Reachability gained and lost: per pair of places, the services the
//! policy permits on each side, compared.
//!
//! Every term of a rule is a union of whole places (devices, the rest of a
//! zone, the addresses in no zone), so what [`Policy::decide`] permits from
//! one place to another is the union of the matching active allow terms'
//! services minus the union of the matching active deny terms' services
//! (deny wins, order never matters: `docs/semantics.md`). The tests check
//! every reported change against `decide` on both sides.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use zonal_model::service::{ICMP, ICMPV6};
use zonal_model::{Action, AddrSet, Family, Packet, Policy, ServiceSet};

use crate::places::{Place, addrs_text, places};

/// Reachability that changes between two places.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReachChange {
    /// The source place's zone.
    pub src_zone: String,
    /// The destination place's zone.
    pub dst_zone: String,
    /// The source place: a device, a zone (its addresses outside its devices) or `(no zone)`.
    pub src: String,
    /// The destination place.
    pub dst: String,
    /// The source place's addresses (on the new side when it exists there).
    pub src_addrs: String,
    /// The destination place's addresses.
    pub dst_addrs: String,
    /// Services permitted now and not before.
    pub gained: Option<String>,
    /// Services permitted before and not now.
    pub lost: Option<String>,
    /// A packet judged differently, and by which rules.
    pub example: Option<String>,
}

type Pair = (String, String);

/// The services permitted between every pair of places with any.
fn permitted(p: &Policy, places: &[Place]) -> BTreeMap<Pair, ServiceSet> {
    let mut allow: BTreeMap<(usize, usize), ServiceSet> = BTreeMap::new();
    let mut deny: BTreeMap<(usize, usize), ServiceSet> = BTreeMap::new();
    for r in p.rules.iter().filter(|r| r.is_active()) {
        let into = match r.action {
            Action::Allow => &mut allow,
            Action::Deny => &mut deny,
        };
        for t in &r.terms {
            let srcs: Vec<usize> = (0..places.len())
                .filter(|i| places[*i].addrs.overlaps(&t.src))
                .collect();
            let dsts: Vec<usize> = (0..places.len())
                .filter(|i| places[*i].addrs.overlaps(&t.dst))
                .collect();
            for s in &srcs {
                for d in &dsts {
                    let e = into.entry((*s, *d)).or_insert_with(ServiceSet::empty);
                    *e = e.union(&t.services);
                }
            }
        }
    }
    allow
        .into_iter()
        .filter_map(|(k, a)| {
            let set = match deny.get(&k) {
                Some(d) => a.subtract(d),
                None => a,
            };
            (!set.is_empty()).then(|| ((places[k.0].name.clone(), places[k.1].name.clone()), set))
        })
        .collect()
}

/// A packet from `src` to `dst` with a service of `set`, in a family both
/// places have (IPv4 first).
pub(crate) fn example(set: &ServiceSet, src: &Place, dst: &Place) -> Option<Packet> {
    for family in [Family::V4, Family::V6] {
        let (Some(s), Some(d)) = (host(&src.addrs, family), host(&dst.addrs, family)) else {
            continue;
        };
        let wrong_icmp = if family == Family::V4 { ICMPV6 } else { ICMP };
        let Some((proto, sel)) = set
            .iter()
            .find(|(p, _)| *p != wrong_icmp)
            .and_then(|(p, sels)| sels.ranges().first().map(|r| (p, r.0)))
        else {
            continue;
        };
        return Some(Packet {
            src: s,
            dst: d,
            proto,
            selector: sel,
        });
    }
    None
}

/// A readable address of a set in one family: not a network address when
/// the first range has more than two addresses.
fn host(set: &AddrSet, family: Family) -> Option<IpAddr> {
    match family {
        Family::V4 => set.v4_ranges().first().map(|&(lo, hi)| {
            IpAddr::V4(Ipv4Addr::from(if hi > lo.saturating_add(1) {
                lo + 1
            } else {
                lo
            }))
        }),
        Family::V6 => set.v6_ranges().first().map(|&(lo, hi)| {
            IpAddr::V6(Ipv6Addr::from(if hi > lo.saturating_add(1) {
                lo + 1
            } else {
                lo
            }))
        }),
    }
}

fn verdict(p: &Policy, pk: &Packet) -> String {
    let v = p.decide(pk.src, pk.dst, pk.proto, pk.selector);
    match (v.action, v.rule) {
        (Action::Allow, Some(r)) => format!("allowed by `{}`", p.rule(r).name),
        (Action::Deny, Some(r)) => format!("denied by `{}`", p.rule(r).name),
        (_, None) => "denied by the default deny".to_string(),
    }
}

/// Every pair of places whose permitted services differ.
pub(crate) fn diff(old: &Policy, new: &Policy) -> Vec<ReachChange> {
    let (op, np) = (places(old), places(new));
    let (o, n) = (permitted(old, &op), permitted(new, &np));
    let find = |ps: &'_ [Place], name: &str| -> Option<Place> {
        ps.binary_search_by(|p| p.name.as_str().cmp(name))
            .ok()
            .map(|i| ps[i].clone())
    };
    let mut keys: Vec<&Pair> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    let empty = ServiceSet::empty();
    let mut out = Vec::new();
    for key in keys {
        let (os, ns) = (o.get(key).unwrap_or(&empty), n.get(key).unwrap_or(&empty));
        if os == ns {
            continue;
        }
        let gained = ns.subtract(os);
        let lost = os.subtract(ns);
        // The place as the new side has it, else as the old side had it.
        let (Some(src), Some(dst)) = (
            find(&np, &key.0).or_else(|| find(&op, &key.0)),
            find(&np, &key.1).or_else(|| find(&op, &key.1)),
        ) else {
            continue;
        };
        let example = example(&gained, &src, &dst)
            .or_else(|| example(&lost, &src, &dst))
            .map(|pk| {
                format!(
                    "{pk}: now {}, before {}",
                    verdict(new, &pk),
                    verdict(old, &pk)
                )
            });
        out.push(ReachChange {
            src_zone: src.zone.clone(),
            dst_zone: dst.zone.clone(),
            src: src.name.clone(),
            dst: dst.name.clone(),
            src_addrs: addrs_text(&src.addrs, 4),
            dst_addrs: addrs_text(&dst.addrs, 4),
            gained: (!gained.is_empty()).then(|| gained.to_string()),
            lost: (!lost.is_empty()).then(|| lost.to_string()),
            example,
        });
    }
    out.sort_by(|a, b| {
        (&a.src_zone, &a.dst_zone, &a.src, &a.dst).cmp(&(&b.src_zone, &b.dst_zone, &b.src, &b.dst))
    });
    out
}

/// What a policy permits between two places.
#[derive(Clone, Debug)]
pub struct Allowed {
    /// The source place: a device, a zone (its addresses outside its devices) or `(no zone)`.
    pub src: String,
    /// The source place's zone.
    pub src_zone: String,
    /// The source place's addresses.
    pub src_addrs: AddrSet,
    /// The destination place.
    pub dst: String,
    /// The destination place's zone.
    pub dst_zone: String,
    /// The destination place's addresses.
    pub dst_addrs: AddrSet,
    /// The services permitted from the one to the other.
    pub services: ServiceSet,
    /// An example packet and the rule that allows it.
    pub example: Option<(Packet, String)>,
}

/// Every pair of places between which `policy` permits something, with the
/// services, from the sources overlapping `from` to the destinations
/// overlapping `to` (sorted by source, then destination).
pub fn allowed(policy: &Policy, from: &AddrSet, to: &AddrSet) -> Vec<Allowed> {
    let ps = places(policy);
    let find = |name: &str| ps.iter().find(|p| p.name == name);
    permitted(policy, &ps)
        .into_iter()
        .filter_map(|((s, d), services)| {
            let (s, d) = (find(&s)?, find(&d)?);
            if !s.addrs.overlaps(from) || !d.addrs.overlaps(to) {
                return None;
            }
            // The example lies in the addresses asked about.
            let within = |p: &Place, asked: &AddrSet| Place {
                addrs: p.addrs.intersect(asked),
                ..p.clone()
            };
            let example = example(&services, &within(s, from), &within(d, to)).and_then(|pk| {
                let v = policy.decide(pk.src, pk.dst, pk.proto, pk.selector);
                v.rule.map(|r| (pk, policy.rule(r).name.clone()))
            });
            Some(Allowed {
                src: s.name.clone(),
                src_zone: s.zone.clone(),
                src_addrs: s.addrs.clone(),
                dst: d.name.clone(),
                dst_zone: d.zone.clone(),
                dst_addrs: d.addrs.clone(),
                services,
                example,
            })
        })
        .collect()
}

/// For the tests: the permitted services between two named places.
#[cfg(test)]
pub(crate) fn permitted_between(p: &Policy, src: &str, dst: &str) -> ServiceSet {
    let ps = places(p);
    permitted(p, &ps)
        .remove(&(src.to_string(), dst.to_string()))
        .unwrap_or_else(ServiceSet::empty)
}
