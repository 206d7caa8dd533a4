//! The packet-space index every semantic lint works on.
//!
//! The address space is partitioned into *atoms*: each device's addresses,
//! each zone's remaining addresses (its own addresses minus its devices),
//! and the addresses in no zone at all. Every rule endpoint (a zone, a
//! device, `any`) is a union of whole atoms, so a rule term is exactly
//! `src atoms × dst atoms × services`.
//!
//! Atoms that are matched as a source by exactly the same terms form one
//! *source class* (likewise for destinations). A *cell* is a pair (source
//! class, destination class) with the terms that match it; within a cell
//! every packet with the same service is treated identically by the
//! policy, so coverage, shadowing and reachability are decided per cell
//! with service-set unions — never by comparing expanded rules pairwise.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use zonal_model::{
    Action, AddrSet, DeviceId, Endpoint, Family, Packet, Policy, RuleId, ServiceSet, Trust, Zone,
    ZoneId,
};

/// Index of an atom.
pub(crate) type AtomId = u32;

/// What an atom is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AtomKind {
    /// The addresses of a zone that belong to none of its devices.
    Zone(ZoneId),
    /// A device's addresses.
    Device(DeviceId),
    /// Addresses in no zone.
    Unassigned,
}

/// One atom of the address partition.
#[derive(Clone, Debug)]
pub(crate) struct Atom {
    pub(crate) kind: AtomKind,
    /// The zone the addresses belong to.
    pub(crate) zone: Option<ZoneId>,
    /// A representative IPv4 address, if the atom has IPv4 addresses.
    pub(crate) v4: Option<IpAddr>,
    /// A representative IPv6 address, if the atom has IPv6 addresses.
    pub(crate) v6: Option<IpAddr>,
    /// A second IPv4 address (a packet between two hosts of the atom).
    v4b: Option<IpAddr>,
    /// A second IPv6 address.
    v6b: Option<IpAddr>,
}

/// Both families, IPv4 first (witnesses prefer IPv4).
pub(crate) const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

