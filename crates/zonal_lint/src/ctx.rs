//! The context lints run in, and shared helpers.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use zonal_diagnostics::{Diagnostic, Span};
use zonal_model::{Action, Packet, Policy, Rule, RuleId, ServiceSet, Zone};

use crate::analysis::{Analysis, AtomId, AtomKind, Reps};
use crate::config::LintConfig;
use crate::graph::{Hop, ZoneGraph};
use crate::registry::LintInfo;

/// What every lint sees.
pub(crate) struct Ctx<'a, 'p> {
    pub(crate) policy: &'p Policy,
    pub(crate) config: &'a LintConfig,
    pub(crate) graph: &'a ZoneGraph<'p>,
    pub(crate) out: Vec<Diagnostic>,
    pub(crate) shadowed: OnceCell<Vec<bool>>,
    /// The devices that move a service to their own port, with their
    /// atoms (computed once: [`Self::moved_identity`] runs per rule).
    movers: OnceCell<Vec<(AtomId, &'p zonal_model::Device)>>,
}

impl<'a, 'p> Ctx<'a, 'p> {
    pub(crate) fn new(graph: &'a ZoneGraph<'p>, config: &'a LintConfig) -> Self {
        Ctx {
            policy: graph.an.policy,
            config,
            graph,
            out: Vec::new(),
            shadowed: OnceCell::new(),
            movers: OnceCell::new(),
        }
    }

    pub(crate) fn an(&self) -> &'a Analysis<'p> {
        &self.graph.an
    }

    /// A new finding of `info` at its configured severity.
    pub(crate) fn diag(
        &self,
        info: &LintInfo,
        message: String,
        span: Span,
        label: &str,
    ) -> Diagnostic {
        let severity = self.config.level(info).unwrap_or(info.severity);
        Diagnostic::new(info.code, severity, message, span, label)
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    /// A path as a note, and each hop's rule as a secondary label.
    pub(crate) fn with_path(&self, mut d: Diagnostic, hops: &[Hop]) -> Diagnostic {
        let mut note = format!(
            "path ({} hop{}):",
            hops.len(),
            if hops.len() == 1 { "" } else { "s" }
        );
        for (i, h) in hops.iter().enumerate() {
            let rule = self.policy.rule(h.rule);
            note.push_str(&format!(
                "\n  {}. {} -> {} : {} via `{}`",
                i + 1,
                self.graph.place_name(h.from),
                self.graph.place_name(h.to),
                h.packet,
                rule.name
            ));
            d = d.with_secondary(
                rule.span,
                format!(
                    "hop {}: {} -> {}",
                    i + 1,
                    self.graph.place_name(h.from),
                    self.graph.place_name(h.to)
                ),
            );
        }
        d.with_note(note)
    }
}

/// Zone predicates shared by the intent lints.
pub(crate) mod zones {
    use super::Zone;
    use zonal_model::Trust;

    /// Modality or medical-device zone.
    pub(crate) fn is_modality(z: &Zone) -> bool {
        z.is("modality") || z.is("medical-device")
    }

    /// A zone holding clinical systems.
    pub(crate) fn is_clinical(z: &Zone) -> bool {
        ["modality", "medical-device", "clinical", "pacs", "ris"]
            .iter()
            .any(|k| z.is(k))
    }

    /// A guest or BYOD zone.
    pub(crate) fn is_guest(z: &Zone) -> bool {
        z.is("guest") || z.is("byod")
    }

    /// Guest or wireless-client zone.
    pub(crate) fn is_guest_or_wireless(z: &Zone) -> bool {
        is_guest(z) || z.is("wireless")
    }

    /// An untrusted zone: trust `untrusted`, external, or guest.
    pub(crate) fn is_untrusted(z: &Zone) -> bool {
        z.trust == Some(Trust::Untrusted) || z.external || is_guest(z)
    }

    /// A management zone.
    pub(crate) fn is_management(z: &Zone) -> bool {
        z.is("management")
    }

    /// A vendor / remote-access zone.
    pub(crate) fn is_vendor(z: &Zone) -> bool {
        z.is("vendor") || z.is("remote-access")
    }

