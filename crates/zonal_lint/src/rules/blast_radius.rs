//! L0309 `blast-radius`: a compromise of one zone reaches more than N
//! modality zones (N is `blast-radius` in `zonal.toml`, default 3).
//!
//! The default model (`blast-radius-model = "exploit"`) counts a hop from
//! one host to the next only over an exploitation vector, the way an
//! attacker moves laterally (MITRE ATT&CK TA0008 Lateral Movement: T1021
//! remote services, T1210 exploitation of remote services; the MulVAL
//! attack-graph rule "a host is compromised when a compromised host can
//! reach a vulnerable service on it"):
//! - a service of `blast-radius-vectors` (default: ssh, telnet, rdp, vnc,
//!   winrm, smb, netbios, msrpc tcp 135);
//! - toward an end-of-support host (the `end-of-support` / `legacy`
//!   property of the device or its zone), any service but those below:
//!   an unpatched listener is a vulnerable service whatever it is;
//! - never ICMP, and never a flow into a collector or resolver (DNS, NTP,
//!   syslog, syslog over TLS, SNMP traps), even toward a legacy host:
//!   sending logs to the SIEM gives no foothold on it.
//!
//! Every hop, the last included, must be one of these. The packet model
//! (`blast-radius-model = "packet"`) keeps the earlier reading: any
//! permitted flow is a hop (with `pivot-services`, every hop but the last
//! must permit one of them).
//!
//! One pass over the strongly connected components computes every zone's
//! reach at once. Hubs are reported once: a zone is not reported when a
//! flagged zone it reaches (a shared hop, such as the PACS) reaches every
//! modality zone it does; the hub's finding lists the zones behind it.
//! Within a cycle the representative is a zone that is not a modality
//! zone, then the first declared.
//!
//! The jump tier — internal zones of kind or tag `management`, `vendor`
//! or `remote-access` — reaches the modalities by design (L0307 and L0308
//! prescribe it): it is not reported for its own reach, only for the zones
//! that reach the modality zones through it, once, with those zones named
//! and a path from one of them.

use std::collections::VecDeque;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use zonal_diagnostics::Severity;
use zonal_model::ServiceSet;
use zonal_model::service::{ICMP, ICMPV6};

use crate::analysis::{AtomId, FAMILIES, fam_index};
use crate::config::BlastRadiusModel;
use crate::ctx::{Ctx, zones};
use crate::graph::{Hop, PathOptions};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0309",
    name: "blast-radius",
    severity: Severity::Medium,
    summary: "one compromised zone reaches too many modality zones",
    doc: lint_doc!("L0309"),
};

/// Services that never carry a hop: ICMP, ICMPv6 and the infrastructure
/// sinks.
fn never_a_hop() -> ServiceSet {
    ServiceSet::whole_proto(ICMP)
        .union(&ServiceSet::whole_proto(ICMPV6))
        .union(&super::group_spans_trust::infrastructure_sinks())
}

/// A zone of the jump tier: an internal management, vendor or
/// remote-access zone.
fn sanctioned(z: &zonal_model::Zone) -> bool {
    !z.external && (zones::is_management(z) || zones::is_vendor(z))
}

/// A bitset of zones.
type Bits = Vec<u64>;

fn has(b: &[u64], i: usize) -> bool {
    b[i / 64] & (1u64 << (i % 64)) != 0
}

/// A component's reach while it is still read: nothing, the words that
/// are not zero (most components reach a few zones), or every word.
#[derive(Clone)]
enum Kept {
    None,
    Sparse(Vec<(u32, u64)>),
    Dense(Bits),
}

impl Kept {
    fn of(bits: &[u64]) -> Self {
        let set = bits.iter().filter(|w| **w != 0).count();
        if set == 0 {
            Kept::None
        } else if 2 * set < bits.len() {
            Kept::Sparse(
                bits.iter()
                    .enumerate()
                    .filter(|(_, w)| **w != 0)
                    .map(|(i, w)| (i as u32, *w))
                    .collect(),
            )
        } else {
            Kept::Dense(bits.to_vec())
        }
    }

