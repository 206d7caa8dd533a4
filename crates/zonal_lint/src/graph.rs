//! The zone graph: zones, devices and the flows the policy permits
//! between them.
//!
//! Nodes are the places packets come from and go to — a device, the rest of
//! a zone (its addresses outside its devices), or the addresses in no zone
//! — plus hub nodes: one per source class and address family, and one per
//! destination class and family, of the lint index (`analysis.rs`). A place
//! joins the hubs of the families it has addresses in. An edge
//! `source hub → destination hub` of a family is a permitted flow: the
//! services allowed and not denied between the two classes that exist in
//! that family (ICMP in IPv4, ICMPv6 in IPv6, ports in both). Hubs keep the
//! graph linear in the size of the policy: a zone-to-zone flow is one edge
//! per family, not one edge per pair of devices.
//!
//! Reachability is per (place, family): a dual-stack host reached over IPv4
//! can go on over IPv6, an IPv4-only host cannot. Every hop joins two
//! different hosts; a packet from a host to itself is no hop.
//!
//! petgraph is an implementation detail; callers see [`ZoneGraph`],
//! [`Place`] and [`Hop`].

use std::collections::VecDeque;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeFiltered, EdgeRef};
use zonal_model::{Action, DeviceId, Endpoint, Packet, Policy, RuleId, ServiceSet, ZoneId};

use crate::analysis::{Analysis, AtomId, AtomKind, FAMILIES, fam_index};

/// A node of the zone graph that packets come from or go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// The addresses of a zone outside its devices.
    Zone(ZoneId),
    /// A device.
    Device(DeviceId),
    /// Addresses that belong to no zone.
    Unassigned,
}

/// One hop of a path: a permitted flow from one place to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// Where the connection starts.
    pub from: Place,
    /// Where it goes.
    pub to: Place,
    /// The services permitted on this hop (in the packet's family).
    pub services: ServiceSet,
    /// The allow rule that permits the example packet.
    pub rule: RuleId,
    /// An example packet of the hop.
    pub packet: Packet,
}

/// Options of a path search.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathOptions<'a> {
    /// Services an attacker can pivot through: a hop other than the last
    /// must permit one of them. `None`: every permitted flow pivots.
    pub pivots: Option<&'a ServiceSet>,
    /// Services the last hop must permit. `None`: any service.
    pub last_hop: Option<&'a ServiceSet>,
}

#[derive(Clone, Copy, Debug)]
enum Node {
    Atom,
    Src,
    Dst,
    /// The hub of the default cell (pairs only `any -> any` rules match),
    /// one per family.
    Global,
}

#[derive(Clone, Copy, Debug)]
enum Edge {
    Member,
    /// A permitted flow of a cell in one family (index into [`FAMILIES`]).
    Flow {
        cell: u32,
        fam: u8,
    },
}

/// How an atom was reached: the previous atom, the cell and the family.
type Via = (AtomId, u32, u8);

/// The zone graph of a policy.
#[derive(Debug)]
pub struct ZoneGraph<'p> {
    pub(crate) an: Analysis<'p>,
    g: DiGraph<Node, Edge, u32>,
    n_atoms: usize,
    ns: usize,
    nd: usize,
    /// Interned permitted service set of each cell (both families), if
    /// anything is permitted.
    cell_perm: Vec<Option<u32>>,
    /// The same per family.
    cell_perm_f: Vec<[Option<u32>; 2]>,
    /// Interned union of the deny rules' services in each cell, if any.
    cell_deny: Vec<Option<u32>>,
    sets: Vec<ServiceSet>,
    /// Node index of the default cell's hub per family, if it permits anything.
    global_hub: [Option<usize>; 2],
}

/// The state of a search, reusable across searches: only the entries a
/// search touched are reset before the next one, so many small searches on
/// a large graph stay cheap.
pub(crate) struct Reach {
    /// The last hop that reached each atom.
    pub(crate) via: Vec<Option<Via>>,
    /// The hop through which an atom was reached as a pivot.
    pivot_via: Vec<Option<Via>>,
    enqueued: Vec<bool>,
    is_src: Vec<bool>,
    /// Pivot atoms in the order they were reached (nearest first).
    order: Vec<AtomId>,
    /// The first two atoms of each source hub (class × family) reached.
    hub_atoms: Vec<[Option<AtomId>; 2]>,
    src_done: Vec<bool>,
    dst_pivot_done: Vec<bool>,
    /// Destination hubs whose every atom has its last hop.
    dst_any_done: Vec<bool>,
    /// The two smallest target atoms of each destination hub.
    targets: Vec<[Option<AtomId>; 2]>,
    touched_atoms: Vec<AtomId>,
    touched_src: Vec<u32>,
    touched_dst: Vec<u32>,
    /// Atom found, in target mode.
    pub(crate) found: Option<AtomId>,
}

