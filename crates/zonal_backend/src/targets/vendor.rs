//! Helpers shared by the vendor targets (ASA, SRX, PAN-OS, FortiGate):
//! vendor zone names, entries per family in firewall order, and content
//! hashes for object names.

use std::collections::BTreeMap;
use std::sync::Arc;

use zonal_model::{Action, AddrSet, Family, Prefix};

use zonal_diagnostics::{Diagnostics, SourceDb};

use crate::escape::{Namer, ident};
use crate::objects::ObjectBook;
use crate::plan::{Entry, FamilyEntry, FirewallPlan, PlanZone, PlanZoneId, family_name};
use crate::{Artifact, Target, Templates, env};

/// Renders a vendor target's `main.j2` into its one artifact.
pub(crate) fn single_artifact<V: serde::Serialize>(
    target: Target,
    templates: &Templates,
    db: &mut SourceDb,
    view: V,
    rule_count: usize,
) -> Result<Vec<Artifact>, Diagnostics> {
    let text = env::render_template(
        target,
        templates,
        "main.j2",
        view,
        env::expected_bytes(rule_count),
        db,
    )?;
    Ok(vec![Artifact {
        extension: target.extension().into(),
        text,
        rule_count,
        warnings: Diagnostics::new(),
    }])
}

/// The vendor name of a plan zone: the binding's vendor zone (or, on ASA,
/// the interface `nameif`), else the zone name made safe for the target.
pub(crate) fn zone_name(target: Target, z: &PlanZone) -> String {
    let bound = match target {
        Target::Asa => z.interface.clone().or_else(|| z.vendor_zone.clone()),
        _ => z.vendor_zone.clone(),
    };
    bound.unwrap_or_else(|| {
        let name = ident(target, "", &z.name);
        // ASA `nameif`s are conventionally lower case.
        if target == Target::Asa {
            name.to_ascii_lowercase()
        } else {
            name
        }
    })
}

/// One entry of one zone pair restricted to one family, in the order a
/// first-match target must see it.
#[derive(Clone, Debug)]
pub(crate) struct Placed<'p> {
    /// Source zone.
    pub(crate) src: PlanZoneId,
    /// Destination zone.
    pub(crate) dst: PlanZoneId,
    /// The family.
    pub(crate) family: Family,
    /// The entry restricted to the family (for a wide entry, `fe.dst` is
    /// empty: the destinations are [`Wide::dst`], shared).
    pub(crate) fe: FamilyEntry<'p>,
    /// For a wide entry ([`FirewallPlan::wide`]) from `src`: every
    /// destination zone it reaches, shared by all its source zones, so a
    /// wide entry costs its source zones plus its destination zones, never
    /// their product. `None` for a zone pair's own entry.
    pub(crate) wide: Option<Arc<Wide>>,
}

/// The destination side of a wide entry in one family.
#[derive(Debug)]
pub(crate) struct Wide {
    /// The destination zones (ascending; [`Placed::dst`] is the first).
    pub(crate) dsts: Arc<Vec<PlanZoneId>>,
    /// The destinations (the union of the entry's part in each), shared.
    pub(crate) dst: Arc<AddrSet>,
}

impl<'p> Placed<'p> {
    /// The entry.
    pub(crate) fn entry(&self) -> &Entry<'p> {
        self.fe.entry
    }
}

/// Every entry of the plan per family: all denies (of every zone pair)
/// before all allows, each group by zone pair, then rule order, IPv4
/// before IPv6. Parts without an address or service of a family are left
/// out of it (never widened); [`family_notes`] explains them.
pub(crate) fn placed<'a>(plan: &'a FirewallPlan<'_>) -> Vec<Placed<'a>> {
    placed_with(plan, true)
}

/// Like [`placed`], for a target that renders the wide entries itself
/// after every zone pair ([`FirewallPlan::wide`]): the narrow pairs only,
/// each with the wide denies it carries.
pub(crate) fn placed_narrow<'a>(plan: &'a FirewallPlan<'_>) -> Vec<Placed<'a>> {
    placed_with(plan, false)
}

