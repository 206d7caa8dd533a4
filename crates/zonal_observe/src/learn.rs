//! `zonal learn`: a draft policy from observed traffic.
//!
//! Zones come from the inventory policy when one is given (its zones,
//! devices, services, groups and invariants are copied; its flows are
//! not), else from the observed subnets (a `/24` per IPv4 network, a `/64`
//! per IPv6 network, over private and unique-local addresses; every other
//! address is `internet`). Every observed internal address that no
//! inventory device owns becomes a device (without an inventory) or is
//! covered by its zone (with one). Services are named where a named
//! service (the prelude's, the inventory's, the device's listener) covers
//! only ports that were seen; other ports are written one by one, never as
//! a range. Rules are aggregated by destination and services, then by
//! sources, with the observed counts in the justification, each marked for
//! review. Flows that look like a threat rather than a workflow are not
//! drafted: they are listed, commented out, at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_name};
use zonal_model::{Date, Options, Policy, load_str};

use crate::flow::{Flow, Timestamp};
use crate::suggest::{self, Place};

/// Counts and times.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Seen {
    fn add(&mut self, count: u64, first: Option<Timestamp>, last: Option<Timestamp>) {
        self.count = self.count.saturating_add(count);
        self.first = match (self.first, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    fn merge(&mut self, o: Seen) {
        self.add(o.count, o.first, o.last);
    }

    fn describe(self) -> String {
        let period = match (self.first, self.last) {
            (Some(f), Some(l)) if f == l => format!(" on {f}"),
            (Some(f), Some(l)) => format!(", {f} to {l}"),
            _ => String::new(),
        };
        format!("{} connection(s){period}", self.count)
    }
}

/// Observed (protocol, selector) pairs.
type Pairs = BTreeSet<(u8, u16)>;

/// The draft and what went into it.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The policy text, in the canonical layout.
    pub text: String,
    /// Drafted `allow` lines.
    pub rules: usize,
    /// Flows left out as suspected threats (one line each).
    pub threats: Vec<String>,
    /// Observed flows whose address is in no zone of the inventory.
    pub unplaced: u64,
}

/// Collects observed flows for a draft.
pub struct Learn<'i> {
    inventory: Option<&'i Policy>,
    flows: BTreeMap<(IpAddr, IpAddr, u8, u16), Seen>,
}

/// An endpoint of a drafted rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ep {
    /// A device (inventory device, or a new device from an address).
    Device(String),
    /// A zone.
    Zone(String),
}

impl Ep {
    fn name(&self) -> &str {
        match self {
            Ep::Device(n) | Ep::Zone(n) => n,
        }
    }
}

/// Whether an address is internal (private, shared, unique-local or
/// link-local) when no inventory says.
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private() || a.is_link_local() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The subnet zone of an internal address: its name and network.
fn subnet(ip: IpAddr) -> (String, String) {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            (
                format!("net-{}-{}-{}", o[0], o[1], o[2]),
                format!("{}.{}.{}.0/24", o[0], o[1], o[2]),
            )
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            (
                format!("net6-{:x}-{:x}-{:x}-{:x}", s[0], s[1], s[2], s[3]),
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]),
            )
        }
    }
}

/// A device name from an address.
fn host_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("host-{}-{}-{}-{}", o[0], o[1], o[2], o[3])
        }
        IpAddr::V6(a) => {
            let parts: Vec<String> = a.segments().iter().map(|s| format!("{s:x}")).collect();
            format!("host6-{}", parts.join("-"))
        }
    }
}

/// The prelude's services, from an empty policy.
fn prelude() -> Option<Policy> {
    let today = Date::new(2000, 1, 1)?;
    load_str("prelude", "policy prelude {}\n", &Options { today }).policy
}

impl<'i> Learn<'i> {
    /// A draft against `inventory`, or from subnets without one.
    pub fn new(inventory: Option<&'i Policy>) -> Self {
        Learn {
            inventory,
            flows: BTreeMap::new(),
        }
    }

    /// Collects one observed flow.
    pub fn observe(&mut self, f: &Flow) {
        self.flows
            .entry((f.src, f.dst, f.proto, f.selector))
            .or_default()
            .add(f.count, f.first, f.last);
    }

    fn endpoint(&self, ip: IpAddr) -> Option<Ep> {
        match self.inventory {
            Some(p) => match Place::of(p, ip) {
                Place::Device(d) => Some(Ep::Device(p.device(d).name.clone())),
                Place::Zone(z) => Some(Ep::Zone(p.zone(z).name.clone())),
                Place::Nowhere => None,
            },
            None if internal(ip) => Some(Ep::Device(host_name(ip))),
            None => Some(Ep::Zone("internet".into())),
        }
    }