impl Reach {
    /// Empty state for a graph.
    pub(crate) fn new(graph: &ZoneGraph<'_>) -> Self {
        let (n, ns, nd) = (graph.n_atoms, graph.ns, graph.nd);
        Reach {
            via: vec![None; n],
            pivot_via: vec![None; n],
            enqueued: vec![false; n],
            is_src: vec![false; n],
            order: Vec::new(),
            hub_atoms: vec![[None; 2]; 2 * ns],
            src_done: vec![false; 2 * ns],
            dst_pivot_done: vec![false; 2 * nd],
            dst_any_done: vec![false; 2 * nd],
            targets: vec![[None; 2]; 2 * nd],
            touched_atoms: Vec::new(),
            touched_src: Vec::new(),
            touched_dst: Vec::new(),
            found: None,
        }
    }

    fn reset(&mut self) {
        for a in self.touched_atoms.drain(..) {
            let a = a as usize;
            self.via[a] = None;
            self.pivot_via[a] = None;
            self.enqueued[a] = false;
            self.is_src[a] = false;
        }
        for h in self.touched_src.drain(..) {
            self.src_done[h as usize] = false;
            self.hub_atoms[h as usize] = [None; 2];
        }
        for h in self.touched_dst.drain(..) {
            let h = h as usize;
            self.dst_pivot_done[h] = false;
            self.dst_any_done[h] = false;
            self.targets[h] = [None; 2];
        }
        self.order.clear();
        self.found = None;
    }
}

fn src_hub(n_atoms: usize, sc: u32, fi: usize) -> usize {
    n_atoms + 2 * sc as usize + fi
}

fn dst_hub(n_atoms: usize, ns: usize, dc: u32, fi: usize) -> usize {
    n_atoms + 2 * ns + 2 * dc as usize + fi
}

/// Records `a` in the first free of two slots (once).
fn remember(slots: &mut [Option<AtomId>; 2], a: AtomId) {
    if slots.contains(&Some(a)) {
        return;
    }
    if let Some(s) = slots.iter_mut().find(|s| s.is_none()) {
        *s = Some(a);
    }
}

