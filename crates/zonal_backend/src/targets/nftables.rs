//! Linux nftables: one `inet` table per policy that replaces itself in one
//! transaction (declare, delete, recreate), a `forward` base chain with
//! `policy drop`, conntrack for return traffic, zone-pair dispatch through
//! verdict maps (by source then destination address, or by input and output
//! interface when the binding names interfaces), one chain per zone pair
//! (denies first), named interval sets for address objects, and a final
//! explicit deny that logs (rate limited). In address mode new connections
//! whose source is not routed back through their input interface are
//! dropped first (`fib`, anti-spoofing).

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Family};

use crate::escape::{self, Namer};
use crate::plan::{
    self, AddressBook, FamilyServices, FirewallPlan, Header, PlanZoneId, family_name,
};
use crate::{Artifact, Target, Templates};

const T: Target = Target::Nftables;

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.nft.j2",
    include_str!("../../../../templates/nftables/main.nft.j2"),
)];

#[derive(Serialize)]
struct NftView {
    header: Header,
    table: String,
    comment: String,
    sets: Vec<NftSet>,
    maps: Vec<NftMap>,
    iface_map: Option<IfaceMap>,
    chains: Vec<NftChain>,
    dispatch: Vec<Dispatch>,
    /// The wide entries' rules, in `forward` after the zone-pair
    /// dispatch (a pair chain that does not decide returns there).
    wide: Vec<NftRule>,
    log_prefix: String,
    /// The chain explicit deny rules jump to (log, rate limited, then
    /// drop) and its log prefix, when deny logging is on.
    log_deny: Option<LogChain>,
    /// Whether `forward` drops spoofed sources (address mode).
    antispoof: bool,
    notes: Vec<String>,
    rule_count: usize,
}

#[derive(Serialize)]
struct LogChain {
    name: String,
    prefix: String,
}

#[derive(Serialize)]
struct NftSet {
    name: String,
    kind: &'static str,
    comment: String,
    elements: Vec<String>,
}

#[derive(Serialize)]
struct NftMap {
    name: String,
    kind: &'static str,
    comment: String,
    elements: Vec<MapElement>,
}

#[derive(Serialize)]
struct MapElement {
    key: String,
    chain: String,
}

#[derive(Serialize)]
struct IfaceMap {
    name: String,
    elements: Vec<IfaceElement>,
}

#[derive(Serialize)]
struct IfaceElement {
    iif: String,
    oif: String,
    chain: String,
}

#[derive(Serialize)]
struct Dispatch {
    /// `ip` or `ip6`.
    fam: &'static str,
    /// `saddr` or `daddr`.
    field: &'static str,
    map: String,
}

#[derive(Serialize)]
struct NftChain {
    name: String,
    comment: String,
    dispatch: Vec<Dispatch>,
    /// After `dispatch`: destination zones matched in a rule of their own,
    /// through their intervals (see [`INLINE_MAX`]) or a named set of
    /// their own (see [`BIG_ZONE_INTERVALS`]).
    jumps: Vec<DstJump>,
    rules: Vec<NftRule>,
    notes: Vec<String>,
}

/// `<fam> daddr <dst> jump <chain>`; `dst` is an interval or `@set`.
#[derive(Serialize)]
struct DstJump {
    fam: &'static str,
    dst: String,
    chain: String,
}

/// A source zone whose destinations take at most this many intervals in a
/// family dispatches on them with one rule each (`ip daddr 10.1.2.0/24
/// jump zp_…`) instead of a verdict map. The kernel finds a named set by
/// walking the table's list of sets, so one map per source zone made a
/// load quadratic in the zones (at 2,000 zones, half of the load's system
/// time); a handful of prefix compares costs a packet no more than a map
/// lookup.
const INLINE_MAX: usize = 8;

/// A destination zone with more intervals than this in a family is not
/// listed in every source zone's destination map: it gets one named set,
/// and each source zone that reaches it jumps to the pair chain through
/// that set. Without it, a catch-all `internet` zone (everything between
/// the internal zones: tens of thousands of intervals at 20,000 zones) was
/// copied into the map of every zone that talks to the internet. Zones are
/// disjoint, so the order between the map and these jumps does not matter.
const BIG_ZONE_INTERVALS: usize = 16;

#[derive(Serialize)]
struct NftRule {
    fam: &'static str,
    src: String,
    dst: String,
    svc: Svc,
    time: Option<i64>,
    log: Option<String>,
    verdict: &'static str,
    comment: String,
}