/// Index of a family (IPv4 0, IPv6 1).
pub(crate) fn fam_index(f: Family) -> usize {
    match f {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

impl Atom {
    fn sample(&self) -> Option<IpAddr> {
        self.v4.or(self.v6)
    }

    /// The representative address of a family.
    pub(crate) fn addr(&self, f: Family) -> Option<IpAddr> {
        match f {
            Family::V4 => self.v4,
            Family::V6 => self.v6,
        }
    }

    /// A second address of a family, different from [`Atom::addr`].
    pub(crate) fn second(&self, f: Family) -> Option<IpAddr> {
        match f {
            Family::V4 => self.v4b,
            Family::V6 => self.v6b,
        }
    }

    /// Whether the atom has addresses of a family.
    pub(crate) fn has(&self, f: Family) -> bool {
        self.addr(f).is_some()
    }
}

/// One term of an active rule, expanded to atoms.
#[derive(Clone, Debug)]
pub(crate) struct TermInfo {
    pub(crate) rule: RuleId,
    pub(crate) term: u32,
    pub(crate) action: Action,
    pub(crate) src: Vec<AtomId>,
    pub(crate) dst: Vec<AtomId>,
    pub(crate) src_classes: Vec<u32>,
    pub(crate) dst_classes: Vec<u32>,
    /// Matches every source and every destination atom (`any -> any`): kept
    /// out of the cell enumeration, applied to every cell instead.
    pub(crate) global: bool,
}

/// The atom/class/cell index of a policy.
#[derive(Debug)]
pub(crate) struct Analysis<'p> {
    pub(crate) policy: &'p Policy,
    /// Without a catch-all external zone, the addresses in no zone are the
    /// internet by definition: this stands for them wherever the lints ask
    /// which zone an address belongs to (external, untrusted).
    pub(crate) implicit_internet: Option<Zone>,
    pub(crate) atoms: Vec<Atom>,
    /// Atoms of each zone: the zone's remainder (if non-empty) then its devices.
    pub(crate) zone_atoms: Vec<Vec<AtomId>>,
    /// The atom of each device (`None` for a device without addresses).
    pub(crate) device_atom: Vec<Option<AtomId>>,
    /// Terms of active rules, in rule order.
    pub(crate) terms: Vec<TermInfo>,
    /// For each rule, the range of its terms in `terms` (empty if expired).
    pub(crate) rule_terms: Vec<std::ops::Range<u32>>,
    pub(crate) src_class: Vec<u32>,
    pub(crate) dst_class: Vec<u32>,
    pub(crate) src_class_atoms: Vec<Vec<AtomId>>,
    pub(crate) dst_class_atoms: Vec<Vec<AtomId>>,
    /// Per class and family: up to two representative atoms (two, so
    /// that a packet between two different hosts can be found).
    src_class_rep: Vec<Reps>,
    dst_class_rep: Vec<Reps>,
    /// Sorted distinct cells.
    pub(crate) cell_keys: Vec<(u32, u32)>,
    /// `cell_terms[cell_start[i]..cell_start[i+1]]` are the terms of cell `i`, ascending.
    cell_start: Vec<u32>,
    cell_terms: Vec<u32>,
    /// The cell of every pair that only global terms match, if there are any
    /// global terms (its index is `cell_keys.len()`).
    pub(crate) default_cell: Option<usize>,
}

/// Picks a readable address of a set: a documentation address when the set
/// is huge (the internet), else the first address after a network address.
fn nice_sample(set: &AddrSet, family: Family) -> Option<IpAddr> {
    let only = set.family(family);
    if only.is_empty() {
        return None;
    }
    let preferred: [IpAddr; 3] = [
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)),
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10)),
    ];
    if let Some(p) = preferred.iter().find(|p| only.contains(**p)) {
        return Some(*p);
    }
    // A set reaching into the public space (the internet): its first
    // address from 1.0.0.0 (IPv4) or 2000::/3 (IPv6), not 0.0.0.1.
    let public = match family {
        Family::V4 => only
            .v4_ranges()
            .iter()
            .find(|&&(_, hi)| hi >= 0x0100_0001)
            .map(|&(lo, _)| IpAddr::V4(Ipv4Addr::from(lo.max(0x0100_0001)))),
        Family::V6 => {
            let start: u128 = 0x2000_u128 << 112;
            only.v6_ranges()
                .iter()
                .find(|&&(_, hi)| hi > start)
                .map(|&(lo, _)| IpAddr::V6(Ipv6Addr::from(lo.max(start + 1))))
        }
    };
    let starts_low = match family {
        Family::V4 => only.v4_ranges().first().is_some_and(|r| r.0 < 0x0100_0000),
        Family::V6 => only
            .v6_ranges()
            .first()
            .is_some_and(|r| r.0 < (0x2000_u128 << 112)),
    };
    if starts_low && let Some(p) = public {
        return Some(p);
    }
    match family {
        Family::V4 => only.v4_ranges().first().map(|&(lo, hi)| {
            let v = if hi > lo.saturating_add(1) {
                lo + 1
            } else {
                lo
            };
            IpAddr::V4(Ipv4Addr::from(v))
        }),
        Family::V6 => only.v6_ranges().first().map(|&(lo, hi)| {
            let v = if hi > lo.saturating_add(1) {
                lo + 1
            } else {
                lo
            };
            IpAddr::V6(Ipv6Addr::from(v))
        }),
    }
}

/// An address of the set other than `first`.
fn other_sample(set: &AddrSet, family: Family, first: Option<IpAddr>) -> Option<IpAddr> {
    let first = first?;
    match family {
        Family::V4 => set.v4_ranges().iter().find_map(|&(lo, hi)| {
            (lo..=hi)
                .take(2)
                .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
                .find(|ip| *ip != first)
        }),
        Family::V6 => set.v6_ranges().iter().find_map(|&(lo, hi)| {
            (lo..=hi)
                .take(2)
                .map(|v| IpAddr::V6(Ipv6Addr::from(v)))
                .find(|ip| *ip != first)
        }),
    }
}

/// The zone the lints see for the addresses in no zone, when no external
/// zone without networks is declared: external and untrusted.
fn implicit_internet_zone(policy: &Policy, addrs: AddrSet) -> Zone {
    Zone {
        id: ZoneId(u32::MAX),
        name: "addresses in no zone".to_string(),
        span: policy.header_span,
        decl_span: policy.header_span,
        networks: Vec::new(),
        vlan: None,
        trust: Some(Trust::Untrusted),
        kind: Some("external".to_string()),
        tags: Vec::new(),
        description: None,
        legacy: false,
        external: true,
        parent: None,
        devices: Vec::new(),
        addrs,
    }
}