    fn or_into(&self, acc: &mut [u64]) {
        match self {
            Kept::None => {}
            Kept::Sparse(words) => {
                for (i, w) in words {
                    acc[*i as usize] |= w;
                }
            }
            Kept::Dense(bits) => {
                for (a, w) in acc.iter_mut().zip(bits) {
                    *a |= w;
                }
            }
        }
    }
}

/// The exploitation graph: atoms, one source hub per class and family, two
/// destination hubs per class and family (one for the vector services, one
/// for any service but ICMP and sinks, toward end-of-support atoms only),
/// and the same two per family for the default cell.
struct Exploit {
    g: DiGraph<(), (), u32>,
    n_atoms: usize,
}

impl Exploit {
    fn new(cx: &Ctx<'_, '_>, vectors: &ServiceSet) -> Self {
        let an = cx.an();
        let (n, ns, nd) = (an.atoms.len(), an.n_src_classes(), an.n_dst_classes());
        let src_hub = |sc: u32, fi: usize| n + 2 * sc as usize + fi;
        let dst_hub = |dc: u32, fi: usize, k: usize| n + 2 * ns + 4 * dc as usize + 2 * fi + k;
        let global = |fi: usize, k: usize| n + 2 * ns + 4 * nd + 2 * fi + k;
        let total = n + 2 * ns + 4 * nd + 4;
        let mut g: DiGraph<(), (), u32> = DiGraph::with_capacity(total, total);
        for _ in 0..total {
            g.add_node(());
        }
        let mut edge = |a: usize, b: usize| {
            g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        };
        let no_hop = never_a_hop();
        // Which hub kinds a permitted set opens: 0 vectors, 1 any service
        // toward end-of-support hosts.
        let kinds = |perm: Option<&ServiceSet>| -> [bool; 2] {
            match perm {
                Some(p) => [p.overlaps(vectors), !p.subtract(&no_hop).is_empty()],
                None => [false, false],
            }
        };
        for (a, atom) in an.atoms.iter().enumerate() {
            for f in FAMILIES {
                if atom.has(f) {
                    edge(a, src_hub(an.src_class[a], fam_index(f)));
                }
            }
        }
        for dc in 0..nd as u32 {
            for b in &an.dst_class_atoms[dc as usize] {
                let legacy = an.atom_is_legacy(*b);
                for f in FAMILIES {
                    if an.atoms[*b as usize].has(f) {
                        let fi = fam_index(f);
                        edge(dst_hub(dc, fi, 0), *b as usize);
                        if legacy {
                            edge(dst_hub(dc, fi, 1), *b as usize);
                        }
                    }
                }
            }
        }
        let cell_kinds: Vec<[bool; 2]> = (0..an.cell_keys.len())
            .map(|c| kinds(cx.graph.cell_permitted(c)))
            .collect();
        for (cell, (sc, dc)) in an.cell_keys.iter().enumerate() {
            for (k, ok) in cell_kinds[cell].iter().enumerate() {
                if *ok {
                    for fi in 0..2 {
                        edge(src_hub(*sc, fi), dst_hub(*dc, fi, k));
                    }
                }
            }
        }
        // The default cell judges the pairs without a cell of their own. A
        // source class goes through its hub unless one of its own cells
        // closes what the default opens; then it is wired pair by pair.
        if let Some(def) = an.default_cell {
            let dk = kinds(cx.graph.cell_permitted(def));
            for (k, open) in dk.iter().enumerate() {
                if !open {
                    continue;
                }
                for fi in 0..2 {
                    for dc in 0..nd as u32 {
                        edge(global(fi, k), dst_hub(dc, fi, k));
                    }
                }
                for sc in 0..ns as u32 {
                    let cells = an.cells_from(sc);
                    if cells.clone().all(|c| cell_kinds[c][k]) {
                        for fi in 0..2 {
                            edge(src_hub(sc, fi), global(fi, k));
                        }
                        continue;
                    }
                    for dc in 0..nd as u32 {
                        let own = an.cell_keys[cells.clone()].binary_search(&(sc, dc)).is_ok();
                        if !own {
                            for fi in 0..2 {
                                edge(src_hub(sc, fi), dst_hub(dc, fi, k));
                            }
                        }
                    }
                }
            }
        }
        Exploit { g, n_atoms: n }
    }