#[derive(Clone, Serialize)]
struct Svc {
    /// `all`, `ports`, `icmp`, `icmpv6` or `proto`.
    kind: &'static str,
    protos: Vec<String>,
    values: Vec<String>,
}

/// Renders the nftables file.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view_model(plan);
    let rule_count = view.rule_count;
    let expected = crate::env::expected_bytes(rule_count);
    let text = crate::env::render_template(T, templates, "main.nft.j2", view, expected, db)?;
    Ok(vec![Artifact {
        extension: T.extension().into(),
        text,
        rule_count,
        warnings: Diagnostics::new(),
    }])
}

/// The last UNIX second `meta time` can hold: the kernel compares the
/// time in nanoseconds as a 64-bit value, and nft reads it as signed, so
/// 2262-04-11T23:47:16 UTC. A later time wraps into the past and the
/// kernel would treat the rule as expired.
const META_TIME_MAX: i64 = i64::MAX / 1_000_000_000;

/// `meta time < T` for an expiry date: the end of the day (UTC) in UNIX
/// seconds, or `None` when `meta time` cannot hold it (never reached: the
/// target table's last `until` day makes such a date E0308 first).
fn meta_time(d: zonal_model::Date) -> Option<i64> {
    Some(plan::end_of_day_unix(d)).filter(|t| *t <= META_TIME_MAX)
}