fn make_atom(kind: AtomKind, zone: Option<ZoneId>, set: &AddrSet) -> Option<Atom> {
    if set.is_empty() {
        return None;
    }
    let v4 = nice_sample(set, Family::V4);
    let v6 = nice_sample(set, Family::V6);
    Some(Atom {
        kind,
        zone,
        v4,
        v6,
        v4b: other_sample(set, Family::V4, v4),
        v6b: other_sample(set, Family::V6, v6),
    })
}

/// Groups atoms by their signature (the sorted list of terms that match
/// them on one side) and returns (class of each atom, atoms of each class).
fn classes(n_atoms: usize, sigs: &[Vec<u32>]) -> (Vec<u32>, Vec<Vec<AtomId>>) {
    #[expect(
        clippy::disallowed_types,
        reason = "a lookup table that is never iterated; class ids follow atom order"
    )]
    let mut by_sig: std::collections::HashMap<&[u32], u32> = std::collections::HashMap::new();
    let mut class = vec![0u32; n_atoms];
    let mut members: Vec<Vec<AtomId>> = Vec::new();
    for (a, sig) in sigs.iter().enumerate() {
        let next = u32::try_from(members.len()).unwrap_or(u32::MAX);
        let c = *by_sig.entry(sig.as_slice()).or_insert(next);
        if c == next {
            members.push(Vec::new());
        }
        class[a] = c;
        members[c as usize].push(a as AtomId);
    }
    (class, members)
}