fn placed_with<'a>(plan: &'a FirewallPlan<'_>, wide: bool) -> Vec<Placed<'a>> {
    let mut out = Vec::new();
    for action in [Action::Deny, Action::Allow] {
        // Per zone pair and family: the pair's own entries, then the wide
        // entries restricted to the pair (a vendor policy names its zones).
        let mut by_pair: BTreeMap<(PlanZoneId, PlanZoneId), [Vec<Placed<'a>>; 2]> = BTreeMap::new();
        for pair in &plan.narrow {
            for (fi, family) in [Family::V4, Family::V6].into_iter().enumerate() {
                for e in pair
                    .entries
                    .iter()
                    .filter(|e| e.action() == action && (!wide || !e.injected))
                {
                    if let Ok(fe) = e.family(family) {
                        by_pair.entry((pair.src, pair.dst)).or_default()[fi].push(Placed {
                            src: pair.src,
                            dst: pair.dst,
                            family,
                            fe,
                            wide: None,
                        });
                    }
                }
            }
        }
        // A wide entry: one item per source zone, placed at its first
        // destination zone (where its first zone pair would be), standing
        // for every destination zone at once.
        for e in plan.wide.iter().filter(|e| wide && e.action() == action) {
            for (fi, family) in [Family::V4, Family::V6].into_iter().enumerate() {
                let Ok(fe) = e.family(family) else { continue };
                let dsts: Vec<PlanZoneId> = plan
                    .zone_parts(&fe.dst)
                    .into_iter()
                    .map(|(z, _)| z)
                    .collect();
                let Some(&first) = dsts.first() else { continue };
                let shared = Arc::new(Wide {
                    dsts: Arc::new(dsts),
                    dst: Arc::new(fe.dst.clone()),
                });
                for (si, s) in plan.zone_parts(&fe.src) {
                    by_pair.entry((si, first)).or_default()[fi].push(Placed {
                        src: si,
                        dst: first,
                        family,
                        fe: FamilyEntry {
                            entry: e,
                            src: s,
                            dst: AddrSet::empty(),
                            services: fe.services.clone(),
                        },
                        wide: Some(Arc::clone(&shared)),
                    });
                }
            }
        }
        for (_, [v4, v6]) in by_pair {
            out.extend(v4);
            out.extend(v6);
        }
    }
    out
}

/// The plan's notes and the per-family omissions, raw.
pub(crate) fn notes(plan: &FirewallPlan<'_>) -> Vec<String> {
    notes_after(plan, plan.notes.clone())
}

/// `notes` first, then the per-family omissions and the pseudo zone.
pub(crate) fn notes_after(plan: &FirewallPlan<'_>, notes: Vec<String>) -> Vec<String> {
    let mut out = notes;
    for f in [Family::V4, Family::V6] {
        out.extend(plan.family_notes(f));
    }
    if plan.zones.iter().any(|z| z.pseudo) {
        out.push("addresses in no zone form the pseudo zone unzoned".into());
    }
    out
}

/// `4` or `6`.
pub(crate) fn digit(family: Family) -> &'static str {
    match family {
        Family::V4 => "4",
        Family::V6 => "6",
    }
}

/// The comment of a placed entry: rule, leg, expiry, justification, with
/// the zone pair and family.
pub(crate) fn describe(plan: &FirewallPlan<'_>, p: &Placed<'_>) -> String {
    let (src, dst) = (&plan[p.src].name, &plan[p.dst].name);
    let e = p.entry();
    let mut s = format!("{} ({src} to {dst} {})", e.name(), family_name(p.family));
    let raw = e.comment_raw();
    if let Some(rest) = raw.strip_prefix(e.name()) {
        s.push_str(rest);
    }
    s
}

/// The address objects and address groups of a vendor target (SRX,
/// PAN-OS, FortiGate): one object per prefix, named by its kind and value
/// (`h4_10.0.0.5`, `n6-fd00::/64`), and one group per list of members,
/// named by a hint and a hash of its content.
#[derive(Debug)]
pub(crate) struct Addresses {
    target: Target,
    /// The separator after a kind prefix (`_` on SRX, `-` elsewhere).
    sep: char,
    /// One object per prefix (the value is the prefix).
    pub(crate) prefixes: ObjectBook<Prefix, Prefix>,
    /// One group per member list: its family and members.
    pub(crate) groups: ObjectBook<String, (Family, Vec<String>)>,
}

impl Addresses {
    /// An empty book for `target`, with `sep` after kind prefixes.
    pub(crate) fn new(target: Target, sep: char) -> Self {
        Addresses {
            target,
            sep,
            prefixes: ObjectBook::default(),
            groups: ObjectBook::default(),
        }
    }