#[expect(
    clippy::too_many_lines,
    reason = "builds the whole view model in the order the template writes its sets, maps and chains"
)]
fn view_model(plan: &FirewallPlan<'_>) -> NftView {
    let (policy, fw) = (plan.policy, plan.firewall);
    let mut namer = Namer::new();
    // Reserve the fixed names.
    for fixed in ["forward", "log_deny", "src_v4", "src_v6", "zone_pairs"] {
        namer.unique(T, fixed.to_string());
    }
    let table = escape::ident(
        T,
        &format!("{}_", escape::ident(T, "", &fw.naming.prefix)),
        &policy.name,
    );
    let mut sets = Vec::new();
    let mut maps = Vec::new();
    let mut chains = Vec::new();
    let mut dispatch = Vec::new();
    let mut books = [AddressBook::default(), AddressBook::default()];
    let mut ports = PortSets::default();
    let log_deny = fw.logging.deny.then(|| LogChain {
        name: "log_deny".into(),
        prefix: format!("{} deny", fw.logging.prefix),
    });
    let allow_log = fw
        .logging
        .allow
        .then(|| format!("{} allow", fw.logging.prefix));

    // One chain per zone pair.
    let mut pair_chains = Vec::new();
    let mut cx = RuleCx {
        plan,
        namer: &mut namer,
        books: &mut books,
        ports: &mut ports,
        deny_verdict: if log_deny.is_some() {
            "jump log_deny"
        } else {
            "drop"
        },
        allow_log: allow_log.as_ref(),
    };
    for pair in &plan.narrow {
        let (sz, dz) = (&plan[pair.src], &plan[pair.dst]);
        let name = cx
            .namer
            .name(T, "zp_", &format!("{}_to_{}", sz.name, dz.name));
        let mut rules = Vec::new();
        for e in &pair.entries {
            cx.push_rules(e, &mut rules);
        }
        let comment = escape::comment(T, &format!("zone pair {} to {}", sz.name, dz.name));
        chains.push(NftChain {
            name: name.clone(),
            comment,
            dispatch: Vec::new(),
            jumps: Vec::new(),
            rules,
            notes: Vec::new(),
        });
        pair_chains.push((pair.src, pair.dst, name));
    }
    // The wide entries, once per family, after zone-pair dispatch.
    let mut wide = Vec::new();
    for e in &plan.wide {
        cx.push_rules(e, &mut wide);
    }

    let mut iface_map = None;
    if plan.by_interface {
        let mut elements = Vec::new();
        for (s, d, chain) in &pair_chains {
            let (Some(si), Some(di)) = (plan[*s].interface.clone(), plan[*d].interface.clone())
            else {
                continue;
            };
            elements.push(IfaceElement {
                iif: si,
                oif: di,
                chain: chain.clone(),
            });
        }
        iface_map = Some(IfaceMap {
            name: "zone_pairs".into(),
            elements,
        });
    } else {
        // Two-level dispatch by address: source zone, then destination zone.
        // The pair chains of each source zone, and each source zone's
        // `from_` chain (name, index in `chains`), are found through maps:
        // a scan per zone was quadratic at 20,000 zones.
        let mut by_src: BTreeMap<PlanZoneId, Vec<&(PlanZoneId, PlanZoneId, String)>> =
            BTreeMap::new();
        for pc in &pair_chains {
            by_src.entry(pc.0).or_default().push(pc);
        }
        let mut from_chains: BTreeMap<PlanZoneId, (String, usize)> = BTreeMap::new();
        // The named set of each big destination zone, per family (IPv6: true).
        let mut big_sets: BTreeMap<(PlanZoneId, bool), String> = BTreeMap::new();
        for fam in [Family::V4, Family::V6] {
            let (fam_kw, suffix, kind) = fam_words(fam);
            let mut src_elems = Vec::new();
            for (zi, zone) in plan.zone_ids() {
                let Some(targets) = by_src.get(&zi) else {
                    continue;
                };
                if !zone.addrs.has_family(fam) {
                    continue;
                }
                let from = format!("from_{}", escape::ident(T, "", &zone.name));
                let (from, from_index) = match from_chains.get(&zi) {
                    Some((n, i)) => (n.clone(), *i),
                    None => {
                        let n = namer.unique(T, escape::ident(T, "", &from));
                        from_chains.insert(zi, (n.clone(), chains.len()));
                        let i = chains.len();
                        chains.push(NftChain {
                            name: n.clone(),
                            comment: escape::comment(
                                T,
                                &format!("traffic from zone {}", zone.name),
                            ),
                            dispatch: Vec::new(),
                            jumps: Vec::new(),
                            rules: Vec::new(),
                            notes: Vec::new(),
                        });
                        (n, i)
                    }
                };
                for e in plan::interval_strings(&zone.addrs.family(fam)) {
                    src_elems.push(MapElement {
                        key: e,
                        chain: from.clone(),
                    });
                }
                let mut dst_elems = Vec::new();
                let mut jumps = Vec::new();
                for (_, d, chain) in targets {
                    let dz = &plan[*d];
                    let intervals = match fam {
                        Family::V4 => dz.addrs.v4_ranges().len(),
                        Family::V6 => dz.addrs.v6_ranges().len(),
                    };
                    if intervals > BIG_ZONE_INTERVALS {
                        let set = big_sets
                            .entry((*d, fam == Family::V6))
                            .or_insert_with(|| {
                                let book = &mut books[usize::from(fam == Family::V6)];
                                let hint = format!("{}_{suffix}", dz.name);
                                book.intern(&mut namer, T, "z_", &dz.addrs.family(fam), &hint)
                            })
                            .clone();
                        jumps.push(DstJump {
                            fam: fam_kw,
                            dst: format!("@{set}"),
                            chain: chain.clone(),
                        });
                        continue;
                    }
                    for e in plan::interval_strings(&dz.addrs.family(fam)) {
                        dst_elems.push(MapElement {
                            key: e,
                            chain: chain.clone(),
                        });
                    }
                }
                if dst_elems.len() <= INLINE_MAX {
                    // Before the big zones' jumps, in the map's order.
                    let inline = dst_elems.drain(..).map(|e| DstJump {
                        fam: fam_kw,
                        dst: e.key,
                        chain: e.chain,
                    });
                    jumps.splice(0..0, inline);
                }
                if let Some(c) = chains.get_mut(from_index) {
                    c.jumps.extend(jumps);
                }
                if dst_elems.is_empty() {
                    continue;
                }
                let map = namer.name(T, "", &format!("to_{}_{suffix}", zone.name));
                maps.push(NftMap {
                    name: map.clone(),
                    kind,
                    comment: escape::comment(
                        T,
                        &format!(
                            "{} destinations of traffic from {}",
                            family_name(fam),
                            zone.name
                        ),
                    ),
                    elements: dst_elems,
                });
                if let Some(c) = chains.get_mut(from_index) {
                    c.dispatch.push(Dispatch {
                        fam: fam_kw,
                        field: "daddr",
                        map,
                    });
                }
            }
            if src_elems.is_empty() {
                continue;
            }
            let name = format!("src_{suffix}");
            maps.push(NftMap {
                name: name.clone(),
                kind,
                comment: escape::comment(T, &format!("{} source zones", family_name(fam))),
                elements: src_elems,
            });
            dispatch.push(Dispatch {
                fam: fam_kw,
                field: "saddr",
                map: name,
            });
        }
    }

    for (i, book) in books.into_iter().enumerate() {
        let kind = if i == 0 { "ipv4_addr" } else { "ipv6_addr" };
        for o in book.objects() {
            sets.push(NftSet {
                name: o.name,
                kind,
                comment: escape::comment(T, &o.what),
                elements: plan::interval_strings(&o.set),
            });
        }
    }

    sets.extend(ports.sets);
    let mut notes: Vec<String> = plan.notes.iter().map(|n| escape::comment(T, n)).collect();
    for fam in [Family::V4, Family::V6] {
        notes.extend(plan.family_notes(fam).iter().map(|n| escape::comment(T, n)));
    }
    let antispoof = !plan.by_interface;
    let rule_count = count_rules(&chains, &dispatch, iface_map.is_some())
        + wide.len()
        + usize::from(antispoof)
        + if log_deny.is_some() {
            LOG_DENY_RULES
        } else {
            0
        };
    NftView {
        header: Header::new(policy, fw, T),
        table,
        comment: escape::comment(
            T,
            &format!(
                "generated by zonal from policy {}; do not edit",
                policy.name
            ),
        ),
        sets,
        maps,
        iface_map,
        chains,
        dispatch,
        wide,
        log_prefix: format!("{} DENY", fw.logging.prefix),
        log_deny,
        antispoof,
        notes,
        rule_count,
    }
}