    /// The zones each atom reaches (its own zone included), handed to
    /// `visit` once per atom.
    ///
    /// One pass over the strongly connected components, successors first.
    /// A component's reach is kept only while a component not yet done
    /// still has an edge into it, only when it is not empty, and as its
    /// non-zero words when they are fewer than half: the reach
    /// of every node at once (nodes × zones bits, 2.5 KB a node at 20,000
    /// zones) would cost gigabytes on large policies for values read once.
    fn reach(&self, cx: &Ctx<'_, '_>, words: usize, mut visit: impl FnMut(usize, &[u64])) {
        let an = cx.an();
        let sccs = petgraph::algo::tarjan_scc(&self.g);
        let mut scc_of = vec![0u32; self.g.node_count()];
        for (i, scc) in sccs.iter().enumerate() {
            for v in scc {
                scc_of[v.index()] = i as u32;
            }
        }
        // How many edges from other components still read each component.
        let mut readers = vec![0u32; sccs.len()];
        for e in self.g.edge_references() {
            let (s, t) = (scc_of[e.source().index()], scc_of[e.target().index()]);
            if s != t {
                readers[t as usize] += 1;
            }
        }
        let mut value: Vec<Kept> = vec![Kept::None; sccs.len()];
        let mut acc = vec![0u64; words];
        // Tarjan returns the components in reverse topological order:
        // successors first.
        for (i, scc) in sccs.iter().enumerate() {
            acc.fill(0);
            for v in scc {
                if let Some(z) = an.atoms.get(v.index()).and_then(|a| a.zone) {
                    acc[z.index() / 64] |= 1u64 << (z.index() % 64);
                }
                for e in self.g.edges(*v) {
                    let t = scc_of[e.target().index()] as usize;
                    if t == i {
                        continue;
                    }
                    value[t].or_into(&mut acc);
                    readers[t] -= 1;
                    if readers[t] == 0 {
                        value[t] = Kept::None;
                    }
                }
            }
            for v in scc {
                if v.index() < self.n_atoms {
                    visit(v.index(), &acc);
                }
            }
            if readers[i] > 0 {
                value[i] = Kept::of(&acc);
            }
        }
    }

    /// A shortest chain of exploitation hops from `src` to an atom of
    /// `target`, as atoms.
    fn chain(&self, src: &[AtomId], target: &dyn Fn(AtomId) -> bool) -> Option<Vec<AtomId>> {
        let n = self.g.node_count();
        let mut prev: Vec<Option<usize>> = vec![None; n];
        let mut seen = vec![false; n];
        let mut queue = VecDeque::new();
        for a in src {
            seen[*a as usize] = true;
            queue.push_back(*a as usize);
        }
        while let Some(v) = queue.pop_front() {
            if v < self.n_atoms && target(v as AtomId) && prev[v].is_some() {
                let mut atoms = vec![v as AtomId];
                let mut cur = v;
                while let Some(p) = prev[cur] {
                    if p < self.n_atoms {
                        atoms.push(p as AtomId);
                    }
                    cur = p;
                }
                atoms.reverse();
                return Some(atoms);
            }
            for e in self.g.edges(NodeIndex::new(v)) {
                let t = e.target().index();
                // Atoms of the start set are where the attacker already is.
                if !std::mem::replace(&mut seen[t], true) {
                    prev[t] = Some(v);
                    queue.push_back(t);
                }
            }
        }
        None
    }
}