    /// The name of the object of one prefix.
    pub(crate) fn prefix(&mut self, namer: &mut Namer, p: &Prefix) -> String {
        let kind = match (p.is_v4(), p.is_host()) {
            (true, true) => "h4",
            (true, false) => "n4",
            (false, true) => "h6",
            (false, false) => "n6",
        };
        let kind = format!("{kind}{}", self.sep);
        let target = self.target;
        self.prefixes.intern(*p, |p| {
            let raw = if p.is_host() {
                p.addr().to_string()
            } else {
                p.to_string()
            };
            (namer.name(target, &kind, &raw), *p)
        })
    }

    /// The name of the object (one prefix) or group (several) holding
    /// exactly `a`, of `family`; `hint` names a new group.
    pub(crate) fn set(
        &mut self,
        namer: &mut Namer,
        hint: &str,
        a: &AddrSet,
        family: Family,
    ) -> String {
        let members: Vec<String> = a
            .to_prefixes()
            .iter()
            .map(|p| self.prefix(namer, p))
            .collect();
        if let [one] = members.as_slice() {
            return one.clone();
        }
        let key = members.join(" ");
        let (target, prefix) = (self.target, format!("g{}", self.sep));
        self.groups.intern(key, |key| {
            let raw = format!("{hint}-{}-{}", digit(family), content_hash(key));
            (namer.name(target, &prefix, &raw), (family, members))
        })
    }
}

/// The name hint of a shared address object: the zone, device or group the
/// set is exactly, else the endpoints the rule names on that side
/// (`modalities-reading`). Objects are named by what they contain, never
/// after the first rule that used them.
pub(crate) fn side_hint(
    plan: &crate::plan::FirewallPlan<'_>,
    set: &AddrSet,
    written: &[(String, zonal_diagnostics::Span)],
) -> String {
    plan.describe(set).unwrap_or_else(|| {
        let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
        if names.is_empty() {
            "any".to_string()
        } else {
            names.join("-")
        }
    })
}

/// The name hint of a shared service object: the services the rule names
/// (`dicom`, `dicom-https`, `tcp-8443`).
pub(crate) fn services_hint(rule: &zonal_model::Rule) -> String {
    let names: Vec<String> = rule
        .services_written
        .iter()
        .map(|u| u.name.clone().unwrap_or_else(|| u.text.replace(' ', "-")))
        .collect();
    if !names.is_empty() {
        return names.join("-");
    }
    // A rule built without written services (tests, tools): what it covers.
    let covered = rule
        .terms
        .iter()
        .fold(zonal_model::ServiceSet::empty(), |a, t| {
            a.union(&t.services)
        });
    covered.to_string()
}

/// A 6-hex-digit FNV-1a hash of a text, for content-addressed object names:
/// an object whose content changes gets a new name, so re-loading a
/// configuration never adds members to an object a rule already uses.
pub(crate) fn content_hash(text: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{:06x}", h & 0x00ff_ffff)
}

/// English month name (ASA time ranges).
pub(crate) fn month_name(m: u8) -> &'static str {
    match m {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        _ => "December",
    }
}