    /// A DMZ.
    pub(crate) fn is_dmz(z: &Zone) -> bool {
        z.is("dmz")
    }
}

/// Device kinds that are clinical (modalities and imaging systems).
pub(crate) const CLINICAL_DEVICE_KINDS: &[&str] = &[
    "ct",
    "mr",
    "nm",
    "pet",
    "dx",
    "dx-portable",
    "cr",
    "us",
    "mg",
    "xa",
    "xa-mobile",
    "rf",
    "bmd",
    "pacs",
    "vna",
    "ris",
    "mwl",
    "mwl-broker",
    "dose",
    "infusion-pump",
    "patient-monitor",
    "modality",
];

/// Device kinds that are image archives.
pub(crate) const ARCHIVE_KINDS: &[&str] = &["pacs", "vna", "archive"];

/// "allow rule `name`".
pub(crate) fn rule_ref(r: &Rule) -> String {
    format!("{} rule `{}`", r.action.as_str(), r.name)
}

/// A permitted flow found by a lint: the allow rule, the atoms and a packet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flow {
    pub(crate) rule: RuleId,
    pub(crate) src: AtomId,
    pub(crate) dst: AtomId,
    pub(crate) packet: Packet,
}

impl<'a, 'p> Ctx<'a, 'p> {
    /// Representatives of atoms by source class.
    fn src_reps(&self, atoms: &[AtomId]) -> BTreeMap<u32, Reps> {
        let an = self.an();
        let mut m: BTreeMap<u32, Reps> = BTreeMap::new();
        for a in atoms {
            m.entry(an.src_class[*a as usize]).or_default().add(an, *a);
        }
        m
    }

    /// Representatives of atoms by destination class.
    fn dst_reps(&self, atoms: &[AtomId]) -> BTreeMap<u32, Reps> {
        let an = self.an();
        let mut m: BTreeMap<u32, Reps> = BTreeMap::new();
        for a in atoms {
            m.entry(an.dst_class[*a as usize]).or_default().add(an, *a);
        }
        m
    }

    /// Every allow rule that permits some packet from `src` to `dst` (with a
    /// service of `filter`), once per rule, in rule order.
    pub(crate) fn direct_flows(
        &self,
        src: &[AtomId],
        dst: &[AtomId],
        filter: Option<&ServiceSet>,
    ) -> Vec<Flow> {
        let an = self.an();
        let dreps = self.dst_reps(dst);
        let mut found: BTreeMap<RuleId, Flow> = BTreeMap::new();
        for (sc, srep) in self.src_reps(src) {
            // Without a default cell only the cells of `sc` can permit
            // anything; with one, every destination class may.
            let pairs: Vec<(usize, &Reps)> = if an.default_cell.is_none() {
                an.cells_from(sc)
                    .filter_map(|cell| dreps.get(&an.cell_keys[cell].1).map(|d| (cell, d)))
                    .collect()
            } else {
                dreps
                    .iter()
                    .filter_map(|(dc, d)| an.cell(sc, *dc).map(|cell| (cell, d)))
                    .collect()
            };
            for (cell, drep) in pairs {
                let Some(perm) = self.graph.cell_permitted(cell) else {
                    continue;
                };
                let s = match filter {
                    Some(f) => perm.intersect(f),
                    None => perm.clone(),
                };
                if s.is_empty() {
                    continue;
                }
                for t in an.cell_terms(cell) {
                    let info = &an.terms[*t as usize];
                    if info.action != Action::Allow || found.contains_key(&info.rule) {
                        continue;
                    }
                    let x = s.intersect(an.services(*t));
                    if let Some((a, b, packet)) = srep
                        .pairs(drep)
                        .find_map(|(a, b, f)| Some((a, b, an.packet_in(a, b, &x, f)?)))
                    {
                        found.insert(
                            info.rule,
                            Flow {
                                rule: info.rule,
                                src: a,
                                dst: b,
                                packet,
                            },
                        );
                    }
                }
            }
        }
        found.into_values().collect()
    }

    /// Where the services of `filter` (well-known ports: RDP is TCP 3389)
    /// live elsewhere: each device that moves a service overlapping
    /// `filter` to its own port (`listens rdp on 3390`), with the moved
    /// ports. Service identity survives a port move: TCP 3390 toward that
    /// device is RDP.
    pub(crate) fn moved_identity(&self, filter: &ServiceSet) -> Vec<(AtomId, ServiceSet)> {
        let movers = self.movers.get_or_init(|| {
            let an = self.an();
            self.policy
                .devices
                .iter()
                .filter(|d| d.listens.iter().any(|l| l.port.is_some()))
                .filter_map(|d| Some((an.device_atom[d.id.index()]?, d)))
                .collect()
        });
        let mut out = Vec::new();
        for &(atom, d) in movers {
            let moved = d
                .listens
                .iter()
                .filter(|l| l.port.is_some() && self.policy.service(l.service).set.overlaps(filter))
                .fold(ServiceSet::empty(), |acc, l| acc.union(&l.set));
            if !moved.is_empty() {
                out.push((atom, moved));
            }
        }
        out
    }

    /// Whether a rule's services include one of `filter`'s well-known
    /// services, on its own port or on a port a device moved it to.
    pub(crate) fn rule_carries(&self, rule: &Rule, filter: &ServiceSet) -> bool {
        crate::analysis::rule_overlaps(rule, filter)
            || self
                .moved_identity(filter)
                .iter()
                .any(|(_, moved)| crate::analysis::rule_overlaps(rule, moved))
    }

