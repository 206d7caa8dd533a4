//! `zonal query` over whole sets: is every packet of a service from a set
//! of addresses to another permitted, none, or some?
//!
//! The answer is exact, not a sample. Addresses that fall in the same
//! source class (or destination class) of the lint index, with the same
//! families, are treated alike by every rule, so one pair of
//! representatives per (source group, destination group) and one selector
//! per elementary interval of the cell's services stand for all packets.
//! Each witness printed is re-decided by `Policy::decide`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use zonal_model::{AddrSet, Family, Packet, Policy, RuleId, ServiceSet, listen};

use crate::analysis::{Analysis, AtomId, AtomKind, FAMILIES};
use crate::graph::ZoneGraph;

/// What is asked about: a named service (moved per device by its
/// listeners, like rules and invariants) or literal services.
#[derive(Clone, Debug)]
pub enum Asked<'a> {
    /// A named service: toward a device that moves it, its listener ports.
    Named(&'a str),
    /// Exactly these services.
    Literal(ServiceSet),
}

/// A packet and what `decide` says of it.
#[derive(Clone, Debug)]
pub struct Witness {
    /// The packet.
    pub packet: Packet,
    /// The deciding rule (`None`: the default deny).
    pub rule: Option<RuleId>,
    /// The place it comes from and goes to (device, zone, or addresses in
    /// no zone).
    pub from: String,
    /// Where it goes.
    pub to: String,
}

/// The answer for the whole sets.
#[derive(Clone, Debug, Default)]
pub struct SetAnswer {
    /// A permitted packet, if any.
    pub allowed: Option<Witness>,
    /// A denied packet, if any.
    pub denied: Option<Witness>,
    /// Pairs of places with some denied packet (source, destination), first 20.
    pub denied_pairs: Vec<(String, String)>,
    /// How many pairs of places have some denied packet.
    pub denied_pair_count: usize,
    /// How many pairs of places (with a common family) were judged.
    pub pairs: usize,
}

/// The addresses of an atom.
fn atom_addrs(an: &Analysis<'_>, a: AtomId) -> AddrSet {
    let p = an.policy;
    match an.atoms[a as usize].kind {
        AtomKind::Device(d) => p.device(d).addrs.clone(),
        AtomKind::Zone(z) => {
            let zone = p.zone(z);
            let devices =
                AddrSet::union_all(zone.devices.iter().map(|d| p.device(*d).addrs.clone()));
            zone.addrs.subtract(&devices)
        }
        AtomKind::Unassigned => {
            AddrSet::union_all(p.zones.iter().map(|z| z.addrs.clone())).complement()
        }
    }
}

/// The first host (lowest address plus one, when there is room) of a set
/// in a family, and a second, different one.
fn hosts(set: &AddrSet, f: Family) -> (Option<IpAddr>, Option<IpAddr>) {
    let only = set.family(f);
    let mut all = Vec::new();
    match f {
        Family::V4 => {
            for &(lo, hi) in only.v4_ranges() {
                let start = if hi > lo { lo + 1 } else { lo };
                for v in (start..=hi).take(2) {
                    all.push(IpAddr::V4(v.into()));
                }
                if all.len() >= 2 {
                    break;
                }
            }
        }
        Family::V6 => {
            for &(lo, hi) in only.v6_ranges() {
                let start = if hi > lo { lo + 1 } else { lo };
                for v in (start..=hi).take(2) {
                    all.push(IpAddr::V6(v.into()));
                }
                if all.len() >= 2 {
                    break;
                }
            }
        }
    }
    (all.first().copied(), all.get(1).copied())
}

/// Two hosts of a side's addresses: the atom's own readable samples when
/// they are in the asked set (e.g. 203.0.113.10 for the internet), else
/// the first hosts of the set.
fn rep_hosts(an: &Analysis<'_>, side: &Side, f: Family) -> (Option<IpAddr>, Option<IpAddr>) {
    let atom = &an.atoms[side.atom as usize];
    let own: Vec<IpAddr> = [atom.addr(f), atom.second(f)]
        .into_iter()
        .flatten()
        .filter(|ip| side.addrs.contains(*ip))
        .collect();
    let (h0, h1) = hosts(&side.addrs, f);
    let mut all = own;
    for h in [h0, h1].into_iter().flatten() {
        if !all.contains(&h) {
            all.push(h);
        }
    }
    (all.first().copied(), all.get(1).copied())
}

/// One group of a side: representative atoms (their addresses within the
/// asked set).
struct Side {
    atom: AtomId,
    addrs: AddrSet,
}

/// Groups the atoms overlapping `set` by class, families and (for
/// destinations) the services asked toward them; two per group.
fn groups(
    an: &Analysis<'_>,
    set: &AddrSet,
    src_side: bool,
    toward: &dyn Fn(AtomId) -> ServiceSet,
) -> BTreeMap<(u32, bool, bool, ServiceSet), Vec<Side>> {
    let mut out: BTreeMap<(u32, bool, bool, ServiceSet), Vec<Side>> = BTreeMap::new();
    for a in 0..an.atoms.len() as AtomId {
        let addrs = atom_addrs(an, a).intersect(set);
        if addrs.is_empty() {
            continue;
        }
        let class = if src_side {
            an.src_class[a as usize]
        } else {
            an.dst_class[a as usize]
        };
        let key = (
            class,
            addrs.has_family(Family::V4),
            addrs.has_family(Family::V6),
            if src_side {
                ServiceSet::empty()
            } else {
                toward(a)
            },
        );
        let g = out.entry(key).or_default();
        if g.len() < 2 {
            g.push(Side { atom: a, addrs });
        }
    }
    out
}