impl<'p> Analysis<'p> {
    /// Builds the index.
    #[expect(
        clippy::too_many_lines,
        reason = "builds the atom/class/cell index in one pass, each step feeding the next"
    )]
    pub(crate) fn new(policy: &'p Policy) -> Self {
        let mut atoms = Vec::new();
        let mut zone_atoms = vec![Vec::new(); policy.zones.len()];
        let mut device_atom = vec![None; policy.devices.len()];
        for z in &policy.zones {
            let devices = z.devices.iter().fold(AddrSet::empty(), |acc, d| {
                acc.union(&policy.device(*d).addrs)
            });
            let rest = z.addrs.subtract(&devices);
            if let Some(a) = make_atom(AtomKind::Zone(z.id), Some(z.id), &rest) {
                zone_atoms[z.id.index()].push(atoms.len() as AtomId);
                atoms.push(a);
            }
            for d in &z.devices {
                let dev = policy.device(*d);
                if let Some(a) = make_atom(AtomKind::Device(*d), Some(z.id), &dev.addrs) {
                    device_atom[d.index()] = Some(atoms.len() as AtomId);
                    zone_atoms[z.id.index()].push(atoms.len() as AtomId);
                    atoms.push(a);
                }
            }
        }
        let has_catch_all = policy
            .zones
            .iter()
            .any(|z| z.external && z.networks.is_empty());
        let mut implicit_internet = None;
        if !has_catch_all {
            let all = AddrSet::union_all(policy.zones.iter().map(|z| z.addrs.clone()));
            let rest = all.complement();
            if let Some(a) = make_atom(AtomKind::Unassigned, None, &rest) {
                atoms.push(a);
                implicit_internet = Some(implicit_internet_zone(policy, rest));
            }
        }

        let mut an = Analysis {
            policy,
            implicit_internet,
            atoms,
            zone_atoms,
            device_atom,
            terms: Vec::new(),
            rule_terms: Vec::with_capacity(policy.rules.len()),
            src_class: Vec::new(),
            dst_class: Vec::new(),
            src_class_atoms: Vec::new(),
            dst_class_atoms: Vec::new(),
            src_class_rep: Vec::new(),
            dst_class_rep: Vec::new(),
            cell_keys: Vec::new(),
            cell_start: Vec::new(),
            cell_terms: Vec::new(),
            default_cell: None,
        };

        // Terms of active rules, expanded to atoms.
        for rule in &policy.rules {
            let start = an.terms.len() as u32;
            if rule.is_active() {
                let src_candidates = an.endpoints_atoms(&rule.src);
                for (i, term) in rule.terms.iter().enumerate() {
                    let src = an.filter_atoms(&src_candidates, &term.src);
                    let dst_candidates = an.endpoints_atoms(&term.dst_endpoints);
                    let dst = an.filter_atoms(&dst_candidates, &term.dst);
                    an.terms.push(TermInfo {
                        rule: rule.id,
                        term: i as u32,
                        action: rule.action,
                        src,
                        dst,
                        src_classes: Vec::new(),
                        dst_classes: Vec::new(),
                        global: false,
                    });
                }
            }
            an.rule_terms.push(start..an.terms.len() as u32);
        }

        // Signatures and classes.
        let n = an.atoms.len();
        let mut src_sig = vec![Vec::new(); n];
        let mut dst_sig = vec![Vec::new(); n];
        for (t, term) in an.terms.iter().enumerate() {
            for a in &term.src {
                src_sig[*a as usize].push(t as u32);
            }
            for a in &term.dst {
                dst_sig[*a as usize].push(t as u32);
            }
        }
        let (src_class, src_class_atoms) = classes(n, &src_sig);
        let (dst_class, dst_class_atoms) = classes(n, &dst_sig);
        drop(src_sig);
        drop(dst_sig);
        an.src_class_rep = an.reps(&src_class_atoms);
        an.dst_class_rep = an.reps(&dst_class_atoms);
        an.src_class = src_class;
        an.dst_class = dst_class;
        an.src_class_atoms = src_class_atoms;
        an.dst_class_atoms = dst_class_atoms;

        // Cells. A term matching every atom on both sides would touch every
        // (source class, destination class) pair; it is kept out of the
        // enumeration and merged into every cell, plus one default cell for
        // the pairs no other term matches.
        let n = an.atoms.len();
        let mut triples: Vec<(u32, u32, u32)> = Vec::new();
        let mut globals: Vec<u32> = Vec::new();
        for t in 0..an.terms.len() {
            if n > 0 && an.terms[t].src.len() == n && an.terms[t].dst.len() == n {
                an.terms[t].global = true;
                globals.push(t as u32);
                continue;
            }
            let mut sc: Vec<u32> = an.terms[t]
                .src
                .iter()
                .map(|a| an.src_class[*a as usize])
                .collect();
            sc.sort_unstable();
            sc.dedup();
            let mut dc: Vec<u32> = an.terms[t]
                .dst
                .iter()
                .map(|a| an.dst_class[*a as usize])
                .collect();
            dc.sort_unstable();
            dc.dedup();
            for s in &sc {
                for d in &dc {
                    triples.push((*s, *d, t as u32));
                }
            }
            an.terms[t].src_classes = sc;
            an.terms[t].dst_classes = dc;
        }
        triples.sort_unstable();
        triples.dedup();
        let mut narrow: Vec<u32> = Vec::new();
        let flush = |an: &mut Analysis<'_>, narrow: &mut Vec<u32>| {
            // Merge the cell's terms with the global ones, in term order.
            let (mut i, mut j) = (0, 0);
            while i < narrow.len() || j < globals.len() {
                let take_narrow =
                    j == globals.len() || (i < narrow.len() && narrow[i] < globals[j]);
                if take_narrow {
                    an.cell_terms.push(narrow[i]);
                    i += 1;
                } else {
                    an.cell_terms.push(globals[j]);
                    j += 1;
                }
            }
            narrow.clear();
        };
        for (s, d, t) in triples {
            if an.cell_keys.last() != Some(&(s, d)) {
                if !an.cell_keys.is_empty() {
                    flush(&mut an, &mut narrow);
                }
                an.cell_keys.push((s, d));
                an.cell_start.push(an.cell_terms.len() as u32);
            }
            narrow.push(t);
        }
        if !an.cell_keys.is_empty() {
            flush(&mut an, &mut narrow);
        }
        if !globals.is_empty() {
            an.default_cell = Some(an.cell_keys.len());
            an.cell_start.push(an.cell_terms.len() as u32);
            an.cell_terms.extend_from_slice(&globals);
        }
        an.cell_start.push(an.cell_terms.len() as u32);
        an
    }

    fn reps(&self, members: &[Vec<AtomId>]) -> Vec<Reps> {
        members
            .iter()
            .map(|m| {
                let mut r = Reps::default();
                for a in m {
                    r.add(self, *a);
                }
                r
            })
            .collect()
    }

    /// The atoms of an endpoint.
    pub(crate) fn endpoint_atoms(&self, e: Endpoint) -> Vec<AtomId> {
        match e {
            Endpoint::Zone(z) => self.zone_atoms[z.index()].clone(),
            Endpoint::Device(d) => self.device_atom[d.index()].into_iter().collect(),
            Endpoint::Any => (0..self.atoms.len() as AtomId).collect(),
        }
    }

    /// The atoms of several endpoints, sorted and deduplicated.
    pub(crate) fn endpoints_atoms(&self, es: &[Endpoint]) -> Vec<AtomId> {
        if es.contains(&Endpoint::Any) {
            return self.endpoint_atoms(Endpoint::Any);
        }
        let mut out: Vec<AtomId> = es.iter().flat_map(|e| self.endpoint_atoms(*e)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The atoms of an invariant's (or a rule's) term as a destination.
    pub(crate) fn term_dst_atoms(&self, t: &zonal_model::Term) -> Vec<AtomId> {
        let candidates = self.endpoints_atoms(&t.dst_endpoints);
        self.filter_atoms(&candidates, &t.dst)
    }

    fn filter_atoms(&self, candidates: &[AtomId], set: &AddrSet) -> Vec<AtomId> {
        if set.is_full() {
            return candidates.to_vec();
        }
        candidates
            .iter()
            .copied()
            .filter(|a| {
                self.atoms[*a as usize]
                    .sample()
                    .is_some_and(|ip| set.contains(ip))
            })
            .collect()
    }

    /// The display name of an atom.
    pub(crate) fn atom_name(&self, a: AtomId) -> String {
        match self.atoms[a as usize].kind {
            AtomKind::Zone(z) => self.policy.zone(z).name.clone(),
            AtomKind::Device(d) => self.policy.device(d).name.clone(),
            AtomKind::Unassigned => "addresses in no zone".to_string(),
        }
    }

    /// Whether the atom is a legacy device, or belongs to a legacy zone.
    pub(crate) fn atom_is_legacy(&self, a: AtomId) -> bool {
        let atom = &self.atoms[a as usize];
        let zone_legacy = atom.zone.is_some_and(|z| self.policy.zone(z).legacy);
        let dev_legacy = matches!(atom.kind, AtomKind::Device(d) if self.policy.device(d).legacy);
        zone_legacy || dev_legacy
    }

    /// A packet from atom `a` to atom `b` using a service of `services`, in
    /// the first family (IPv4, then IPv6) both atoms have and some service
    /// exists in; between two different hosts when `a == b`.
    pub(crate) fn packet(&self, a: AtomId, b: AtomId, services: &ServiceSet) -> Option<Packet> {
        FAMILIES
            .iter()
            .find_map(|f| self.packet_in(a, b, services, *f))
    }

    /// A packet of one family from atom `a` to atom `b` (two different
    /// hosts) using a service of `services` that exists in the family.
    pub(crate) fn packet_in(
        &self,
        a: AtomId,
        b: AtomId,
        services: &ServiceSet,
        f: Family,
    ) -> Option<Packet> {
        let (x, y) = (&self.atoms[a as usize], &self.atoms[b as usize]);
        let src = x.addr(f)?;
        let dst = if a == b { y.second(f)? } else { y.addr(f)? };
        let (proto, selector) = if services.fits_family(f) {
            services.for_family(f).example()?
        } else {
            return None;
        };
        Some(Packet {
            src,
            dst,
            proto,
            selector,
        })
    }

    /// Why a term with addresses and services matches no packet, if it
    /// does not.
    pub(crate) fn unmatchable_reason(&self, t: &TermInfo) -> Option<&'static str> {
        let services = self.services_of(t);
        let mut common = false;
        let mut fits = false;
        for f in FAMILIES {
            let mut src = t.src.iter().filter(|a| self.atoms[**a as usize].has(f));
            let mut dst = t.dst.iter().filter(|a| self.atoms[**a as usize].has(f));
            let (Some(s0), Some(d0)) = (src.next(), dst.next()) else {
                continue;
            };
            common = true;
            if !services.fits_family(f) {
                continue;
            }
            fits = true;
            if s0 != d0
                || src.next().is_some()
                || dst.next().is_some()
                || self.atoms[*s0 as usize].second(f).is_some()
            {
                return None;
            }
        }
        Some(if !common {
            "its sources and destinations share no address family (IPv4 only on one side, IPv6 only on the other)"
        } else if !fits {
            "its services do not exist in the address family its sources and destinations share (ICMP is IPv4 only, ICMPv6 IPv6 only)"
        } else {
            "its only source and destination is a single address: a host talking to itself never crosses the firewall"
        })
    }

    fn services_of(&self, t: &TermInfo) -> &'p ServiceSet {
        &self.policy.rule(t.rule).terms[t.term as usize].services
    }

    /// The cell of (source class, destination class).
    pub(crate) fn cell(&self, sc: u32, dc: u32) -> Option<usize> {
        self.cell_keys
            .binary_search(&(sc, dc))
            .ok()
            .or(self.default_cell)
    }

    /// Number of cells, the default cell included.
    pub(crate) fn n_cells(&self) -> usize {
        self.cell_keys.len() + usize::from(self.default_cell.is_some())
    }

    /// The destination classes that have a cell of their own from `sc`
    /// (ascending); every other destination class is in the default cell.
    pub(crate) fn narrow_dsts(&self, sc: u32) -> impl Iterator<Item = u32> + '_ {
        self.cells_from(sc).map(|c| self.cell_keys[c].1)
    }

    /// The cell that decides packets from atom `a` to atom `b`.
    pub(crate) fn cell_of(&self, a: AtomId, b: AtomId) -> Option<usize> {
        self.cell(self.src_class[a as usize], self.dst_class[b as usize])
    }

    /// The cells whose source class is `sc`, as a range of cell indexes.
    pub(crate) fn cells_from(&self, sc: u32) -> std::ops::Range<usize> {
        let lo = self.cell_keys.partition_point(|k| k.0 < sc);
        let hi = self.cell_keys.partition_point(|k| k.0 <= sc);
        lo..hi
    }

    /// The terms of a cell, ascending (rule order).
    pub(crate) fn cell_terms(&self, cell: usize) -> &[u32] {
        let lo = self.cell_start[cell] as usize;
        let hi = self.cell_start[cell + 1] as usize;
        &self.cell_terms[lo..hi]
    }

    /// A term's services.
    pub(crate) fn services(&self, t: u32) -> &'p ServiceSet {
        let info = &self.terms[t as usize];
        &self.policy.rule(info.rule).terms[info.term as usize].services
    }

    /// The union of the services of a cell's terms with this action,
    /// skipping terms for which `skip` holds.
    pub(crate) fn union(
        &self,
        cell: usize,
        action: Action,
        skip: impl Fn(&TermInfo) -> bool,
    ) -> ServiceSet {
        let mut acc = ServiceSet::empty();
        for t in self.cell_terms(cell) {
            let info = &self.terms[*t as usize];
            if info.action == action && !skip(info) {
                acc = acc.union(self.services(*t));
            }
        }
        acc
    }

    /// The rule deciding `(proto, selector)` in a cell (the first matching
    /// deny, else the first matching allow), as [`Policy::decide`] does.
    pub(crate) fn deciding_rule(
        &self,
        cell: usize,
        proto: u8,
        selector: u16,
    ) -> Option<(Action, RuleId)> {
        let mut allow = None;
        for t in self.cell_terms(cell) {
            let info = &self.terms[*t as usize];
            if self.services(*t).contains(proto, selector) {
                match info.action {
                    Action::Deny => return Some((Action::Deny, info.rule)),
                    Action::Allow => {
                        if allow.is_none() {
                            allow = Some((Action::Allow, info.rule));
                        }
                    }
                }
            }
        }
        allow
    }

    /// A witness packet in a cell for some service of `services`, between
    /// representative atoms of its classes.
    pub(crate) fn cell_packet(&self, cell: usize, services: &ServiceSet) -> Option<Packet> {
        if let Some(&(sc, dc)) = self.cell_keys.get(cell) {
            return self.class_packet(sc, dc, services);
        }
        // The default cell: a pair of classes with no cell of its own.
        for sc in 0..self.n_src_classes() as u32 {
            let mut narrow = self.narrow_dsts(sc).peekable();
            for dc in 0..self.n_dst_classes() as u32 {
                if narrow.peek() == Some(&dc) {
                    narrow.next();
                    continue;
                }
                if let Some(p) = self.class_packet(sc, dc, services) {
                    return Some(p);
                }
            }
        }
        None
    }

    /// The families in which a cell holds a packet between two different
    /// hosts (index by [`fam_index`]).
    pub(crate) fn cell_families(&self, cell: usize) -> [bool; 2] {
        let class_families = |sc: u32, dc: u32| {
            let (s, d) = (
                &self.src_class_rep[sc as usize],
                &self.dst_class_rep[dc as usize],
            );
            let mut out = [false; 2];
            for (a, b, f) in s.pairs(d) {
                if a != b || self.atoms[a as usize].second(f).is_some() {
                    out[fam_index(f)] = true;
                }
            }
            out
        };
        if let Some(&(sc, dc)) = self.cell_keys.get(cell) {
            return class_families(sc, dc);
        }
        // The default cell: every pair of classes without a cell of its own.
        let mut out = [false; 2];
        for sc in 0..self.n_src_classes() as u32 {
            let mut narrow = self.narrow_dsts(sc).peekable();
            for dc in 0..self.n_dst_classes() as u32 {
                if narrow.peek() == Some(&dc) {
                    narrow.next();
                    continue;
                }
                let f = class_families(sc, dc);
                out = [out[0] || f[0], out[1] || f[1]];
                if out == [true, true] {
                    return out;
                }
            }
        }
        out
    }

    /// Whether, in a cell, every packet of `mine` is also a packet of
    /// `cover`, counting only the families in which the cell holds packets
    /// (ICMPv6 in a cell of IPv4 hosts is no packet). `None` when `mine`
    /// has no packet in the cell at all.
    pub(crate) fn covered_in_cell(
        &self,
        cell: usize,
        mine: &ServiceSet,
        cover: &ServiceSet,
    ) -> Option<bool> {
        let fams = self.cell_families(cell);
        let mut any = false;
        for f in FAMILIES {
            if !fams[fam_index(f)] || !mine.fits_family(f) {
                continue;
            }
            any = true;
            if !mine.is_subset_in_family(cover, f) {
                return Some(false);
            }
        }
        any.then_some(true)
    }

    /// A packet from a source class to a destination class.
    pub(crate) fn class_packet(&self, sc: u32, dc: u32, services: &ServiceSet) -> Option<Packet> {
        let (s, d) = (
            &self.src_class_rep[sc as usize],
            &self.dst_class_rep[dc as usize],
        );
        s.pairs(d)
            .find_map(|(a, b, f)| self.packet_in(a, b, services, f))
    }

    /// The cells of a term.
    pub(crate) fn term_cells(&self, t: u32) -> Vec<usize> {
        let info = &self.terms[t as usize];
        if info.global {
            // Judged on the pairs no other term matches.
            return self.default_cell.into_iter().collect();
        }
        let mut out = Vec::with_capacity(info.src_classes.len() * info.dst_classes.len());
        for s in &info.src_classes {
            for d in &info.dst_classes {
                if let Some(c) = self.cell(*s, *d) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// Number of source classes.
    pub(crate) fn n_src_classes(&self) -> usize {
        self.src_class_atoms.len()
    }

    /// Number of destination classes.
    pub(crate) fn n_dst_classes(&self) -> usize {
        self.dst_class_atoms.len()
    }
}

/// Up to two atoms per family.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Reps {
    by_family: [[Option<AtomId>; 2]; 2],
}

impl Reps {
    /// Adds an atom if its families still lack representatives.
    pub(crate) fn add(&mut self, an: &Analysis<'_>, a: AtomId) {
        for f in FAMILIES {
            if !an.atoms[a as usize].has(f) {
                continue;
            }
            let slots = &mut self.by_family[fam_index(f)];
            if let Some(slot) = slots.iter_mut().find(|s| s.is_none()) {
                *slot = Some(a);
            }
        }
    }

    /// Candidate pairs (source, destination, family), IPv4 first.
    pub(crate) fn pairs(self, o: &Reps) -> impl Iterator<Item = (AtomId, AtomId, Family)> + '_ {
        FAMILIES.into_iter().flat_map(move |f| {
            let i = fam_index(f);
            let (xs, ys) = (self.by_family[i], o.by_family[i]);
            xs.into_iter()
                .flatten()
                .flat_map(move |a| ys.into_iter().flatten().map(move |b| (a, b, f)))
        })
    }
}

/// Whether two service sets share a service (without allocating).
pub(crate) fn svc_overlaps(a: &ServiceSet, b: &ServiceSet) -> bool {
    let mut bi = b.iter().peekable();
    for (p, s) in a.iter() {
        while bi.peek().is_some_and(|(q, _)| *q < p) {
            bi.next();
        }
        if let Some((q, t)) = bi.peek()
            && *q == p
            && s.overlaps(t)
        {
            return true;
        }
    }
    false
}

/// Whether any term of a rule shares a service with `set` (without allocating).
pub(crate) fn rule_overlaps(rule: &zonal_model::Rule, set: &ServiceSet) -> bool {
    rule.terms.iter().any(|t| svc_overlaps(&t.services, set))
}