impl<'p> ZoneGraph<'p> {
    /// Builds the graph of a policy.
    #[expect(
        clippy::too_many_lines,
        reason = "nodes, memberships, then the flow edges of every cell and family, each step feeding the next"
    )]
    pub fn new(policy: &'p Policy) -> Self {
        let an = Analysis::new(policy);
        let n_atoms = an.atoms.len();
        let (ns, nd) = (an.n_src_classes(), an.n_dst_classes());
        let mut g = DiGraph::with_capacity(
            n_atoms + 2 * (ns + nd) + 2,
            4 * n_atoms + 2 * an.cell_keys.len(),
        );
        for _ in 0..n_atoms {
            g.add_node(Node::Atom);
        }
        for _ in 0..2 * ns {
            g.add_node(Node::Src);
        }
        for _ in 0..2 * nd {
            g.add_node(Node::Dst);
        }
        for (a, atom) in an.atoms.iter().enumerate() {
            for f in FAMILIES {
                if !atom.has(f) {
                    continue;
                }
                let fi = fam_index(f);
                let s = src_hub(n_atoms, an.src_class[a], fi);
                let d = dst_hub(n_atoms, ns, an.dst_class[a], fi);
                g.add_edge(NodeIndex::new(a), NodeIndex::new(s), Edge::Member);
                g.add_edge(NodeIndex::new(d), NodeIndex::new(a), Edge::Member);
            }
        }
        #[expect(
            clippy::disallowed_types,
            reason = "an interner that is never iterated; ids follow cell order"
        )]
        let mut interner: std::collections::HashMap<ServiceSet, u32> =
            std::collections::HashMap::new();
        let mut sets = Vec::new();
        let mut cell_perm = Vec::with_capacity(an.n_cells());
        let mut cell_perm_f = Vec::with_capacity(an.n_cells());
        let mut cell_deny = Vec::with_capacity(an.n_cells());
        // Interns by reference: most cells hold one term, whose services
        // are then looked up without building a new set.
        let mut intern = |set: &ServiceSet| -> Option<u32> {
            if set.is_empty() {
                return None;
            }
            if let Some(id) = interner.get(set) {
                return Some(*id);
            }
            sets.push(set.clone());
            let id = (sets.len() - 1) as u32;
            interner.insert(set.clone(), id);
            Some(id)
        };
        let mut global_hub = [None; 2];
        for cell in 0..an.n_cells() {
            let owned;
            let (perm, deny): (Option<&ServiceSet>, Option<u32>) = match an.cell_terms(cell) {
                [t] if an.terms[*t as usize].action == Action::Allow => {
                    (Some(an.services(*t)), None)
                }
                [t] => (None, intern(an.services(*t))),
                _ => {
                    let allow = an.union(cell, Action::Allow, |_| false);
                    let deny = an.union(cell, Action::Deny, |_| false);
                    owned = if deny.is_empty() {
                        allow
                    } else {
                        allow.subtract(&deny)
                    };
                    (Some(&owned), intern(&deny))
                }
            };
            cell_deny.push(deny);
            let id = perm.and_then(&mut intern);
            let mut per_family = [None; 2];
            if let (Some(perm), Some(id)) = (perm, id) {
                for f in FAMILIES {
                    per_family[fam_index(f)] = if perm.for_family(f) == *perm {
                        Some(id)
                    } else {
                        intern(&perm.for_family(f))
                    };
                }
            }
            cell_perm.push(id);
            cell_perm_f.push(per_family);
            for fi in 0..2 {
                if per_family[fi].is_none() {
                    continue;
                }
                let flow = Edge::Flow {
                    cell: cell as u32,
                    fam: fi as u8,
                };
                if let Some(&(sc, dc)) = an.cell_keys.get(cell) {
                    g.add_edge(
                        NodeIndex::new(src_hub(n_atoms, sc, fi)),
                        NodeIndex::new(dst_hub(n_atoms, ns, dc, fi)),
                        flow,
                    );
                } else {
                    // The default cell: one hub between every source and
                    // every destination class, instead of an edge per pair.
                    let hub = g.add_node(Node::Global);
                    for sc in 0..ns as u32 {
                        g.add_edge(NodeIndex::new(src_hub(n_atoms, sc, fi)), hub, flow);
                    }
                    for dc in 0..nd as u32 {
                        g.add_edge(
                            hub,
                            NodeIndex::new(dst_hub(n_atoms, ns, dc, fi)),
                            Edge::Member,
                        );
                    }
                    global_hub[fi] = Some(hub.index());
                }
            }
        }
        ZoneGraph {
            an,
            g,
            n_atoms,
            ns,
            nd,
            cell_perm,
            cell_perm_f,
            cell_deny,
            sets,
            global_hub,
        }
    }

    /// Number of nodes (places and hubs).
    pub fn node_count(&self) -> usize {
        self.g.node_count()
    }

    /// Number of edges (memberships and permitted flows).
    pub fn edge_count(&self) -> usize {
        self.g.edge_count()
    }

    /// Sizes of the packet-space index: atoms, source and destination
    /// classes, cells, cell memberships, most terms in one cell.
    pub fn index_stats(&self) -> String {
        let an = &self.an;
        let cells = an.cell_keys.len();
        let entries: usize = (0..cells).map(|c| an.cell_terms(c).len()).sum();
        let max = (0..cells)
            .map(|c| an.cell_terms(c).len())
            .max()
            .unwrap_or(0);
        format!(
            "{} atoms, {} terms, {} source classes, {} destination classes, {cells} cells, {entries} cell-term entries (at most {max} in one cell)",
            an.atoms.len(),
            an.terms.len(),
            an.n_src_classes(),
            an.n_dst_classes()
        )
    }

    /// Number of places (devices, zone remainders, unassigned addresses).
    pub fn place_count(&self) -> usize {
        self.an.atoms.len()
    }

    /// The name of a place.
    pub fn place_name(&self, p: Place) -> String {
        match p {
            Place::Zone(z) => self.an.policy.zone(z).name.clone(),
            Place::Device(d) => self.an.policy.device(d).name.clone(),
            Place::Unassigned => "addresses in no zone".to_string(),
        }
    }

    /// The union of the deny rules' services in a cell (`None`: no deny).
    pub(crate) fn cell_denied(&self, cell: usize) -> Option<&ServiceSet> {
        self.cell_deny[cell].map(|i| &self.sets[i as usize])
    }

    /// The services permitted in a cell (both families).
    pub(crate) fn cell_permitted(&self, cell: usize) -> Option<&ServiceSet> {
        self.cell_perm[cell].map(|i| &self.sets[i as usize])
    }

    fn perm_in(&self, cell: usize, fi: usize) -> Option<&ServiceSet> {
        self.cell_perm_f[cell][fi].map(|i| &self.sets[i as usize])
    }

    pub(crate) fn place(&self, a: AtomId) -> Place {
        match self.an.atoms[a as usize].kind {
            AtomKind::Zone(z) => Place::Zone(z),
            AtomKind::Device(d) => Place::Device(d),
            AtomKind::Unassigned => Place::Unassigned,
        }
    }

    /// The hop from atom `a` to atom `b` through `cell` in family `fi`,
    /// restricted to `want`.
    fn hop(
        &self,
        a: AtomId,
        b: AtomId,
        cell: usize,
        fi: usize,
        want: Option<&ServiceSet>,
    ) -> Option<Hop> {
        let perm = self.perm_in(cell, fi)?;
        let services = match want {
            Some(w) => perm.intersect(w),
            None => perm.clone(),
        };
        let packet = self.an.packet_in(a, b, &services, FAMILIES[fi])?;
        let (action, rule) = self.an.deciding_rule(cell, packet.proto, packet.selector)?;
        if action != Action::Allow {
            return None;
        }
        Some(Hop {
            from: self.place(a),
            to: self.place(b),
            services: perm.clone(),
            rule,
            packet,
        })
    }

    /// A direct permitted flow from one of `from` to one of `to` using a
    /// service of `services` (any if `None`).
    pub fn direct(
        &self,
        from: &[Endpoint],
        to: &[Endpoint],
        services: Option<&ServiceSet>,
    ) -> Option<Hop> {
        let src = self.an.endpoints_atoms(from);
        let dst = self.an.endpoints_atoms(to);
        self.direct_atoms(&src, &dst, services)
    }

    /// Up to two atoms of `atoms` per (class, family) hub, hubs ascending.
    fn by_hub(&self, atoms: &[AtomId], src_side: bool) -> Vec<(u32, usize, [Option<AtomId>; 2])> {
        let mut m: std::collections::BTreeMap<(u32, usize), [Option<AtomId>; 2]> =
            std::collections::BTreeMap::new();
        for a in atoms {
            let class = if src_side {
                self.an.src_class[*a as usize]
            } else {
                self.an.dst_class[*a as usize]
            };
            for f in FAMILIES {
                if self.an.atoms[*a as usize].has(f) {
                    remember(m.entry((class, fam_index(f))).or_default(), *a);
                }
            }
        }
        m.into_iter().map(|((c, fi), v)| (c, fi, v)).collect()
    }

    pub(crate) fn direct_atoms(
        &self,
        src: &[AtomId],
        dst: &[AtomId],
        services: Option<&ServiceSet>,
    ) -> Option<Hop> {
        let dsts = self.by_hub(dst, false);
        for (sc, fi, xs) in self.by_hub(src, true) {
            for (dc, _, ys) in dsts.iter().filter(|d| d.1 == fi) {
                let Some(cell) = self.an.cell(sc, *dc) else {
                    continue;
                };
                for a in xs.iter().flatten() {
                    for b in ys.iter().flatten() {
                        if let Some(h) = self.hop(*a, *b, cell, fi, services) {
                            return Some(h);
                        }
                    }
                }
            }
        }
        None
    }

    /// The shortest chain of permitted flows from one of `from` to one of
    /// `to`, hop by hop.
    pub fn shortest_path(
        &self,
        from: &[Endpoint],
        to: &[Endpoint],
        opts: &PathOptions<'_>,
    ) -> Option<Vec<Hop>> {
        let src = self.an.endpoints_atoms(from);
        let dst = self.an.endpoints_atoms(to);
        self.path_atoms(&src, &dst, opts)
    }

    pub(crate) fn path_atoms(
        &self,
        src: &[AtomId],
        dst: &[AtomId],
        opts: &PathOptions<'_>,
    ) -> Option<Vec<Hop>> {
        let mut reach = Reach::new(self);
        self.path_atoms_with(&mut reach, src, dst, opts)
    }

    /// Like [`Self::path_atoms`], reusing the search state.
    pub(crate) fn path_atoms_with(
        &self,
        reach: &mut Reach,
        src: &[AtomId],
        dst: &[AtomId],
        opts: &PathOptions<'_>,
    ) -> Option<Vec<Hop>> {
        self.bfs(reach, src, opts, Some(dst));
        let found = reach.found?;
        self.path_to(reach, found, opts)
    }

    /// Rebuilds the path to a reached atom.
    pub(crate) fn path_to(
        &self,
        reach: &Reach,
        b: AtomId,
        opts: &PathOptions<'_>,
    ) -> Option<Vec<Hop>> {
        let (a, cell, fi) = reach.via[b as usize]?;
        let mut hops = vec![self.hop(a, b, cell as usize, fi as usize, opts.last_hop)?];
        let mut cur = a;
        let mut guard = 0usize;
        while let Some((prev, cell, fi)) = reach.pivot_via[cur as usize] {
            hops.push(self.hop(prev, cur, cell as usize, fi as usize, opts.pivots)?);
            cur = prev;
            guard += 1;
            if guard > self.n_atoms {
                return None;
            }
        }
        hops.reverse();
        Some(hops)
    }

    /// The destination classes a flow edge of source class `sc` leads to.
    fn edge_dsts(&self, target: usize, fi: usize, sc: u32) -> EdgeDsts<'_> {
        if Some(target) == self.global_hub[fi] {
            EdgeDsts::All {
                narrow: self.an.narrow_dsts(sc).collect(),
                next: 0,
                nd: self.nd as u32,
            }
        } else {
            let dc = ((target - self.n_atoms - 2 * self.ns) / 2) as u32;
            EdgeDsts::One(Some(dc), std::marker::PhantomData)
        }
    }

    /// Searches from `src` over permitted flows, in two phases: first every
    /// place reachable over pivot hops (breadth first, so nearest first),
    /// then the last hop from each of them. In target mode it stops at the
    /// first target reached (a shortest path); otherwise it records the
    /// last hop of every place reached.
    pub(crate) fn bfs(
        &self,
        reach: &mut Reach,
        src: &[AtomId],
        opts: &PathOptions<'_>,
        targets: Option<&[AtomId]>,
    ) {
        let an = &self.an;
        reach.reset();
        let target_mode = targets.is_some();
        for b in targets.unwrap_or_default() {
            for f in FAMILIES {
                if an.atoms[*b as usize].has(f) {
                    let h = 2 * an.dst_class[*b as usize] as usize + fam_index(f);
                    let t = &mut reach.targets[h];
                    // Keep the two smallest.
                    let mut all: Vec<AtomId> = t.iter().flatten().copied().collect();
                    all.push(*b);
                    all.sort_unstable();
                    all.dedup();
                    *t = [all.first().copied(), all.get(1).copied()];
                    reach.touched_dst.push(h as u32);
                }
            }
        }
        self.pivot_closure(reach, src, opts);
        self.last_hops(reach, opts, target_mode);
    }

    /// Phase 1 of [`Self::bfs`]: the places reachable over pivot hops,
    /// nearest first.
    fn pivot_closure(&self, reach: &mut Reach, src: &[AtomId], opts: &PathOptions<'_>) {
        let an = &self.an;
        let mut pivot_ok: Vec<Option<bool>> = vec![None; self.sets.len()];
        let mut queue = VecDeque::new();
        for a in src {
            reach.is_src[*a as usize] = true;
            reach.touched_atoms.push(*a);
            if !std::mem::replace(&mut reach.enqueued[*a as usize], true) {
                queue.push_back(*a);
            }
        }
        let mut pivot_done = [0usize; 2];
        while let Some(a) = queue.pop_front() {
            reach.order.push(a);
            let sc = an.src_class[a as usize];
            for f in FAMILIES {
                if !an.atoms[a as usize].has(f) {
                    continue;
                }
                let fi = fam_index(f);
                let h = 2 * sc as usize + fi;
                remember(&mut reach.hub_atoms[h], a);
                if std::mem::replace(&mut reach.src_done[h], true) {
                    continue;
                }
                reach.touched_src.push(h as u32);
                let node = NodeIndex::new(src_hub(self.n_atoms, sc, fi));
                for e in self.g.edges(node) {
                    let Edge::Flow { cell, .. } = *e.weight() else {
                        continue;
                    };
                    let Some(set) = self.cell_perm_f[cell as usize][fi] else {
                        continue;
                    };
                    let ok = *pivot_ok[set as usize].get_or_insert_with(|| {
                        opts.pivots
                            .is_none_or(|p| self.sets[set as usize].overlaps(p))
                    });
                    if !ok {
                        continue;
                    }
                    if Some(e.target().index()) == self.global_hub[fi] && pivot_done[fi] == self.nd
                    {
                        continue;
                    }
                    for dc in self.edge_dsts(e.target().index(), fi, sc) {
                        let hd = 2 * dc as usize + fi;
                        if std::mem::replace(&mut reach.dst_pivot_done[hd], true) {
                            continue;
                        }
                        pivot_done[fi] += 1;
                        reach.touched_dst.push(hd as u32);
                        for b in &an.dst_class_atoms[dc as usize] {
                            if an.atoms[*b as usize].has(f)
                                && !std::mem::replace(&mut reach.enqueued[*b as usize], true)
                            {
                                reach.pivot_via[*b as usize] = Some((a, cell, fi as u8));
                                reach.touched_atoms.push(*b);
                                queue.push_back(*b);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Phase 2 of [`Self::bfs`]: the last hop, from each source hub in the
    /// order it was first reached.
    fn last_hops(&self, reach: &mut Reach, opts: &PathOptions<'_>, target_mode: bool) {
        let an = &self.an;
        let mut last_ok: Vec<Option<bool>> = vec![None; self.sets.len()];
        let mut any_done = [0usize; 2];
        for i in 0..reach.touched_src.len() {
            let h = reach.touched_src[i] as usize;
            let (sc, fi) = ((h / 2) as u32, h % 2);
            let from = reach.hub_atoms[h];
            let node = NodeIndex::new(src_hub(self.n_atoms, sc, fi));
            for e in self.g.edges(node) {
                let Edge::Flow { cell, .. } = *e.weight() else {
                    continue;
                };
                let Some(set) = self.cell_perm_f[cell as usize][fi] else {
                    continue;
                };
                let ok = *last_ok[set as usize].get_or_insert_with(|| {
                    opts.last_hop
                        .is_none_or(|p| self.sets[set as usize].overlaps(p))
                });
                if !ok {
                    continue;
                }
                if !target_mode
                    && Some(e.target().index()) == self.global_hub[fi]
                    && any_done[fi] == self.nd
                {
                    continue;
                }
                for dc in self.edge_dsts(e.target().index(), fi, sc) {
                    let hd = 2 * dc as usize + fi;
                    if reach.dst_any_done[hd] {
                        continue;
                    }
                    if target_mode {
                        if self.last_hop_to_target(reach, from, cell, fi, hd, opts) {
                            return;
                        }
                        continue;
                    }
                    let mut all = true;
                    for b in &an.dst_class_atoms[dc as usize] {
                        let b = *b;
                        if !an.atoms[b as usize].has(FAMILIES[fi])
                            || reach.via[b as usize].is_some()
                            || reach.is_src[b as usize]
                        {
                            continue;
                        }
                        match self.other_end(from, b, fi) {
                            Some(p) => {
                                reach.via[b as usize] = Some((p, cell, fi as u8));
                                reach.touched_atoms.push(b);
                            }
                            None => all = false,
                        }
                    }
                    if all {
                        reach.dst_any_done[hd] = true;
                        any_done[fi] += 1;
                        reach.touched_dst.push(hd as u32);
                    }
                }
            }
        }
    }

    /// An atom of `from` that can send to `b` in family `fi`: any other
    /// atom, or `b` itself when it has a second address.
    fn other_end(&self, from: [Option<AtomId>; 2], b: AtomId, fi: usize) -> Option<AtomId> {
        let b_second = self.an.atoms[b as usize].second(FAMILIES[fi]).is_some();
        from.into_iter().flatten().find(|p| *p != b || b_second)
    }

    fn last_hop_to_target(
        &self,
        reach: &mut Reach,
        from: [Option<AtomId>; 2],
        cell: u32,
        fi: usize,
        hd: usize,
        opts: &PathOptions<'_>,
    ) -> bool {
        for t in reach.targets[hd].into_iter().flatten() {
            if let Some(p) = self.other_end(from, t, fi)
                && self.hop(p, t, cell as usize, fi, opts.last_hop).is_some()
            {
                reach.via[t as usize] = Some((p, cell, fi as u8));
                reach.touched_atoms.push(t);
                reach.found = Some(t);
                return true;
            }
        }
        false
    }

    /// For every atom, the set of "interesting" atoms (given as a bit index
    /// per atom) reachable from it over chains of permitted flows, as
    /// bitsets of `words` u64 each. Uses the strongly connected components
    /// of the graph, so it costs one pass over the graph.
    pub(crate) fn reach_bits(
        &self,
        bit_of: &[Option<u32>],
        n_bits: usize,
        pivots: Option<&ServiceSet>,
    ) -> Vec<Vec<u64>> {
        let an = &self.an;
        let n_atoms = self.n_atoms;
        let words = n_bits.div_ceil(64).max(1);
        let n = self.g.node_count();
        let pivot_ok: Vec<bool> = self
            .sets
            .iter()
            .map(|s| pivots.is_none_or(|p| s.overlaps(p)))
            .collect();
        // Bits of each destination hub (class × family).
        let mut hub_bits = vec![0u64; 2 * self.nd * words];
        let mut local = vec![0u64; n * words];
        for (a, bit) in bit_of.iter().enumerate() {
            let Some(b) = bit else { continue };
            let (w, m) = ((*b as usize) / 64, 1u64 << (b % 64));
            local[a * words + w] |= m;
            for f in FAMILIES {
                if an.atoms[a].has(f) {
                    let hd = 2 * an.dst_class[a] as usize + fam_index(f);
                    hub_bits[hd * words + w] |= m;
                }
            }
        }
        // Bits of every destination hub of a family (the default cell's hub).
        let mut all_bits = vec![0u64; 2 * words];
        for (i, b) in hub_bits.iter().enumerate() {
            let (hd, w) = (i / words, i % words);
            all_bits[(hd % 2) * words + w] |= b;
        }
        let flow_ok = |cell: u32, fam: u8| {
            self.cell_perm_f[cell as usize][fam as usize].is_some_and(|s| pivot_ok[s as usize])
        };
        for e in self.g.edge_references() {
            let Edge::Flow { cell, fam } = *e.weight() else {
                continue;
            };
            if self.cell_perm_f[cell as usize][fam as usize].is_none() {
                continue;
            }
            let s = e.source().index();
            let fi = fam as usize;
            if Some(e.target().index()) == self.global_hub[fi] {
                for w in 0..words {
                    local[s * words + w] |= all_bits[fi * words + w];
                }
                continue;
            }
            let hd = e.target().index() - n_atoms - 2 * self.ns;
            for w in 0..words {
                local[s * words + w] |= hub_bits[hd * words + w];
            }
        }
        let keep = |e: &Edge| match *e {
            Edge::Member => true,
            Edge::Flow { cell, fam } => flow_ok(cell, fam),
        };
        let filtered = EdgeFiltered::from_fn(&self.g, |e| keep(e.weight()));
        let sccs = petgraph::algo::tarjan_scc(&filtered);
        let mut value = vec![0u64; n * words];
        let mut acc = vec![0u64; words];
        for scc in &sccs {
            acc.iter_mut().for_each(|w| *w = 0);
            for v in scc {
                let i = v.index();
                for w in 0..words {
                    acc[w] |= local[i * words + w];
                }
                for e in self.g.edges(*v) {
                    if keep(e.weight()) {
                        let t = e.target().index();
                        for w in 0..words {
                            acc[w] |= value[t * words + w];
                        }
                    }
                }
            }
            for v in scc {
                let i = v.index();
                value[i * words..(i + 1) * words].copy_from_slice(&acc);
            }
        }
        (0..n_atoms)
            .map(|a| value[a * words..(a + 1) * words].to_vec())
            .collect()
    }
}

/// The destination classes of a flow edge: one, or every class without a
/// cell of its own (the default cell's hub).
enum EdgeDsts<'a> {
    One(Option<u32>, std::marker::PhantomData<&'a ()>),
    All {
        narrow: Vec<u32>,
        next: u32,
        nd: u32,
    },
}

impl Iterator for EdgeDsts<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            EdgeDsts::One(dc, _) => dc.take(),
            EdgeDsts::All { narrow, next, nd } => {
                while *next < *nd {
                    let dc = *next;
                    *next += 1;
                    if narrow.binary_search(&dc).is_err() {
                        return Some(dc);
                    }
                }
                None
            }
        }
    }
}