/// The hops of a chain of atoms: each with an exploitation packet.
fn hops(cx: &Ctx<'_, '_>, atoms: &[AtomId], vectors: &ServiceSet) -> Option<Vec<Hop>> {
    let an = cx.an();
    let no_hop = never_a_hop();
    let mut out = Vec::new();
    for w in atoms.windows(2) {
        let (a, b) = (w[0], w[1]);
        let cell = an.cell_of(a, b)?;
        let perm = cx.graph.cell_permitted(cell)?;
        let services = if an.atom_is_legacy(b) {
            perm.subtract(&no_hop)
        } else {
            perm.intersect(vectors)
        };
        let packet = an.packet(a, b, &services)?;
        let (_, rule) = an.deciding_rule(cell, packet.proto, packet.selector)?;
        out.push(Hop {
            from: cx.graph.place(a),
            to: cx.graph.place(b),
            services,
            rule,
            packet,
        });
    }
    Some(out)
}

#[expect(
    clippy::too_many_lines,
    reason = "reach, hub grouping and the witness of each finding read best in order"
)]
pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let an = cx.an();
    let p = cx.policy;
    let is_mod: Vec<bool> = p.zones.iter().map(zones::is_modality).collect();
    let n_mod = is_mod.iter().filter(|m| **m).count();
    if n_mod <= cx.config.blast_radius {
        return;
    }
    let nz = p.zones.len();
    let words = nz.div_ceil(64).max(1);
    let model = cx.config.blast_radius_model;
    let vectors = &cx.config.blast_radius_vectors;
    let exploit = (model == BlastRadiusModel::Exploit).then(|| Exploit::new(cx, vectors));
    // Each zone's reach (itself included): the union of its atoms'.
    let mut zreach: Vec<Bits> = vec![vec![0u64; words]; nz];
    for z in &p.zones {
        zreach[z.id.index()][z.id.index() / 64] |= 1u64 << (z.id.index() % 64);
    }
    let mut add = |a: usize, bits: &[u64]| {
        if let Some(z) = an.atoms[a].zone {
            for (w, v) in zreach[z.index()].iter_mut().zip(bits) {
                *w |= v;
            }
        }
    };
    match &exploit {
        Some(x) => x.reach(cx, words, add),
        None => {
            let bit_of: Vec<Option<u32>> = an
                .atoms
                .iter()
                .map(|a| a.zone.map(|z| z.index() as u32))
                .collect();
            let reach = cx
                .graph
                .reach_bits(&bit_of, nz, cx.config.pivot_services.as_ref());
            for (a, bits) in reach.iter().enumerate() {
                add(a, bits);
            }
        }
    }
    let mut modmask = vec![0u64; words];
    for (m, yes) in is_mod.iter().enumerate() {
        if *yes {
            modmask[m / 64] |= 1u64 << (m % 64);
        }
    }
    // The modality zones each zone reaches, itself left out.
    let modbits: Vec<Bits> = (0..nz)
        .map(|z| {
            let mut b: Bits = zreach[z].iter().zip(&modmask).map(|(r, m)| r & m).collect();
            b[z / 64] &= !(1u64 << (z % 64));
            b
        })
        .collect();
    let count_of = |z: usize| -> usize { modbits[z].iter().map(|w| w.count_ones() as usize).sum() };
    let mut flagged: Vec<usize> = (0..nz)
        .filter(|z| count_of(*z) > cx.config.blast_radius)
        .collect();
    // Hub grouping: `z` is dominated by a flagged zone `h` it reaches whose
    // reach holds every modality zone `z` reaches; in a cycle (both reach
    // each other) the representative ranks first: not a modality zone,
    // then declared first.
    let rank = |z: usize| (is_mod[z], z);
    let dominates = |h: usize, z: usize| {
        h != z
            && has(&zreach[z], h)
            && modbits[z].iter().zip(&zreach[h]).all(|(m, r)| m & !r == 0)
            && (!has(&zreach[h], z) || rank(h) < rank(z))
    };
    flagged.sort_by_key(|z| rank(*z));
    let mut behind: Vec<Vec<usize>> = vec![Vec::new(); nz];
    let mut reported = Vec::new();
    for z in &flagged {
        match flagged.iter().copied().find(|h| dominates(*h, *z)) {
            Some(h) => behind[h].push(*z),
            None => reported.push(*z),
        }
    }
    // A dominator may itself be dominated: hand its zones on to a reported
    // zone that dominates it, or report it (the relation is acyclic, so
    // nothing is lost).
    while let Some(z) = (0..nz).find(|z| !behind[*z].is_empty() && !reported.contains(z)) {
        match reported.iter().copied().find(|h| dominates(*h, z)) {
            Some(h) => {
                let moved = std::mem::take(&mut behind[z]);
                behind[h].extend(moved);
            }
            None => reported.push(z),
        }
    }
    reported.sort_unstable();
    let mut search = crate::graph::Reach::new(cx.graph);
    for &zi in &reported {
        let z = &p.zones[zi];
        let reached: Vec<usize> = (0..nz).filter(|m| has(&modbits[zi], *m)).collect();
        let count = reached.len();
        let mut list = reached
            .iter()
            .take(10)
            .map(|m| format!("`{}`", p.zones[*m].name))
            .collect::<Vec<_>>()
            .join(", ");
        if reached.len() > 10 {
            list.push_str(&format!(" and {} more", reached.len() - 10));
        }
        let how = match model {
            BlastRadiusModel::Exploit => "over exploitable services",
            BlastRadiusModel::Packet => "over permitted flows",
        };
        let mut others: Vec<usize> = behind[zi]
            .iter()
            .copied()
            .filter(|o| !reported.contains(o))
            .collect();
        others.sort_unstable();
        others.dedup();
        // A management or vendor zone is the jump tier that reaches the
        // modalities by design: it is a finding only through the zones
        // that reach the modality zones through it.
        let jump = sanctioned(z);
        if jump && others.is_empty() {
            continue;
        }
        let mut names = others
            .iter()
            .take(10)
            .map(|o| format!("`{}`", p.zones[*o].name))
            .collect::<Vec<_>>()
            .join(", ");
        if others.len() > 10 {
            names.push_str(&format!(" and {} more", others.len() - 10));
        }
        let message = if jump {
            format!(
                "{} zone{} reach{} {count} modality zones {how} through jump zone `{}` (more than {})",
                others.len(),
                if others.len() == 1 { "" } else { "s" },
                if others.len() == 1 { "es" } else { "" },
                z.name,
                cx.config.blast_radius
            )
        } else {
            format!(
                "a compromise of zone `{}` reaches {count} modality zones {how} (more than {})",
                z.name, cx.config.blast_radius
            )
        };
        let mut d = cx
            .diag(&INFO, message, z.span, "blast radius")
            .with_note(format!("reached modality zones: {list}"));
        if jump {
            d = d.with_note(format!("zones that reach the jump zone: {names}"));
        } else if !others.is_empty() {
            d = d.with_note(format!(
                "reported once for {} other zone{} whose reach goes no further than `{}`'s: {names}",
                others.len(),
                if others.len() == 1 { "" } else { "s" },
                z.name
            ));
        }
        // Witness: a shortest chain to the nearest reached modality zone.
        let from_others: Vec<AtomId>;
        let start = if jump {
            from_others = others
                .iter()
                .take(1)
                .flat_map(|o| an.zone_atoms[*o].iter().copied())
                .collect();
            &from_others
        } else {
            &an.zone_atoms[zi]
        };
        let path = match &exploit {
            Some(x) => {
                let target = |a: AtomId| {
                    an.atoms[a as usize]
                        .zone
                        .is_some_and(|t| t.index() != zi && is_mod[t.index()])
                };
                x.chain(start, &target)
                    .and_then(|atoms| hops(cx, &atoms, vectors))
            }
            None => {
                let targets: Vec<u32> = reached
                    .iter()
                    .flat_map(|m| an.zone_atoms[*m].iter().copied())
                    .collect();
                let opts = PathOptions {
                    pivots: cx.config.pivot_services.as_ref(),
                    last_hop: None,
                };
                cx.graph
                    .path_atoms_with(&mut search, start, &targets, &opts)
            }
        };
        if let Some(hops) = path {
            d = cx.with_path(d, &hops);
        }
        let help = if jump {
            "only the management tier should reach a jump zone over remote services: cut the hops from these zones into it (and harden the jump host: MFA, session recording, `until` for vendors)"
        } else {
            "cut the hops that give a foothold (remote control, file sharing, any service of an end-of-support host): reach modalities from a managed jump host, and micro-segment by modality"
        };
        let d = d.with_help(help);
        cx.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ZoneGraph;
    use zonal_model::{Date, Options, load_str};

    /// The slow twin of [`Exploit::reach`]: every pair of atoms, a hop
    /// when some exploitation packet passes between them, then a
    /// breadth-first search from every atom.
    fn brute(cx: &Ctx<'_, '_>, vectors: &ServiceSet, words: usize) -> Vec<Bits> {
        let an = cx.an();
        let n = an.atoms.len();
        let no_hop = never_a_hop();
        let mut adj = vec![Vec::new(); n];
        for a in 0..n as AtomId {
            for b in 0..n as AtomId {
                let Some(perm) = an.cell_of(a, b).and_then(|c| cx.graph.cell_permitted(c)) else {
                    continue;
                };
                let mut set = perm.intersect(vectors);
                if an.atom_is_legacy(b) {
                    set = set.union(&perm.subtract(&no_hop));
                }
                if an.packet(a, b, &set).is_some() {
                    adj[a as usize].push(b as usize);
                }
            }
        }
        (0..n)
            .map(|s| {
                let mut bits = vec![0u64; words];
                let mut seen = vec![false; n];
                let mut stack = vec![s];
                seen[s] = true;
                while let Some(v) = stack.pop() {
                    if let Some(z) = an.atoms[v].zone {
                        bits[z.index() / 64] |= 1u64 << (z.index() % 64);
                    }
                    for t in &adj[v] {
                        if !std::mem::replace(&mut seen[*t], true) {
                            stack.push(*t);
                        }
                    }
                }
                bits
            })
            .collect()
    }

    /// The exploitation graph's reach agrees with the brute force on
    /// 600 tiny seeded policies (dual-stack and single-family hosts, ICMP,
    /// moved listeners, denies, `any`, some end-of-support devices), and
    /// on odd seeds every other device end-of-support too.
    #[test]
    fn exploit_reach_matches_brute_force() {
        let options = Options {
            today: Date::new(2026, 11, 28).unwrap(),
        };
        let mut checked = 0;
        for seed in 0..600u64 {
            let mut text = zonal_synth::generate_tiny(seed);
            if seed % 2 == 1 {
                // End-of-support on every other device.
                let mut k = 0;
                text = text
                    .lines()
                    .map(|l| {
                        let t = l.trim_start();
                        if t.starts_with("device ") && l.ends_with('}') {
                            k += 1;
                            if k % 2 == 1 {
                                return l.trim_end_matches('}').to_string() + " end-of-support }";
                            }
                        }
                        l.to_string()
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            let loaded = load_str("tiny.zonal", &text, &options);
            let Some(policy) = &loaded.policy else {
                continue;
            };
            let graph = ZoneGraph::new(policy);
            let config = crate::LintConfig::default();
            let cx = Ctx::new(&graph, &config);
            let words = policy.zones.len().div_ceil(64).max(1);
            let vectors = &config.blast_radius_vectors;
            let mut fast = vec![Vec::new(); cx.an().atoms.len()];
            Exploit::new(&cx, vectors).reach(&cx, words, |a, bits| fast[a] = bits.to_vec());
            let slow = brute(&cx, vectors, words);
            assert_eq!(fast, slow, "seed {seed}:\n{text}");
            checked += 1;
        }
        assert!(checked > 500, "only {checked} tiny policies resolved");
    }
}