    /// The draft. `name` is the policy name without an inventory;
    /// `inventory_text` the inventory's declarations (see
    /// [`inventory_declarations`]).
    #[expect(
        clippy::too_many_lines,
        reason = "places, threats, services, two aggregation steps and the text, in order"
    )]
    pub fn draft(&self, name: &str, inventory_text: Option<&str>) -> Draft {
        let prelude = prelude();
        let services_of: Option<&Policy> = self.inventory.or(prelude.as_ref());
        // (src, dst) -> observed pairs and counts.
        let mut pairs: BTreeMap<(Ep, Ep), (Pairs, Seen)> = BTreeMap::new();
        let mut threat_groups: BTreeMap<(Ep, Ep, u8, u16), (String, Seen)> = BTreeMap::new();
        let mut unplaced = 0u64;
        let mut hosts: BTreeMap<(String, String), BTreeSet<IpAddr>> = BTreeMap::new();
        for (&(src, dst, proto, sel), seen) in &self.flows {
            let (Some(s), Some(d)) = (self.endpoint(src), self.endpoint(dst)) else {
                unplaced += seen.count;
                continue;
            };
            if s == d {
                continue;
            }
            if let Some(p) = self.inventory {
                let (fp, tp) = (Place::of(p, src), Place::of(p, dst));
                if let Some(why) = suggest::threat(p, fp, tp, proto, sel) {
                    let e = threat_groups
                        .entry((s, d, proto, sel))
                        .or_insert((why, Seen::default()));
                    e.1.merge(*seen);
                    continue;
                }
            }
            if self.inventory.is_none() {
                for ip in [src, dst] {
                    if internal(ip) {
                        hosts.entry(subnet(ip)).or_default().insert(ip);
                    }
                }
            }
            let e = pairs.entry((s, d)).or_default();
            e.0.insert((proto, sel));
            e.1.merge(*seen);
        }
        let threats: Vec<String> = threat_groups
            .iter()
            .map(|((s, d, proto, sel), (why, seen))| {
                let svc = match self.inventory {
                    Some(p) => {
                        let to = match d {
                            Ep::Device(n) => p
                                .device_by_name(n)
                                .map_or(Place::Nowhere, |x| Place::Device(x.id)),
                            Ep::Zone(n) => p
                                .zone_by_name(n)
                                .map_or(Place::Nowhere, |x| Place::Zone(x.id)),
                        };
                        suggest::service_text(p, to, *proto, *sel)
                    }
                    None => suggest::inline_term(*proto, *sel),
                };
                format!(
                    "{why}: {} ({})",
                    suggest::allow_line(
                        s.name(),
                        d.name(),
                        &svc,
                        &format!("observed {}", seen.describe())
                    ),
                    suggest::packet_service(*proto, *sel)
                )
            })
            .collect();
        // (dst, services) -> sources.
        let mut by_dst: BTreeMap<(Ep, String), (BTreeSet<Ep>, Seen)> = BTreeMap::new();
        for ((s, d), (set, seen)) in pairs {
            let text = services_text(services_of, self.inventory.is_some(), &d, &set);
            let e = by_dst.entry((d, text)).or_default();
            e.0.insert(s);
            e.1.merge(seen);
        }
        // (sources, services) -> destinations.
        let mut rules: BTreeMap<(Vec<Ep>, String), (Vec<Ep>, Seen)> = BTreeMap::new();
        for ((d, text), (srcs, seen)) in by_dst {
            let e = rules.entry((srcs.into_iter().collect(), text)).or_default();
            e.0.push(d);
            e.1.merge(seen);
        }
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# DRAFT written by `zonal learn` from observed traffic. Review every\n# rule before enforcing it: traffic that was seen is not traffic that\n# is wanted, and traffic that was not seen may still be needed.\n"
        );
        match inventory_text {
            Some(inv) => {
                o.push_str(inv);
                o.push('\n');
            }
            None => {
                let _ = writeln!(
                    o,
                    "policy {name} {{\n  description \"draft from observed traffic; review before enforcing\"\n}}\n"
                );
                for ((zone, network), ips) in &hosts {
                    let _ = writeln!(
                        o,
                        "zone {zone} {{\n  network {network}\n  description \"observed subnet\""
                    );
                    for ip in ips {
                        let _ = writeln!(o, "  device {} {{ address {ip} }}", host_name(*ip));
                    }
                    let _ = writeln!(o, "}}\n");
                }
                let _ = writeln!(o, "zone internet {{\n  external\n}}\n");
            }
        }
        let _ = writeln!(
            o,
            "# ---------------------------------------------------------------- drafted flows\n"
        );
        for ((srcs, text), (dsts, seen)) in &rules {
            let list = |eps: &[Ep]| eps.iter().map(Ep::name).collect::<Vec<_>>().join(", ");
            let why = format!(
                "REVIEW: observed {}; drafted by zonal learn",
                seen.describe()
            );
            let _ = writeln!(
                o,
                "{}",
                suggest::allow_line(&list(srcs), &list(dsts), text, &why)
            );
        }
        if !threats.is_empty() {
            let _ = writeln!(
                o,
                "\n# ---------------------------------------------------------------- suspected threats\n# Observed, but they look like a threat rather than a workflow: NOT drafted.\n# Investigate each; the line below it is what would allow it.\n"
            );
            for t in &threats {
                let _ = writeln!(o, "# {t}");
            }
        }
        let parsed = zonal_syntax::parse(zonal_diagnostics::FileId::default(), &o);
        let text = if parsed.diagnostics.is_empty() {
            zonal_syntax::format(&parsed.file, &o)
        } else {
            o
        };
        Draft {
            text,
            rules: rules.len(),
            threats,
            unplaced,
        }
    }
}