/// Selectors standing for every packet of `asked` in a cell: the asked
/// ranges cut at every bound of the cell's terms.
fn points(an: &Analysis<'_>, cell: Option<usize>, asked: &ServiceSet) -> Vec<(u8, u16)> {
    let mut cuts: BTreeMap<u8, Vec<u16>> = BTreeMap::new();
    if let Some(c) = cell {
        for t in an.cell_terms(c) {
            for (p, sel) in an.services(*t).iter() {
                let v = cuts.entry(p).or_default();
                for &(lo, hi) in sel.ranges() {
                    v.push(lo);
                    if let Some(n) = hi.checked_add(1) {
                        v.push(n);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (p, sel) in asked.iter() {
        for &(lo, hi) in sel.ranges() {
            // Port 0 stands for its interval only when nothing cuts at 1.
            let cut_at_one = cuts.get(&p).is_some_and(|v| v.contains(&1));
            let port = matches!(p, zonal_model::service::TCP | zonal_model::service::UDP);
            let first = if port && lo == 0 && hi >= 1 && !cut_at_one {
                1
            } else {
                lo
            };
            out.push((p, first));
            if let Some(v) = cuts.get(&p) {
                for c in v {
                    if *c > lo && *c <= hi {
                        out.push((p, *c));
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// What is asked about toward one atom: a named service at the listener
/// ports of a device that moves it.
fn toward(an: &Analysis<'_>, asked: &Asked<'_>, a: AtomId) -> ServiceSet {
    let policy = an.policy;
    match asked {
        Asked::Literal(s) => s.clone(),
        Asked::Named(name) => {
            let base = policy
                .service_by_name(name)
                .map(|s| s.set.clone())
                .unwrap_or_default();
            match an.atoms[a as usize].kind {
                AtomKind::Device(d) => {
                    listen::named_toward(&policy.services, policy.device(d), name).unwrap_or(base)
                }
                _ => base,
            }
        }
    }
}

/// Answers for every packet of `asked` from `from` to `to`.
pub fn ask(graph: &ZoneGraph<'_>, from: &AddrSet, to: &AddrSet, asked: &Asked<'_>) -> SetAnswer {
    let an = &graph.an;
    let policy: &Policy = an.policy;
    let toward = |a: AtomId| toward(an, asked, a);
    let srcs = groups(an, from, true, &|_| ServiceSet::empty());
    let dsts = groups(an, to, false, &toward);
    let mut answer = SetAnswer::default();
    for xs in srcs.values() {
        for ((_, _, _, services), ys) in &dsts {
            let mut judged = false;
            let mut denied_here = false;
            for f in FAMILIES {
                let svc = services.for_family(f);
                if svc.is_empty() {
                    continue;
                }
                // A pair of two different hosts of this family, if any.
                let mut pair = None;
                'find: for x in xs {
                    for y in ys {
                        let (s0, _) = rep_hosts(an, x, f);
                        let (d0, d1) = rep_hosts(an, y, f);
                        let (Some(s), Some(d0)) = (s0, d0) else {
                            continue;
                        };
                        let d = if d0 == s { d1 } else { Some(d0) };
                        if let Some(d) = d {
                            pair = Some((x, y, s, d));
                            break 'find;
                        }
                    }
                }
                let Some((x, y, s, d)) = pair else {
                    continue;
                };
                judged = true;
                let cell = an.cell_of(x.atom, y.atom);
                for (proto, sel) in points(an, cell, &svc) {
                    let v = policy.decide(s, d, proto, sel);
                    let w = || Witness {
                        packet: Packet {
                            src: s,
                            dst: d,
                            proto,
                            selector: sel,
                        },
                        rule: v.rule,
                        from: an.atom_name(x.atom),
                        to: an.atom_name(y.atom),
                    };
                    match v.action {
                        zonal_model::Action::Allow => {
                            answer.allowed.get_or_insert_with(w);
                        }
                        zonal_model::Action::Deny => {
                            answer.denied.get_or_insert_with(w);
                            denied_here = true;
                        }
                    }
                }
            }
            if judged {
                answer.pairs += 1;
            }
            if denied_here {
                answer.denied_pair_count += 1;
                if answer.denied_pairs.len() < 20 {
                    answer
                        .denied_pairs
                        .push((an.atom_name(xs[0].atom), an.atom_name(ys[0].atom)));
                }
            }
        }
    }
    answer
}

/// The shortest chain of permitted flows from an address of `from` to an
/// address of `to`, in the model `zonal check` uses for `never … ~>`: the
/// places (devices, rests of zones) the addresses belong to, both families,
/// hops before the last over `pivots` (when given), the last hop over the
/// service asked about toward each destination (listener ports applied).
pub fn shortest_path(
    graph: &ZoneGraph<'_>,
    from: &AddrSet,
    to: &AddrSet,
    pivots: Option<&ServiceSet>,
    last: Option<&Asked<'_>>,
) -> Option<Vec<crate::graph::Hop>> {
    let an = &graph.an;
    let overlapping = |set: &AddrSet| -> Vec<AtomId> {
        (0..an.atoms.len() as AtomId)
            .filter(|a| atom_addrs(an, *a).overlaps(set))
            .collect()
    };
    let src = overlapping(from);
    let mut by_service: BTreeMap<Option<ServiceSet>, Vec<AtomId>> = BTreeMap::new();
    for b in overlapping(to) {
        let services = last.map(|asked| toward(an, asked, b));
        by_service.entry(services).or_default().push(b);
    }
    by_service
        .iter()
        .filter_map(|(services, targets)| {
            let opts = crate::graph::PathOptions {
                pivots,
                last_hop: services.as_ref(),
            };
            graph.path_atoms(&src, targets, &opts)
        })
        .min_by_key(Vec::len)
}