    /// Like [`Self::rule_witness`] with a filter of well-known services,
    /// counting them on their moved ports too (see [`Self::moved_identity`]).
    pub(crate) fn rule_witness_as(
        &self,
        rule: RuleId,
        src_ok: &dyn Fn(AtomId) -> bool,
        dst_ok: &dyn Fn(AtomId) -> bool,
        filter: &ServiceSet,
    ) -> Option<Flow> {
        if let Some(f) = self.rule_witness(rule, src_ok, dst_ok, Some(filter)) {
            return Some(f);
        }
        self.moved_identity(filter)
            .into_iter()
            .filter(|(atom, _)| dst_ok(*atom))
            .find_map(|(atom, moved)| self.rule_witness(rule, src_ok, &|a| a == atom, Some(&moved)))
    }

    /// The well-known service a packet is, toward its destination: the
    /// name of the listener that moved it there, if one did.
    pub(crate) fn moved_service_name(&self, packet: &Packet) -> Option<&'p str> {
        let dev = self.policy.device_of(packet.dst)?;
        self.policy
            .device(dev)
            .listens
            .iter()
            .find(|l| l.port.is_some() && l.set.contains(packet.proto, packet.selector))
            .map(|l| self.policy.service(l.service).name.as_str())
    }

    /// A permitted packet of `rule` from a source atom satisfying `src_ok`
    /// to a destination atom satisfying `dst_ok`, with a service of `filter`.
    pub(crate) fn rule_witness(
        &self,
        rule: RuleId,
        src_ok: &dyn Fn(AtomId) -> bool,
        dst_ok: &dyn Fn(AtomId) -> bool,
        filter: Option<&ServiceSet>,
    ) -> Option<Flow> {
        let an = self.an();
        for t in an.rule_terms[rule.index()].clone() {
            let info = &an.terms[t as usize];
            let services = match filter {
                Some(f) => an.services(t).intersect(f),
                None => an.services(t).clone(),
            };
            if services.is_empty() {
                continue;
            }
            let srcs: Vec<AtomId> = info.src.iter().copied().filter(|a| src_ok(*a)).collect();
            let dsts: Vec<AtomId> = info.dst.iter().copied().filter(|a| dst_ok(*a)).collect();
            let dreps = self.dst_reps(&dsts);
            for (sc, srep) in self.src_reps(&srcs) {
                for (dc, drep) in &dreps {
                    let Some(cell) = an.cell(sc, *dc) else {
                        continue;
                    };
                    let Some(perm) = self.graph.cell_permitted(cell) else {
                        continue;
                    };
                    let x = perm.intersect(&services);
                    if let Some((a, b, packet)) = srep
                        .pairs(drep)
                        .find_map(|(a, b, f)| Some((a, b, an.packet_in(a, b, &x, f)?)))
                    {
                        return Some(Flow {
                            rule,
                            src: a,
                            dst: b,
                            packet,
                        });
                    }
                }
            }
        }
        None
    }

    /// The zone of an atom; for the addresses in no zone, the implicit
    /// internet when no catch-all external zone is declared.
    pub(crate) fn atom_zone(&self, a: AtomId) -> Option<&'a Zone> {
        let an = self.an();
        match an.atoms[a as usize].zone {
            Some(z) => Some(self.policy.zone(z)),
            None => an.implicit_internet.as_ref(),
        }
    }

    /// Atoms of the zones satisfying `pred` (the implicit internet included).
    pub(crate) fn zone_atoms_where(&self, pred: impl Fn(&Zone) -> bool) -> Vec<AtomId> {
        let an = self.an();
        let mut v: Vec<AtomId> = self
            .policy
            .zones
            .iter()
            .filter(|z| pred(z))
            .flat_map(|z| an.zone_atoms[z.id.index()].iter().copied())
            .collect();
        if let Some(internet) = &an.implicit_internet
            && pred(internet)
        {
            v.extend(
                an.atoms
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.kind == AtomKind::Unassigned)
                    .map(|(i, _)| i as AtomId),
            );
        }
        v.sort_unstable();
        v
    }

    /// Active allow rules, in order.
    pub(crate) fn active_allows(&self) -> impl Iterator<Item = &'p Rule> + use<'p> {
        self.policy
            .rules
            .iter()
            .filter(|r| r.is_active() && r.action == Action::Allow)
    }

    /// "witness: PACKET is permitted by `rule`".
    pub(crate) fn permitted_note(&self, f: &Flow) -> String {
        format!(
            "witness: {} ({} -> {}) is permitted by `{}`",
            f.packet,
            self.an().atom_name(f.src),
            self.an().atom_name(f.dst),
            self.policy.rule(f.rule).name
        )
    }

    /// The union of the deny rules' services in a cell (`None`: no deny).
    pub(crate) fn denied(&self, cell: usize) -> Option<&'a ServiceSet> {
        self.graph.cell_denied(cell)
    }
}
