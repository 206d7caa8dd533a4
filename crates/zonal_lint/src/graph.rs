//! The zone graph: zones, devices and the flows the policy permits
//! between them.
//!
//! Nodes are the places packets come from and go to — a device, the rest of
//! a zone (its addresses outside its devices), or the addresses in no zone
//! — plus one hub node per source class and per destination class of the
//! lint index (`analysis.rs`). An edge `source hub → destination hub` is a
//! permitted flow: it carries the services that are allowed and not denied
//! between the two classes, and the rules that allow them. Hubs keep the
//! graph linear in the size of the policy: a zone-to-zone flow is one edge,
//! not one edge per pair of devices.
//!
//! petgraph is an implementation detail; callers see [`ZoneGraph`],
//! [`Place`] and [`Hop`].

use std::collections::{BTreeMap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeFiltered, EdgeRef};
use zonal_model::{Action, DeviceId, Endpoint, Packet, Policy, RuleId, ServiceSet, ZoneId};

use crate::analysis::{Analysis, AtomId, AtomKind};

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
    /// The services permitted on this hop.
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
    /// The hub of the default cell (pairs only `any -> any` rules match).
    Global,
}

#[derive(Clone, Copy, Debug)]
enum Edge {
    Member,
    Flow(u32),
}

/// The zone graph of a policy.
#[derive(Debug)]
pub struct ZoneGraph<'p> {
    pub(crate) an: Analysis<'p>,
    g: DiGraph<Node, Edge, u32>,
    /// Interned permitted service set of each cell, if anything is permitted.
    cell_perm: Vec<Option<u32>>,
    /// Interned union of the deny rules' services in each cell, if any.
    cell_deny: Vec<Option<u32>>,
    sets: Vec<ServiceSet>,
    /// Node index of the default cell's hub, if it permits anything.
    global_hub: Option<usize>,
}

/// One expansion of the search: from atom `a` through `cell`.
#[derive(Clone, Copy)]
struct Step {
    a: AtomId,
    cell: u32,
    p_ok: bool,
    l_ok: bool,
    target_mode: bool,
}

/// The state of a breadth-first search, reusable across searches: only the
/// entries a search touched are reset before the next one, so many small
/// searches on a large graph stay cheap.
pub(crate) struct Reach {
    /// First hop that reached each atom: (previous atom, cell).
    pub(crate) via: Vec<Option<(AtomId, u32)>>,
    /// Hop through which an atom was reached as a pivot (expanded).
    pivot_via: Vec<Option<(AtomId, u32)>>,
    enqueued: Vec<bool>,
    is_src: Vec<bool>,
    src_done: Vec<bool>,
    dst_pivot_done: Vec<bool>,
    dst_any_done: Vec<bool>,
    /// The smallest target atom of each destination class.
    first_target: Vec<Option<AtomId>>,
    touched_atoms: Vec<AtomId>,
    touched_src: Vec<u32>,
    touched_dst: Vec<u32>,
    /// Destination classes done both ways (an upper bound; only used to
    /// skip the default cell's hub once every class is done).
    dst_all_done: usize,
    /// Atom found, in target mode.
    pub(crate) found: Option<AtomId>,
}