/// Rules `chain forward` of `main.nft.j2` writes whatever the data: the
/// conntrack verdict map and the explicit default deny (a rate-limited
/// log, then the drop).
/// What turns plan entries into rules.
struct RuleCx<'a, 'p> {
    plan: &'a FirewallPlan<'p>,
    namer: &'a mut Namer,
    books: &'a mut [AddressBook; 2],
    ports: &'a mut PortSets,
    deny_verdict: &'static str,
    allow_log: Option<&'a String>,
}

impl RuleCx<'_, '_> {
    /// The rules of one entry: per family, one per service form.
    fn push_rules(&mut self, e: &plan::Entry<'_>, rules: &mut Vec<NftRule>) {
        let policy = self.plan.policy;
        for fam in [Family::V4, Family::V6] {
            let Ok(fe) = e.family(fam) else { continue };
            let book = &mut self.books[usize::from(fam == Family::V6)];
            let src = addr_ref(
                self.plan,
                self.namer,
                book,
                &fe.src,
                &format!("{}_src", e.name()),
            );
            let dst = addr_ref(
                self.plan,
                self.namer,
                book,
                &fe.dst,
                &format!("{}_dst", e.name()),
            );
            let (verdict, log) = match e.action() {
                Action::Deny => (self.deny_verdict, None),
                Action::Allow => ("accept", self.allow_log.cloned()),
            };
            for svc in services(
                &fe.services,
                fam,
                self.ports,
                self.namer,
                &port_hint(policy, &e.services, e.rule),
            ) {
                rules.push(NftRule {
                    fam: if fam == Family::V4 { "ip" } else { "ip6" },
                    src: src.clone(),
                    dst: dst.clone(),
                    svc,
                    time: e.until().and_then(meta_time),
                    log: log.clone(),
                    verdict,
                    comment: e.comment(T),
                });
            }
        }
    }
}

const FORWARD_FIXED_RULES: usize = 3;

/// Rules of `chain log_deny` (a rate-limited log, then the drop).
const LOG_DENY_RULES: usize = 2;

/// The rules of the table, counted from what the template iterates: every
/// dispatch and rule line of every chain, and the forward chain's dispatch
/// lines, interface map lookup and fixed rules.
fn count_rules(chains: &[NftChain], dispatch: &[Dispatch], iface_map: bool) -> usize {
    let chain_rules: usize = chains
        .iter()
        .map(|c| c.dispatch.len() + c.jumps.len() + c.rules.len())
        .sum();
    chain_rules + dispatch.len() + usize::from(iface_map) + FORWARD_FIXED_RULES
}

fn fam_words(fam: Family) -> (&'static str, &'static str, &'static str) {
    match fam {
        Family::V4 => ("ip", "v4", "ipv4_addr"),
        Family::V6 => ("ip6", "v6", "ipv6_addr"),
    }
}