fn pair_count(set: &zonal_model::ServiceSet) -> usize {
    set.iter()
        .map(|(_, sel)| {
            sel.ranges()
                .iter()
                .map(|&(a, b)| usize::from(b - a) + 1)
                .sum::<usize>()
        })
        .sum()
}

/// The set's pairs, when it is small enough to be a subset of what was seen.
fn set_pairs(set: &zonal_model::ServiceSet) -> Option<BTreeSet<(u8, u16)>> {
    if pair_count(set) > 64 {
        return None;
    }
    let mut out = BTreeSet::new();
    for (proto, sel) in set.iter() {
        for &(a, b) in sel.ranges() {
            for v in a..=b {
                out.insert((proto, v));
            }
        }
    }
    Some(out)
}

/// The services of one drafted rule: named services (the destination
/// device's listeners, then the prelude's or the inventory's) that cover
/// only observed pairs, largest first; every other pair inline, one port
/// at a time.
fn services_text(
    services: Option<&Policy>,
    inventory: bool,
    dst: &Ep,
    seen: &BTreeSet<(u8, u16)>,
) -> String {
    let mut left = seen.clone();
    let mut names = Vec::new();
    if let Some(p) = services {
        let device = match dst {
            Ep::Device(n) if inventory => p.device_by_name(n),
            _ => None,
        };
        if let Some(dev) = device {
            for l in &dev.listens {
                if let Some(ps) = set_pairs(&l.set)
                    && !ps.is_empty()
                    && ps.is_subset(&left)
                {
                    left.retain(|x| !ps.contains(x));
                    names.push(p.service(l.service).name.clone());
                }
            }
        }
        // A zone destination in an inventory: a named service would also
        // cover its devices' moved listener ports, which were not seen.
        let moved_in_zone: Vec<zonal_model::ServiceId> = match dst {
            Ep::Zone(n) if inventory => p
                .zone_by_name(n)
                .map(|z| {
                    z.devices
                        .iter()
                        .flat_map(|d| p.device(*d).listens.iter())
                        .filter(|l| l.port.is_some())
                        .map(|l| l.service)
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        {
            let mut candidates: Vec<(usize, &str, Pairs)> = p
                .services
                .iter()
                .filter(|s| device.is_none_or(|d| d.listens.iter().all(|l| l.service != s.id)))
                .filter(|s| !moved_in_zone.contains(&s.id))
                .filter_map(|s| Some((pair_count(&s.set), s.name.as_str(), set_pairs(&s.set)?)))
                .filter(|(n, _, _)| *n > 0)
                .collect();
            candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            for (_, name, ps) in candidates {
                if ps.is_subset(&left) {
                    left.retain(|x| !ps.contains(x));
                    names.push(name.to_string());
                }
            }
        }
    }
    names.sort();
    for (proto, sel) in left {
        names.push(match proto {
            TCP | UDP | ICMP | ICMPV6 => format!("{} {sel}", proto_name(proto)),
            p => format!("proto {p}"),
        });
    }
    names.join(", ")
}

/// The inventory's declarations for a draft: every item of its files but
/// flows, workflows and includes (the policy header, services, groups,
/// zones with their devices, and the `never`/`require` invariants, so that
/// `zonal check` judges the draft against them).
pub fn inventory_declarations(loaded: &zonal_model::Loaded) -> String {
    let mut out = String::new();
    for (file, parsed) in &loaded.files {
        let text = loaded.db.text(*file);
        for item in &parsed.items {
            use zonal_syntax::ast::ItemKind as K;
            if matches!(
                item.kind,
                K::Flow(_) | K::Workflow(_) | K::Include(_) | K::Error
            ) {
                continue;
            }
            let (a, b) = (item.range.start as usize, item.range.end as usize);
            if let Some(t) = text.get(a..b) {
                out.push_str(t);
                out.push_str("\n\n");
            }
        }
    }
    out
}