/// Splits sanitised text into lines of at most `max` bytes on spaces
/// (comments are split, not truncated).
pub(crate) fn split_lines(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        // Sanitised text is ASCII, so byte chunks are whole characters.
        for chunk in word.as_bytes().chunks(max.max(1)) {
            let chunk = String::from_utf8_lossy(chunk);
            if !cur.is_empty() && cur.len() + 1 + chunk.len() > max {
                out.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(&chunk);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Hand-built policies for the vendor targets' unit tests.
#[cfg(test)]
pub(crate) mod fixture {
    use zonal_diagnostics::Span;
    use zonal_model::{
        Action, AddrSet, Date, Endpoint, OriginKind, Policy, Prefix, Rule, RuleId, ServiceSet,
        Term, Zone, ZoneId,
    };

    /// A rule for [`policy`].
    pub(crate) struct R {
        pub(crate) action: Action,
        pub(crate) name: &'static str,
        pub(crate) src: &'static [&'static str],
        pub(crate) dst: &'static [&'static str],
        pub(crate) services: ServiceSet,
        pub(crate) until: Option<Date>,
        pub(crate) justification: Option<&'static str>,
    }

    impl R {
        /// An allow rule without expiry.
        pub(crate) fn allow(
            name: &'static str,
            src: &'static [&'static str],
            dst: &'static [&'static str],
            services: ServiceSet,
        ) -> R {
            R {
                action: Action::Allow,
                name,
                src,
                dst,
                services,
                until: None,
                justification: None,
            }
        }

        /// A deny rule.
        pub(crate) fn deny(
            name: &'static str,
            src: &'static [&'static str],
            dst: &'static [&'static str],
            services: ServiceSet,
        ) -> R {
            R {
                action: Action::Deny,
                ..R::allow(name, src, dst, services)
            }
        }
    }

    fn set(prefixes: &[&str]) -> AddrSet {
        if prefixes == ["any"] {
            return AddrSet::full();
        }
        let ps: Vec<Prefix> = prefixes
            .iter()
            .map(|p| Prefix::parse(p).expect("fixture prefix"))
            .collect();
        AddrSet::from_prefixes(&ps)
    }

    /// A policy named `test` with these zones (an empty network list makes
    /// an external zone covering every other address) and rules, judged on
    /// 2026-11-28.
    pub(crate) fn policy(zones: &[(&str, &[&str])], rules: Vec<R>) -> Policy {
        let today = Date::new(2026, 11, 28).expect("date");
        let internal = zones
            .iter()
            .filter(|z| !z.1.is_empty())
            .fold(AddrSet::empty(), |a, z| a.union(&set(z.1)));
        let zones: Vec<Zone> = zones
            .iter()
            .enumerate()
            .map(|(i, (name, nets))| Zone {
                id: ZoneId(u32::try_from(i).expect("few zones")),
                name: (*name).to_string(),
                span: Span::default(),
                decl_span: Span::default(),
                networks: nets
                    .iter()
                    .map(|p| Prefix::parse(p).expect("fixture prefix"))
                    .collect(),
                vlan: None,
                trust: None,
                kind: None,
                tags: Vec::new(),
                description: None,
                legacy: false,
                external: nets.is_empty(),
                parent: None,
                devices: Vec::new(),
                addrs: if nets.is_empty() {
                    internal.complement()
                } else {
                    set(nets)
                },
            })
            .collect();
        let rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| Rule {
                id: RuleId(u32::try_from(i).expect("few rules")),
                action: r.action,
                origin: OriginKind::Flow,
                span: Span::default(),
                src: vec![Endpoint::Any],
                dst: vec![Endpoint::Any],
                src_written: Vec::new(),
                dst_written: Vec::new(),
                services_written: Vec::new(),
                terms: vec![Term {
                    src: set(r.src),
                    dst: set(r.dst),
                    dst_endpoints: vec![Endpoint::Any],
                    services: r.services,
                }],
                until: r.until,
                expired: r.until.is_some_and(|u| u < today),
                justification: r.justification.map(str::to_string),
                name: r.name.to_string(),
                given_name: None,
            })
            .collect();
        Policy {
            name: "test".into(),
            owner: None,
            description: None,
            header_span: Span::default(),
            today,
            zones,
            devices: Vec::new(),
            services: Vec::new(),
            groups: Vec::new(),
            rules,
            invariants: Vec::new(),
            suppressions: Vec::new(),
            digest: "0123456789abcdef".into(),
        }
    }

    /// The hospital-like fixture: two internal dual-stack zones, an
    /// IPv4-only zone and the internet.
    pub(crate) fn zones() -> Vec<(&'static str, &'static [&'static str])> {
        vec![
            ("imaging", &["10.20.0.0/24", "2001:db8:20::/64"][..]),
            ("pacs", &["10.30.0.0/24", "2001:db8:30::/64"][..]),
            ("legacy", &["10.40.0.0/24"][..]),
            ("internet", &[][..]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_not_cut() {
        let text = "word ".repeat(60);
        let lines = split_lines(text.trim(), 100);
        assert!(lines.iter().all(|l| l.len() <= 100));
        assert_eq!(lines.join(" "), text.trim());
        assert_eq!(split_lines(&"x".repeat(250), 100).len(), 3);
    }

    #[test]
    fn content_hash_is_stable() {
        assert_eq!(content_hash("a"), content_hash("a"));
        assert_ne!(content_hash("a"), content_hash("b"));
        assert_eq!(content_hash("a").len(), 6);
    }
}