/// An address match operand: a literal for one interval, otherwise a named
/// set (deduplicated by content).
fn addr_ref(
    plan: &FirewallPlan<'_>,
    namer: &mut Namer,
    book: &mut AddressBook,
    set: &AddrSet,
    fallback: &str,
) -> String {
    let elems = plan::interval_strings(set);
    if let [one] = elems.as_slice() {
        return one.clone();
    }
    let hint = plan.describe(set).unwrap_or_else(|| fallback.to_string());
    let fam = if set.has_family(Family::V4) {
        "v4"
    } else {
        "v6"
    };
    let name = book.intern(namer, T, "a_", set, &format!("{hint}_{fam}"));
    format!("@{name}")
}

/// Named `inet_proto . inet_service` sets, deduplicated by content.
#[derive(Default)]
struct PortSets {
    by_elements: std::collections::BTreeMap<Vec<(String, String)>, String>,
    sets: Vec<NftSet>,
}

impl PortSets {
    fn intern(&mut self, namer: &mut Namer, elements: &[(String, String)], hint: &str) -> String {
        if let Some(n) = self.by_elements.get(elements) {
            return n.clone();
        }
        let name = namer.name(T, "s_", hint);
        self.by_elements.insert(elements.to_vec(), name.clone());
        self.sets.push(NftSet {
            name: name.clone(),
            kind: "inet_proto . inet_service",
            comment: escape::comment(T, hint),
            elements: elements.iter().map(|(p, r)| format!("{p} . {r}")).collect(),
        });
        name
    }
}

/// A name for the TCP/UDP ports of a service set: the named service with
/// exactly these ports, if any, else the services as the rule writes them.
fn port_hint(
    policy: &zonal_model::Policy,
    services: &zonal_model::ServiceSet,
    rule: &zonal_model::Rule,
) -> String {
    let ports = |s: &zonal_model::ServiceSet| [TCP, UDP].map(|p| s.selectors(p));
    let want = ports(services);
    if let Some(d) = policy.services.iter().find(|d| ports(&d.set) == want) {
        return d.name.clone();
    }
    let written: Vec<&str> = rule
        .services_written
        .iter()
        .map(|u| u.text.as_str())
        .collect();
    if written.is_empty() {
        format!("{}_ports", rule.name)
    } else {
        written.join("_")
    }
}

/// The service clauses of one family: one rule per clause. TCP and UDP
/// with the same ports share a clause.
fn services(
    fs: &FamilyServices,
    fam: Family,
    ports: &mut PortSets,
    namer: &mut Namer,
    hint: &str,
) -> Vec<Svc> {
    if fs.all {
        return vec![Svc {
            kind: "all",
            protos: Vec::new(),
            values: Vec::new(),
        }];
    }
    let mut out = Vec::new();
    let mut whole = Vec::new();
    let port_sel = |p: u8| fs.protos.iter().find(|s| s.proto == p && !s.whole);
    let mut elements = Vec::new();
    for s in [port_sel(TCP), port_sel(UDP)].into_iter().flatten() {
        for r in ranges(&s.ranges, "-") {
            elements.push((s.name.clone(), r));
        }
    }
    match elements.as_slice() {
        [] => {}
        [(proto, port)] => out.push(Svc {
            kind: "ports",
            protos: vec![proto.clone()],
            values: vec![port.clone()],
        }),
        _ => {
            let name = ports.intern(namer, &elements, hint);
            out.push(Svc {
                kind: "portset",
                protos: Vec::new(),
                values: vec![name],
            });
        }
    }
    for s in &fs.protos {
        if s.whole {
            whole.push(l4proto_name(s.proto));
            continue;
        }
        match s.proto {
            ICMP if fam == Family::V4 => out.push(Svc {
                kind: "icmp",
                protos: Vec::new(),
                values: ranges(&s.ranges, "-"),
            }),
            ICMPV6 if fam == Family::V6 => {
                out.push(Svc {
                    kind: "icmpv6",
                    protos: Vec::new(),
                    values: ranges(&s.ranges, "-"),
                });
            }
            TCP | UDP => {}
            _ => whole.push(l4proto_name(s.proto)),
        }
    }
    if !whole.is_empty() {
        out.push(Svc {
            kind: "proto",
            protos: Vec::new(),
            values: whole,
        });
    }
    out
}

fn l4proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "ipv6-icmp".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        n => n.to_string(),
    }
}

/// Port or type ranges as `a` or `a<sep>b`.
pub(crate) fn ranges(r: &[(u16, u16)], sep: &str) -> Vec<String> {
    r.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}{sep}{b}")
            }
        })
        .collect()
}
