//! Zones: properties, `within` nesting, external zones, overlaps between
//! networks, and each zone's own addresses.

use std::collections::{BTreeMap, BTreeSet};

use zonal_diagnostics::{FileId, TextRange};
use zonal_syntax::ast;

use super::{Resolver, errors, sort_by_name, sp};
use crate::addr::{AddrSet, Prefix};
use crate::ir::{Trust, Zone, ZoneId};
use crate::vocab;

impl Resolver<'_> {
    /// Every zone, sorted by name and checked, with its addresses; and the
    /// new id of each zone by declaration index.
    pub(super) fn build_zones(&mut self) -> (Vec<Zone>, Vec<ZoneId>) {
        let (order, zone_new_id) = sort_by_name(&self.zones, |z| &z.decl.name.name, ZoneId);
        let mut zones: Vec<Zone> = order
            .iter()
            .map(|&old| self.build_zone(old, &zone_new_id))
            .collect();
        // `order` maps each zone's new index to its declaration.
        self.resolve_within(&mut zones, &order);
        self.break_within_cycles(&mut zones);
        self.check_external_and_empty(&zones, &order);
        self.check_overlaps(&zones);
        self.check_children_inside_parents(&zones);
        self.compute_addresses(&mut zones);
        (zones, zone_new_id)
    }

    fn build_zone(&mut self, old: usize, zone_new_id: &[ZoneId]) -> Zone {
        let (file, decl, range) = {
            let z = &self.zones[old];
            (z.file, z.decl, z.range)
        };
        let mut zone = Zone {
            id: zone_new_id[old],
            name: decl.name.name.clone(),
            span: sp(file, decl.name.range),
            decl_span: sp(file, range),
            networks: Vec::new(),
            vlan: None,
            trust: None,
            kind: None,
            tags: Vec::new(),
            description: None,
            legacy: false,
            external: false,
            parent: None,
            devices: Vec::new(),
            addrs: AddrSet::empty(),
        };
        let mut seen: BTreeMap<&'static str, TextRange> = BTreeMap::new();
        for p in &decl.props {
            let key: Option<&'static str> = match &p.kind {
                ast::ZonePropKind::Vlan(_) => Some("vlan"),
                ast::ZonePropKind::Trust(_) => Some("trust"),
                ast::ZonePropKind::Kind(_) => Some("kind"),
                ast::ZonePropKind::Description(_) => Some("description"),
                ast::ZonePropKind::Within(_) => Some("within"),
                _ => None,
            };
            if let Some(k) = key
                && !self.first_setting(&mut seen, k, file, p.range)
            {
                continue;
            }
            self.zone_prop(&mut zone, file, &p.kind);
        }
        zone.networks.sort();
        zone.networks.dedup();
        if zone.kind.is_none() && zone.external {
            zone.kind = Some("external".into());
        }
        zone
    }

    /// Applies one property; `within` and devices are resolved later.
    fn zone_prop(&mut self, zone: &mut Zone, file: FileId, prop: &ast::ZonePropKind) {
        match prop {
            ast::ZonePropKind::Network(list) => {
                for a in list {
                    if let Some(pfx) = self.prefix(file, a, "network") {
                        zone.networks.push(pfx);
                    }
                }
            }
            ast::ZonePropKind::Vlan(n) => {
                if (1..=4094).contains(&n.value) {
                    zone.vlan = u16::try_from(n.value).ok();
                } else {
                    self.err(errors::vlan_out_of_range(n.value, sp(file, n.range)));
                }
            }
            ast::ZonePropKind::Trust(t) => match Trust::parse(&t.name) {
                Some(tr) => zone.trust = Some(tr),
                None => self.err(errors::unknown_trust(&t.name, sp(file, t.range))),
            },
            ast::ZonePropKind::Kind(k) => {
                self.check_word(file, k, "zone kind", vocab::ZONE_KINDS);
                zone.kind = Some(k.name.clone());
            }
            ast::ZonePropKind::Tags(ts) => {
                for t in ts {
                    self.check_word(file, t, "tag", vocab::ZONE_KINDS);
                }
                zone.tags.extend(ts.iter().map(|t| t.name.clone()));
            }
            ast::ZonePropKind::Description(s) => zone.description = Some(s.value.clone()),
            ast::ZonePropKind::Legacy => zone.legacy = true,
            ast::ZonePropKind::External => zone.external = true,
            ast::ZonePropKind::Within(_) | ast::ZonePropKind::Device(_) => {}
        }
    }

    /// Sets each zone's parent from `within`.
    fn resolve_within(&mut self, zones: &mut [Zone], old_of_new: &[usize]) {
        let by_name: BTreeMap<String, ZoneId> =
            zones.iter().map(|z| (z.name.clone(), z.id)).collect();
        for i in 0..zones.len() {
            let (file, decl) = {
                let z = &self.zones[old_of_new[i]];
                (z.file, z.decl)
            };
            for p in &decl.props {
                let ast::ZonePropKind::Within(parent) = &p.kind else {
                    continue;
                };
                let at = sp(file, parent.range);
                match by_name.get(&parent.name) {
                    Some(pid) if *pid == zones[i].id => {
                        self.err(errors::zone_within_itself(&parent.name, at));
                    }
                    Some(pid) => zones[i].parent = Some(*pid),
                    None => {
                        let cands: Vec<&str> = by_name.keys().map(String::as_str).collect();
                        self.err(errors::unknown_parent_zone(&parent.name, at, &cands));
                    }
                }
            }
        }
    }

    /// Reports cycles in `within` and drops the parent of each zone on one.
    fn break_within_cycles(&mut self, zones: &mut [Zone]) {
        for i in 0..zones.len() {
            let mut seen = BTreeSet::new();
            let mut cur = zones[i].parent;
            while let Some(p) = cur {
                if p.index() == i || !seen.insert(p) {
                    self.err(errors::within_cycle(&zones[i]));
                    zones[i].parent = None;
                    break;
                }
                cur = zones[p.index()].parent;
            }
        }
    }

    /// External zones inside others, and internal zones without networks.
    /// A zone whose `network` was written but invalid has already been
    /// reported.
    fn check_external_and_empty(&mut self, zones: &[Zone], old_of_new: &[usize]) {
        for (i, z) in zones.iter().enumerate() {
            let wrote_network = self.zones[old_of_new[i]]
                .decl
                .props
                .iter()
                .any(|p| matches!(p.kind, ast::ZonePropKind::Network(_)));
            if z.external && z.parent.is_some() {
                self.err(errors::external_within(z));
            }
            if !z.external && z.networks.is_empty() && !wrote_network {
                self.err(errors::no_network(z));
            }
        }
    }

    /// Reports zones whose networks overlap, once per pair, unless one is
    /// (transitively) `within` the other. CIDR blocks are nested or
    /// disjoint, so a sweep over blocks sorted by (start, widest first)
    /// with a stack of the blocks still open finds every overlap: each
    /// block is compared with the innermost open block enclosing it.
    fn check_overlaps(&mut self, zones: &[Zone]) {
        /// Family (0 for IPv4), first and last address, zone index, prefix.
        type Block = (u8, u128, u128, usize, Prefix);
        let mut blocks: Vec<Block> = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            for p in &z.networks {
                let s = p.to_set();
                let fam = u8::from(!p.is_v4());
                let (lo, hi) = if p.is_v4() {
                    let r = s.v4_ranges()[0];
                    (u128::from(r.0), u128::from(r.1))
                } else {
                    s.v6_ranges()[0]
                };
                blocks.push((fam, lo, hi, i, *p));
            }
        }
        blocks.sort_by_key(|b| (b.0, b.1, std::cmp::Reverse(b.2), b.3));
        let mut stack: Vec<Block> = Vec::new();
        let mut reported: BTreeSet<(usize, usize)> = BTreeSet::new();
        for b in blocks {
            while stack.last().is_some_and(|t| t.0 != b.0 || t.2 < b.1) {
                stack.pop();
            }
            if let Some(top) = stack.last() {
                let (outer, inner) = (top.3, b.3);
                if outer != inner
                    && !is_within(zones, inner, outer)
                    && reported.insert((outer.min(inner), outer.max(inner)))
                {
                    self.err(errors::zones_overlap(
                        &zones[inner],
                        b.4,
                        &zones[outer],
                        top.4,
                    ));
                }
            }
            stack.push(b);
        }
    }

    /// A zone `within` another must have its networks inside the parent's.
    fn check_children_inside_parents(&mut self, zones: &[Zone]) {
        for z in zones {
            if let Some(p) = z.parent {
                let own = AddrSet::from_prefixes(&z.networks);
                let parent = AddrSet::from_prefixes(&zones[p.index()].networks);
                if !own.is_subset(&parent) {
                    self.err(errors::outside_parent(z, &zones[p.index()]));
                }
            }
        }
    }

    /// Each zone's addresses: its networks less its children's. The one
    /// external zone without networks (the catch-all) takes every address
    /// no other zone has; a second catch-all is reported.
    ///
    /// Linear in the zones (plus a sort of their ranges): children are
    /// found through an index of parents, and the internal and external
    /// unions are merged once at the end, not grown zone by zone.
    fn compute_addresses(&mut self, zones: &mut [Zone]) {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); zones.len()];
        for (j, z) in zones.iter().enumerate() {
            if let Some(p) = z.parent {
                children[p.index()].push(j);
            }
        }
        let mut internal = Vec::new();
        let mut explicit_external = Vec::new();
        for i in 0..zones.len() {
            let mut own = AddrSet::from_prefixes(&zones[i].networks);
            if !children[i].is_empty() {
                let inner = AddrSet::from_prefixes(
                    children[i].iter().flat_map(|&j| zones[j].networks.iter()),
                );
                own = own.subtract(&inner);
            }
            if zones[i].external {
                explicit_external.push(own.clone());
            } else {
                internal.push(own.clone());
            }
            zones[i].addrs = own;
        }
        let internal = AddrSet::union_all(internal);
        let explicit_external = AddrSet::union_all(explicit_external);
        let catch_all: Vec<usize> = (0..zones.len())
            .filter(|&i| zones[i].external && zones[i].networks.is_empty())
            .collect();
        if catch_all.len() > 1 {
            let first = catch_all[0];
            for &other in &catch_all[1..] {
                self.err(errors::second_catch_all(&zones[first], &zones[other]));
            }
        }
        let rest = internal.union(&explicit_external).complement();
        if let Some(&i) = catch_all.first() {
            zones[i].addrs = rest;
        }
    }
}

/// Whether zone `inner` is nested, through any number of `within`, in
/// zone `outer` (indices into `zones`).
fn is_within(zones: &[Zone], inner: usize, outer: usize) -> bool {
    let mut cur = zones[inner].parent;
    let mut steps = 0;
    while let Some(p) = cur {
        if p.index() == outer {
            return true;
        }
        steps += 1;
        if steps > zones.len() {
            return false;
        }
        cur = zones[p.index()].parent;
    }
    false
}

impl Resolver<'_> {
    /// Reports a `kind` or tag outside its vocabulary.
    pub(super) fn check_word(
        &mut self,
        file: FileId,
        word: &ast::Ident,
        what: &str,
        vocabulary: &[&str],
    ) {
        if !vocab::is_known(&word.name, vocabulary) {
            let d = errors::unknown_word(&word.name, what, sp(file, word.range), vocabulary);
            self.err(d);
        }
    }
}