impl Reach {
    /// Empty state for a graph.
    pub(crate) fn new(graph: &ZoneGraph<'_>) -> Self {
        let (n, ns, nd) = (
            graph.an.atoms.len(),
            graph.an.n_src_classes(),
            graph.an.n_dst_classes(),
        );
        Reach {
            via: vec![None; n],
            pivot_via: vec![None; n],
            enqueued: vec![false; n],
            is_src: vec![false; n],
            src_done: vec![false; ns],
            dst_pivot_done: vec![false; nd],
            dst_any_done: vec![false; nd],
            first_target: vec![None; nd],
            touched_atoms: Vec::new(),
            touched_src: Vec::new(),
            touched_dst: Vec::new(),
            dst_all_done: 0,
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
        for c in self.touched_src.drain(..) {
            self.src_done[c as usize] = false;
        }
        for c in self.touched_dst.drain(..) {
            let c = c as usize;
            self.dst_pivot_done[c] = false;
            self.dst_any_done[c] = false;
            self.first_target[c] = None;
        }
        self.dst_all_done = 0;
        self.found = None;
    }
}

impl<'p> ZoneGraph<'p> {
    /// Builds the graph of a policy.
    pub fn new(policy: &'p Policy) -> Self {
        let an = Analysis::new(policy);
        let n_atoms = an.atoms.len();
        let (ns, nd) = (an.n_src_classes(), an.n_dst_classes());
        let mut g = DiGraph::with_capacity(n_atoms + ns + nd, 2 * n_atoms + an.cell_keys.len());
        for _ in 0..n_atoms {
            g.add_node(Node::Atom);
        }
        for _ in 0..ns {
            g.add_node(Node::Src);
        }
        for _ in 0..nd {
            g.add_node(Node::Dst);
        }
        for a in 0..n_atoms {
            let s = n_atoms + an.src_class[a] as usize;
            let d = n_atoms + ns + an.dst_class[a] as usize;
            g.add_edge(NodeIndex::new(a), NodeIndex::new(s), Edge::Member);
            g.add_edge(NodeIndex::new(d), NodeIndex::new(a), Edge::Member);
        }
        #[expect(
            clippy::disallowed_types,
            reason = "an interner that is never iterated; ids follow cell order"
        )]
        let mut interner: std::collections::HashMap<ServiceSet, u32> =
            std::collections::HashMap::new();
        let mut sets = Vec::new();
        let mut cell_perm = Vec::with_capacity(an.cell_keys.len());
        let mut cell_deny = Vec::with_capacity(an.cell_keys.len());
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
        let mut global_hub = None;
        for cell in 0..an.n_cells() {
            let (perm, deny) = match an.cell_terms(cell) {
                [t] if an.terms[*t as usize].action == Action::Allow => {
                    (intern(an.services(*t)), None)
                }
                [t] => (None, intern(an.services(*t))),
                _ => {
                    let allow = an.union(cell, Action::Allow, |_| false);
                    let deny = an.union(cell, Action::Deny, |_| false);
                    let perm = if deny.is_empty() {
                        allow
                    } else {
                        allow.subtract(&deny)
                    };
                    (intern(&perm), intern(&deny))
                }
            };
            cell_deny.push(deny);
            let Some(id) = perm else {
                cell_perm.push(None);
                continue;
            };
            cell_perm.push(Some(id));
            if let Some(&(sc, dc)) = an.cell_keys.get(cell) {
                g.add_edge(
                    NodeIndex::new(n_atoms + sc as usize),
                    NodeIndex::new(n_atoms + ns + dc as usize),
                    Edge::Flow(cell as u32),
                );
            } else {
                // The default cell: one hub between every source and every
                // destination class, instead of an edge per pair.
                let hub = g.add_node(Node::Global);
                for sc in 0..ns {
                    g.add_edge(NodeIndex::new(n_atoms + sc), hub, Edge::Flow(cell as u32));
                }
                for dc in 0..nd {
                    g.add_edge(hub, NodeIndex::new(n_atoms + ns + dc), Edge::Member);
                }
                global_hub = Some(hub.index());
            }
        }
        ZoneGraph {
            global_hub,
            an,
            g,
            cell_perm,
            cell_deny,
            sets,
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

    /// The services permitted in a cell.
    pub(crate) fn cell_permitted(&self, cell: usize) -> Option<&ServiceSet> {
        self.cell_perm[cell].map(|i| &self.sets[i as usize])
    }

    pub(crate) fn place(&self, a: AtomId) -> Place {
        match self.an.atoms[a as usize].kind {
            AtomKind::Zone(z) => Place::Zone(z),
            AtomKind::Device(d) => Place::Device(d),
            AtomKind::Unassigned => Place::Unassigned,
        }
    }

    /// The hop from atom `a` to atom `b` through `cell`, restricted to `want`.
    pub(crate) fn hop(
        &self,
        a: AtomId,
        b: AtomId,
        cell: usize,
        want: Option<&ServiceSet>,
    ) -> Option<Hop> {
        let perm = self.cell_permitted(cell)?;
        let services = match want {
            Some(w) => perm.intersect(w),
            None => perm.clone(),
        };
        let packet = self.an.packet(a, b, &services)?;
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

    pub(crate) fn direct_atoms(
        &self,
        src: &[AtomId],
        dst: &[AtomId],
        services: Option<&ServiceSet>,
    ) -> Option<Hop> {
        let mut first_dst: BTreeMap<u32, Vec<AtomId>> = BTreeMap::new();
        for b in dst {
            first_dst
                .entry(self.an.dst_class[*b as usize])
                .or_default()
                .push(*b);
        }
        let mut done = vec![false; self.an.n_src_classes()];
        for a in src {
            let sc = self.an.src_class[*a as usize];
            if std::mem::replace(&mut done[sc as usize], true) {
                continue;
            }
            for (dc, bs) in &first_dst {
                let Some(cell) = self.an.cell(sc, *dc) else {
                    continue;
                };
                for b in bs {
                    if let Some(h) = self.hop(*a, *b, cell, services) {
                        return Some(h);
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
        let (a, cell) = reach.via[b as usize]?;
        let mut hops = vec![self.hop(a, b, cell as usize, opts.last_hop)?];
        let mut cur = a;
        let mut guard = 0usize;
        while let Some((prev, cell)) = reach.pivot_via[cur as usize] {
            hops.push(self.hop(prev, cur, cell as usize, opts.pivots)?);
            cur = prev;
            guard += 1;
            if guard > self.an.atoms.len() {
                return None;
            }
        }
        hops.reverse();
        Some(hops)
    }

    /// Breadth-first search from `src` over permitted flows. In target mode
    /// it stops at the first target reached (a shortest path).
    pub(crate) fn bfs(
        &self,
        reach: &mut Reach,
        src: &[AtomId],
        opts: &PathOptions<'_>,
        targets: Option<&[AtomId]>,
    ) {
        let an = &self.an;
        let n_atoms = an.atoms.len();
        let ns = an.n_src_classes();
        reach.reset();
        let mut pivot_ok: Vec<Option<bool>> = vec![None; self.sets.len()];
        let mut last_ok: Vec<Option<bool>> = vec![None; self.sets.len()];
        let target_mode = targets.is_some();
        for b in targets.unwrap_or_default() {
            let dc = an.dst_class[*b as usize];
            let e = &mut reach.first_target[dc as usize];
            *e = Some(e.map_or(*b, |x| x.min(*b)));
            reach.touched_dst.push(dc);
        }
        let mut queue = VecDeque::new();
        for a in src {
            reach.is_src[*a as usize] = true;
            reach.touched_atoms.push(*a);
            if !std::mem::replace(&mut reach.enqueued[*a as usize], true) {
                queue.push_back(*a);
            }
        }
        while let Some(a) = queue.pop_front() {
            let sc = an.src_class[a as usize] as usize;
            if std::mem::replace(&mut reach.src_done[sc], true) {
                continue;
            }
            reach.touched_src.push(sc as u32);
            for e in self.g.edges(NodeIndex::new(n_atoms + sc)) {
                let Edge::Flow(cell) = *e.weight() else {
                    continue;
                };
                let Some(set) = self.cell_perm[cell as usize] else {
                    continue;
                };
                let perm = &self.sets[set as usize];
                let p_ok = *pivot_ok[set as usize]
                    .get_or_insert_with(|| opts.pivots.is_none_or(|p| perm.overlaps(p)));
                let l_ok = *last_ok[set as usize]
                    .get_or_insert_with(|| opts.last_hop.is_none_or(|p| perm.overlaps(p)));
                let step = Step {
                    a,
                    cell,
                    p_ok,
                    l_ok,
                    target_mode,
                };
                if Some(e.target().index()) == self.global_hub {
                    // Every destination class without a cell of its own.
                    if !target_mode && reach.dst_all_done == an.n_dst_classes() {
                        continue;
                    }
                    let mut narrow = an.narrow_dsts(sc as u32).peekable();
                    for dc in 0..an.n_dst_classes() as u32 {
                        if narrow.peek() == Some(&dc) {
                            narrow.next();
                            continue;
                        }
                        if self.visit(reach, &mut queue, step, dc, opts) {
                            return;
                        }
                    }
                } else {
                    let dc = (e.target().index() - n_atoms - ns) as u32;
                    if self.visit(reach, &mut queue, step, dc, opts) {
                        return;
                    }
                }
            }
        }
    }

    /// One hop of the search into destination class `dc`; true when a
    /// target was found.
    fn visit(
        &self,
        reach: &mut Reach,
        queue: &mut VecDeque<AtomId>,
        step: Step,
        dc: u32,
        opts: &PathOptions<'_>,
    ) -> bool {
        let an = &self.an;
        let Step {
            a,
            cell,
            p_ok,
            l_ok,
            target_mode,
        } = step;
        if l_ok {
            if target_mode
                && let Some(b) = reach.first_target[dc as usize]
                && self.hop(a, b, cell as usize, opts.last_hop).is_some()
            {
                reach.via[b as usize] = Some((a, cell));
                reach.touched_atoms.push(b);
                reach.found = Some(b);
                return true;
            }
            if !target_mode && !std::mem::replace(&mut reach.dst_any_done[dc as usize], true) {
                reach.touched_dst.push(dc);
                if reach.dst_pivot_done[dc as usize] {
                    reach.dst_all_done += 1;
                }
                for b in &an.dst_class_atoms[dc as usize] {
                    if reach.via[*b as usize].is_none() && !reach.is_src[*b as usize] {
                        reach.via[*b as usize] = Some((a, cell));
                        reach.touched_atoms.push(*b);
                    }
                }
            }
        }
        if p_ok && !std::mem::replace(&mut reach.dst_pivot_done[dc as usize], true) {
            reach.touched_dst.push(dc);
            if reach.dst_any_done[dc as usize] {
                reach.dst_all_done += 1;
            }
            for b in &an.dst_class_atoms[dc as usize] {
                if !std::mem::replace(&mut reach.enqueued[*b as usize], true) {
                    reach.pivot_via[*b as usize] = Some((a, cell));
                    reach.touched_atoms.push(*b);
                    queue.push_back(*b);
                }
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
        let n_atoms = an.atoms.len();
        let words = n_bits.div_ceil(64).max(1);
        let n = self.g.node_count();
        let pivot_ok: Vec<bool> = self
            .sets
            .iter()
            .map(|s| pivots.is_none_or(|p| s.overlaps(p)))
            .collect();
        // Bits of each destination class.
        let mut dc_bits = vec![0u64; an.n_dst_classes() * words];
        for (a, bit) in bit_of.iter().enumerate() {
            if let Some(b) = bit {
                let dc = an.dst_class[a] as usize;
                dc_bits[dc * words + (*b as usize) / 64] |= 1u64 << (b % 64);
            }
        }
        let mut local = vec![0u64; n * words];
        for (a, bit) in bit_of.iter().enumerate() {
            if let Some(b) = bit {
                local[a * words + (*b as usize) / 64] |= 1u64 << (b % 64);
            }
        }
        let ns = an.n_src_classes();
        // Bits of every destination class (the default cell's hub reaches all).
        let mut all_bits = vec![0u64; words];
        for (i, b) in dc_bits.iter().enumerate() {
            all_bits[i % words] |= b;
        }
        for e in self.g.edge_references() {
            if let Edge::Flow(cell) = *e.weight()
                && self.cell_perm[cell as usize].is_some()
            {
                let s = e.source().index();
                if Some(e.target().index()) == self.global_hub {
                    for w in 0..words {
                        local[s * words + w] |= all_bits[w];
                    }
                    continue;
                }
                let dc = e.target().index() - n_atoms - ns;
                for w in 0..words {
                    local[s * words + w] |= dc_bits[dc * words + w];
                }
            }
        }
        let filtered = EdgeFiltered::from_fn(&self.g, |e| match *e.weight() {
            Edge::Member => true,
            Edge::Flow(cell) => self.cell_perm[cell as usize].is_some_and(|s| pivot_ok[s as usize]),
        });
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
                    let keep = match *e.weight() {
                        Edge::Member => true,
                        Edge::Flow(cell) => {
                            self.cell_perm[cell as usize].is_some_and(|s| pivot_ok[s as usize])
                        }
                    };
                    if keep {
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
