//! Planning, without touching the kernel: which hosts (namespaces) the
//! network has, which addresses they get, and which probes are sent, each
//! with the verdict [`Policy::decide`] expects.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use zonal_model::service::{ICMP, ICMPV6, SelectorKind, TCP, UDP, selector_kind};
use zonal_model::{AddrSet, DeviceId, Family, Policy, Prefix, RuleId, ServiceSet, Verdict, ZoneId};

use zonal_synth::Rng;

/// How a verification run is planned and executed.
#[derive(Clone, Debug)]
pub struct Config {
    /// Seed of the sampled probes (pairs and ports the policy does not name).
    pub seed: u64,
    /// How many sampled probes to add.
    pub samples: usize,
    /// At most this many (source, destination) host pairs per rule term
    /// and family; above it, a covering selection (every source and every
    /// destination host at least once) is used.
    pub pairs_per_term: usize,
    /// The network is refused above this many hosts (namespaces).
    pub max_hosts: usize,
    /// Router interface name per zone name, from a deployment binding.
    /// Zones without an entry get a generated name (`zn0`, `zn1`, …).
    pub interfaces: BTreeMap<String, String>,
    /// The zones the firewall enforces between (from a deployment
    /// binding); `None` means every zone.
    pub zones: Option<BTreeSet<String>>,
    /// How long a probe waits for its answer before it counts as blocked.
    pub timeout: Duration,
    /// How many probes run at the same time.
    pub concurrency: usize,
    /// Read the router's connection table after each phase of probes
    /// into [`crate::Report::conntrack`] (needs connection tracking in the
    /// router: rules that use connection state).
    pub capture_conntrack: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 2026,
            samples: 64,
            pairs_per_term: 6,
            max_hosts: 200,
            interfaces: BTreeMap::new(),
            zones: None,
            timeout: Duration::from_millis(400),
            concurrency: 48,
            capture_conntrack: false,
        }
    }
}

/// One end system of the test network: a zone's own host, or a device.
/// Each host is a network namespace joined to the router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// The zone or device name.
    pub label: String,
    /// The zone the host sits in.
    pub zone: ZoneId,
    /// The device, for a device host.
    pub device: Option<DeviceId>,
    /// Its IPv4 address, when the zone or device has IPv4 addresses.
    pub v4: Option<Ipv4Addr>,
    /// Its IPv6 address, when the zone or device has IPv6 addresses.
    pub v6: Option<Ipv6Addr>,
    /// Index into [`Plan::links`]: the router interface it hangs off.
    pub link: usize,
}

impl Host {
    /// The host's address in one family.
    pub fn addr(&self, v6: bool) -> Option<IpAddr> {
        if v6 {
            self.v6.map(IpAddr::V6)
        } else {
            self.v4.map(IpAddr::V4)
        }
    }
}

/// A router interface (a bridge): one per zone, named after the binding;
/// zones bound to the same interface share it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The first zone behind it.
    pub zone: ZoneId,
    /// The interface name in the router namespace.
    pub ifname: String,
}

/// What a probe sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProbeKind {
    /// A TCP connect to this port.
    Tcp(u16),
    /// A UDP request to this port, answered by the listener.
    Udp(u16),
    /// An ICMP echo request (ICMPv6 echo request over IPv6).
    Echo,
    /// A raw IP packet of this protocol, seen by a raw socket at the destination.
    Proto(u8),
}

impl ProbeKind {
    /// The `(protocol, selector)` pair [`Policy::decide`] takes.
    pub fn proto_selector(self, v6: bool) -> (u8, u16) {
        match self {
            ProbeKind::Tcp(p) => (TCP, p),
            ProbeKind::Udp(p) => (UDP, p),
            ProbeKind::Echo if v6 => (ICMPV6, 128),
            ProbeKind::Echo => (ICMP, 8),
            ProbeKind::Proto(n) => (n, 0),
        }
    }

    /// A short label such as `tcp/104`, `udp/53`, `icmp echo`, `proto 50`.
    pub fn label(self, v6: bool) -> String {
        match self {
            ProbeKind::Tcp(p) => format!("tcp/{p}"),
            ProbeKind::Udp(p) => format!("udp/{p}"),
            ProbeKind::Echo if v6 => "icmpv6 echo".to_string(),
            ProbeKind::Echo => "icmp echo".to_string(),
            ProbeKind::Proto(n) => format!("proto {}", zonal_model::service::proto_name(n)),
        }
    }
}

/// Why a probe is in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A (source, destination, service) a rule names.
    Named(RuleId),
    /// The reverse direction of a named probe (a new connection from the
    /// listener back to the initiator).
    Reverse(RuleId),
    /// A port just outside a port range a rule names.
    Edge(RuleId),
    /// A seeded sample of pairs and services.
    Sample,
}

/// One probe and the verdict the policy gives for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Index into [`Plan::hosts`] of the sender.
    pub src: usize,
    /// Index into [`Plan::hosts`] of the receiver.
    pub dst: usize,
    /// Whether the probe is sent over IPv6.
    pub v6: bool,
    /// What is sent.
    pub kind: ProbeKind,
    /// Why it is sent.
    pub origin: Origin,
    /// What [`Policy::decide`] says.
    pub expected: Verdict,
}

/// The planned network and probes.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Hosts, in zone order, each zone's own host before its devices.
    pub hosts: Vec<Host>,
    /// Router interfaces.
    pub links: Vec<Link>,
    /// Probes, deduplicated, in a deterministic order.
    pub probes: Vec<Probe>,
    /// What the plan could not cover, in plain words.
    pub notes: Vec<String>,
}

impl Plan {
    /// The source and destination addresses of a probe.
    pub fn addrs(&self, p: &Probe) -> Option<(IpAddr, IpAddr)> {
        let src = self.hosts.get(p.src)?.addr(p.v6)?;
        let dst = self.hosts.get(p.dst)?.addr(p.v6)?;
        Some((src, dst))
    }
}

/// Why no plan could be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// The policy has more hosts than [`Config::max_hosts`].
    TooManyHosts {
        /// How many hosts the policy needs.
        needed: usize,
        /// The limit.
        limit: usize,
    },
    /// No zone has a usable address.
    NoHosts,
    /// An interface name from the binding cannot be used in the kernel.
    BadInterface(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::TooManyHosts { needed, limit } => write!(
                f,
                "the policy needs {needed} namespaces (one per zone and device), more than the limit of {limit}"
            ),
            PlanError::NoHosts => write!(
                f,
                "no zone or device has a usable address, so there is nothing to probe"
            ),
            PlanError::BadInterface(name) => write!(
                f,
                "interface name `{name}` cannot be created in the kernel (1 to 15 characters of [A-Za-z0-9_.-])"
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// The IPv4 gateway address every host routes through (on every router
/// interface). Link-local, so no zone can contain it.
pub const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 255, 1);
/// The IPv6 gateway address (link-local, on every router interface).
pub const GATEWAY_V6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

/// Plans the network and the probes for a policy.
pub fn plan(policy: &Policy, config: &Config) -> Result<Plan, PlanError> {
    let mut notes = BTreeSet::new();
    let (hosts, links) = plan_hosts(policy, config, &mut notes)?;
    let probes = plan_probes(policy, config, &hosts, &mut notes);
    Ok(Plan {
        hosts,
        links,
        probes,
        notes: notes.into_iter().collect(),
    })
}

/// Addresses no host may use: unspecified, loopback, link-local,
/// multicast, reserved and IPv4-mapped.
fn reserved() -> AddrSet {
    let v4 = |a, b, c, d, len| Prefix::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len);
    let v6 = |seg: [u16; 8], len| {
        Prefix::new(
            IpAddr::V6(Ipv6Addr::new(
                seg[0], seg[1], seg[2], seg[3], seg[4], seg[5], seg[6], seg[7],
            )),
            len,
        )
    };
    let prefixes: Vec<Prefix> = [
        v4(0, 0, 0, 0, 8),
        v4(127, 0, 0, 0, 8),
        v4(169, 254, 0, 0, 16),
        v4(224, 0, 0, 0, 3),
        v6([0, 0, 0, 0, 0, 0, 0, 0], 127),
        v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96),
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
    ]
    .into_iter()
    .flatten()
    .collect();
    AddrSet::from_prefixes(&prefixes)
}

/// Addresses tried first for a zone that stands for "everything else"
/// (documentation ranges, then well-known public addresses).
fn external_candidates() -> Vec<IpAddr> {
    vec![
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)),
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
        IpAddr::V6(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0x10)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0xffff, 0, 0, 0, 0x10)),
        IpAddr::V6(Ipv6Addr::new(0x2606, 0x4700, 0, 0, 0, 0, 0, 0x10)),
    ]
}

/// Picks a usable address of one family from `set`: the second address
/// of the first interval with at least three addresses (so network and
/// broadcast addresses are avoided), else the first address of the first
/// interval.
pub(crate) fn pick(set: &AddrSet, v6: bool) -> Option<IpAddr> {
    let usable = set.subtract(&reserved());
    if v6 {
        let ranges = usable.v6_ranges();
        let a = match ranges.iter().find(|(lo, hi)| hi - lo >= 2) {
            Some((lo, _)) => lo + 1,
            None => ranges.first()?.0,
        };
        Some(IpAddr::V6(Ipv6Addr::from(a)))
    } else {
        let ranges = usable.v4_ranges();
        let a = match ranges.iter().find(|(lo, hi)| hi - lo >= 2) {
            Some((lo, _)) => lo + 1,
            None => ranges.first()?.0,
        };
        Some(IpAddr::V4(Ipv4Addr::from(a)))
    }
}

fn pick_external(set: &AddrSet, v6: bool) -> Option<IpAddr> {
    let usable = set.subtract(&reserved());
    external_candidates()
        .into_iter()
        .find(|ip| ip.is_ipv6() == v6 && usable.contains(*ip))
        .or_else(|| pick(set, v6))
}

fn as_v4(ip: Option<IpAddr>) -> Option<Ipv4Addr> {
    match ip {
        Some(IpAddr::V4(a)) => Some(a),
        _ => None,
    }
}

fn as_v6(ip: Option<IpAddr>) -> Option<Ipv6Addr> {
    match ip {
        Some(IpAddr::V6(a)) => Some(a),
        _ => None,
    }
}

/// Whether a name can be a Linux interface name.
fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn plan_hosts(
    policy: &Policy,
    config: &Config,
    notes: &mut BTreeSet<String>,
) -> Result<(Vec<Host>, Vec<Link>), PlanError> {
    let mut hosts = Vec::new();
    let mut links = Vec::new();
    let mut used = AddrSet::empty();
    for zone in &policy.zones {
        if let Some(only) = &config.zones
            && !only.contains(&zone.name)
        {
            continue;
        }
        let ifname = match config.interfaces.get(&zone.name) {
            Some(name) => name.clone(),
            None => format!("zn{}", zone.id.index()),
        };
        if !valid_ifname(&ifname) {
            return Err(PlanError::BadInterface(ifname));
        }
        // Zones bound to the same interface share one router interface.
        let link = links
            .iter()
            .position(|l: &Link| l.ifname == ifname)
            .unwrap_or(links.len());
        let mut zone_hosts = Vec::new();
        let device_addrs = zone.devices.iter().fold(AddrSet::empty(), |acc, d| {
            acc.union(&policy.device(*d).addrs)
        });
        let own = zone.addrs.subtract(&device_addrs).subtract(&used);
        let (v4, v6) = if zone.external {
            (pick_external(&own, false), pick_external(&own, true))
        } else {
            (pick(&own, false), pick(&own, true))
        };
        if v4.is_some() || v6.is_some() {
            for ip in [v4, v6].into_iter().flatten() {
                used = used.union(&AddrSet::single(ip));
            }
            zone_hosts.push(Host {
                label: zone.name.clone(),
                zone: zone.id,
                device: None,
                v4: as_v4(v4),
                v6: as_v6(v6),
                link,
            });
        } else if !zone.devices.is_empty() {
            notes.insert(format!(
                "zone `{}` has no address outside its devices: only its devices are probed",
                zone.name
            ));
        }
        for &d in &zone.devices {
            let device = policy.device(d);
            let free = device.addrs.subtract(&used);
            let (v4, v6) = (pick(&free, false), pick(&free, true));
            if v4.is_none() && v6.is_none() {
                notes.insert(format!(
                    "device `{}` has no usable address and is not probed",
                    device.name
                ));
                continue;
            }
            for ip in [v4, v6].into_iter().flatten() {
                used = used.union(&AddrSet::single(ip));
            }
            zone_hosts.push(Host {
                label: device.name.clone(),
                zone: zone.id,
                device: Some(d),
                v4: as_v4(v4),
                v6: as_v6(v6),
                link,
            });
        }
        if zone_hosts.is_empty() {
            notes.insert(format!(
                "zone `{}` has no usable address and is not probed",
                zone.name
            ));
            continue;
        }
        if link == links.len() {
            links.push(Link {
                zone: zone.id,
                ifname,
            });
        }
        hosts.extend(zone_hosts);
    }
    if hosts.is_empty() {
        return Err(PlanError::NoHosts);
    }
    if hosts.len() > config.max_hosts {
        return Err(PlanError::TooManyHosts {
            needed: hosts.len(),
            limit: config.max_hosts,
        });
    }
    Ok((hosts, links))
}

/// Protocols a raw-socket probe cannot test faithfully: those with their
/// own connection tracker or kernel handler that would judge a bare
/// payload invalid, and IPv6 extension headers.
fn raw_probeable(proto: u8) -> bool {
    !matches!(
        proto,
        0 | 1
            | 4
            | 6
            | 17
            | 33
            | 41
            | 43
            | 44
            | 47
            | 58
            | 59
            | 60
            | 132
            | 135
            | 136
            | 139
            | 140
            | 253..=255
    )
}

/// The probe kinds for one term's services in one family: the named ones
/// and the edge ones (ports just outside a named range).
fn kinds_for(
    services: &ServiceSet,
    v6: bool,
    notes: &mut BTreeSet<String>,
) -> (Vec<ProbeKind>, Vec<ProbeKind>) {
    let mut named = Vec::new();
    let mut edge = Vec::new();
    let mut raw = Vec::new();
    let mut unprobeable = Vec::new();
    for (proto, selectors) in services.iter() {
        match (proto, selector_kind(proto)) {
            (TCP | UDP, _) => {
                let make = |p: u16| {
                    if proto == TCP {
                        ProbeKind::Tcp(p)
                    } else {
                        ProbeKind::Udp(p)
                    }
                };
                for &(lo, hi) in selectors.ranges().iter().take(8) {
                    let lo = lo.max(1);
                    if lo > hi {
                        notes.insert(format!(
                            "{} port 0 cannot be probed",
                            zonal_model::service::proto_name(proto)
                        ));
                        continue;
                    }
                    named.push(make(lo));
                    if hi != lo {
                        named.push(make(hi));
                    }
                    if lo > 1 && !selectors.contains(lo - 1) {
                        edge.push(make(lo - 1));
                    }
                    if hi < u16::MAX && !selectors.contains(hi + 1) {
                        edge.push(make(hi + 1));
                    }
                }
            }
            (ICMP, _) if !v6 => {
                if selectors.contains(8) {
                    named.push(ProbeKind::Echo);
                } else {
                    notes.insert(format!(
                        "icmp types {selectors:?} other than echo-request are not probed"
                    ));
                }
            }
            (ICMPV6, _) if v6 => {
                if selectors.contains(128) {
                    named.push(ProbeKind::Echo);
                } else {
                    notes.insert(format!(
                        "icmpv6 types {selectors:?} other than echo-request are not probed"
                    ));
                }
            }
            (ICMP | ICMPV6, _) => {}
            (_, SelectorKind::None) if raw_probeable(proto) => raw.push(proto),
            _ => unprobeable.push(proto),
        }
    }
    if raw.len() <= 4 {
        for proto in unprobeable {
            notes.insert(format!(
                "ip protocol {} is not probed (the kernel tracks or handles it specially)",
                zonal_model::service::proto_name(proto)
            ));
        }
    } else {
        // A service such as `any` covers every protocol: probe a few.
        let picked: Vec<u8> = raw
            .iter()
            .copied()
            .filter(|p| matches!(p, 50 | 51 | 103 | 112))
            .take(2)
            .collect();
        let picked = if picked.is_empty() {
            raw.iter().copied().take(2).collect()
        } else {
            picked
        };
        notes.insert(format!(
            "a service covering {} ip protocols is probed with tcp, udp, echo and protocols {}",
            services.protocols().count(),
            picked
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        raw = picked;
    }
    named.extend(raw.into_iter().map(ProbeKind::Proto));
    (named, edge)
}

/// Host pairs for one term: every pair when there are few, else a
/// covering selection in which every source and every destination host
/// appears at least once. A host never probes itself.
fn choose_pairs(srcs: &[usize], dsts: &[usize], limit: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if srcs.len().saturating_mul(dsts.len()) <= limit.max(1) {
        for &s in srcs {
            for &d in dsts {
                if s != d {
                    out.push((s, d));
                }
            }
        }
        return out;
    }
    let n = srcs.len().max(dsts.len());
    for i in 0..n {
        let s = srcs[i % srcs.len()];
        let mut j = i % dsts.len();
        for _ in 0..dsts.len() {
            if dsts[j] != s {
                break;
            }
            j = (j + 1) % dsts.len();
        }
        if dsts[j] != s {
            out.push((s, dsts[j]));
        }
    }
    out
}

fn plan_probes(
    policy: &Policy,
    config: &Config,
    hosts: &[Host],
    notes: &mut BTreeSet<String>,
) -> Vec<Probe> {
    let mut seen: BTreeMap<(usize, usize, bool, ProbeKind), usize> = BTreeMap::new();
    let mut probes: Vec<Probe> = Vec::new();
    let mut push = |src: usize, dst: usize, v6: bool, kind: ProbeKind, origin: Origin| -> bool {
        let (Some(s), Some(d)) = (hosts[src].addr(v6), hosts[dst].addr(v6)) else {
            return false;
        };
        if src == dst || seen.contains_key(&(src, dst, v6, kind)) {
            return false;
        }
        let (proto, selector) = kind.proto_selector(v6);
        let expected = policy.decide(s, d, proto, selector);
        seen.insert((src, dst, v6, kind), probes.len());
        probes.push(Probe {
            src,
            dst,
            v6,
            kind,
            origin,
            expected,
        });
        true
    };
    let mut ports: BTreeSet<ProbeKind> = BTreeSet::new();
    // Every rule, expired ones too: an expired rule must not be enforced.
    for rule in &policy.rules {
        for term in &rule.terms {
            for v6 in [false, true] {
                let family = if v6 { Family::V6 } else { Family::V4 };
                if !term.src.has_family(family) || !term.dst.has_family(family) {
                    continue;
                }
                let in_set = |set: &AddrSet| -> Vec<usize> {
                    (0..hosts.len())
                        .filter(|&i| hosts[i].addr(v6).is_some_and(|ip| set.contains(ip)))
                        .collect()
                };
                let srcs = in_set(&term.src);
                let dsts = in_set(&term.dst);
                if srcs.is_empty() || dsts.is_empty() {
                    continue;
                }
                let pairs = choose_pairs(&srcs, &dsts, config.pairs_per_term);
                let (named, edge) = kinds_for(&term.services, v6, notes);
                ports.extend(
                    named
                        .iter()
                        .copied()
                        .filter(|k| matches!(k, ProbeKind::Tcp(_) | ProbeKind::Udp(_))),
                );
                for &(s, d) in &pairs {
                    for &k in &named {
                        push(s, d, v6, k, Origin::Named(rule.id));
                    }
                }
                for &(s, d) in &pairs {
                    for &k in &named {
                        push(d, s, v6, k, Origin::Reverse(rule.id));
                    }
                }
                if let Some(&(s, d)) = pairs.first() {
                    for &k in &edge {
                        push(s, d, v6, k, Origin::Edge(rule.id));
                    }
                }
            }
        }
    }
    // Seeded samples: pairs and services the policy may not name.
    let ports: Vec<ProbeKind> = ports.into_iter().collect();
    let mut rng = Rng::new(config.seed);
    let mut attempts = 0;
    let mut added = 0;
    while added < config.samples && attempts < config.samples * 20 && hosts.len() > 1 {
        attempts += 1;
        let src = rng.below(hosts.len());
        let dst = rng.below(hosts.len());
        if src == dst {
            continue;
        }
        let v6 = match (
            hosts[src].v4.is_some() && hosts[dst].v4.is_some(),
            hosts[src].v6.is_some() && hosts[dst].v6.is_some(),
        ) {
            (true, true) => rng.below(2) == 1,
            (true, false) => false,
            (false, true) => true,
            (false, false) => continue,
        };
        let port = u16::try_from(1 + rng.below(65535)).unwrap_or(u16::MAX);
        let kind = match rng.below(10) {
            0..=2 => ProbeKind::Tcp(port),
            3..=4 => ProbeKind::Udp(port),
            5 => ProbeKind::Echo,
            6 => ProbeKind::Proto(50),
            _ if !ports.is_empty() => ports[rng.below(ports.len())],
            _ => ProbeKind::Tcp(port),
        };
        if push(src, dst, v6, kind, Origin::Sample) {
            added += 1;
        }
    }
    probes
}

/// The interval set of a service's selectors, for tests.
#[cfg(test)]
fn ports(ranges: &[(u16, u16)]) -> zonal_model::sets::IntervalSet<u16> {
    zonal_model::sets::IntervalSet::from_ranges(ranges.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(prefixes: &[&str]) -> AddrSet {
        let p: Vec<Prefix> = prefixes.iter().map(|s| Prefix::parse(s).unwrap()).collect();
        AddrSet::from_prefixes(&p)
    }

    #[test]
    fn pick_skips_network_address_and_reserved_ranges() {
        assert_eq!(
            pick(&set(&["10.20.110.0/24"]), false),
            Some("10.20.110.1".parse().unwrap())
        );
        assert_eq!(
            pick(&set(&["10.20.110.7/32"]), false),
            Some("10.20.110.7".parse().unwrap())
        );
        assert_eq!(
            pick(&set(&["2001:db8:20::/64"]), true),
            Some("2001:db8:20::1".parse().unwrap())
        );
        assert_eq!(pick(&set(&["10.20.110.0/24"]), true), None);
        assert_eq!(pick(&set(&["169.254.0.0/16"]), false), None);
        // Everything: the first usable address after 0.0.0.0/8.
        assert_eq!(
            pick(&AddrSet::full(), false),
            Some("1.0.0.1".parse().unwrap())
        );
        assert_eq!(pick(&AddrSet::full(), true), Some("::3".parse().unwrap()));
    }

    #[test]
    fn external_zones_prefer_documentation_addresses_outside_internal_zones() {
        let outside = AddrSet::full().subtract(&set(&["10.0.0.0/8", "2001:db8::/32"]));
        assert_eq!(
            pick_external(&outside, false),
            Some("203.0.113.10".parse().unwrap())
        );
        assert_eq!(
            pick_external(&outside, true),
            Some("3fff::10".parse().unwrap())
        );
        let without_docs = outside.subtract(&set(&[
            "203.0.113.0/24",
            "198.51.100.0/24",
            "192.0.2.0/24",
            "3fff::/20",
        ]));
        assert_eq!(
            pick_external(&without_docs, false),
            Some("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn pairs_cover_every_source_and_destination_without_self_pairs() {
        assert_eq!(
            choose_pairs(&[0, 1], &[1, 2], 6),
            vec![(0, 1), (0, 2), (1, 2)]
        );
        let pairs = choose_pairs(&[0, 1, 2, 3, 4], &[3, 4, 5], 6);
        for s in [0, 1, 2, 3, 4] {
            assert!(pairs.iter().any(|p| p.0 == s), "{s} missing in {pairs:?}");
        }
        for d in [3, 4, 5] {
            assert!(pairs.iter().any(|p| p.1 == d), "{d} missing in {pairs:?}");
        }
        assert!(pairs.iter().all(|p| p.0 != p.1));
        assert!(choose_pairs(&[7], &[7], 6).is_empty());
    }

    #[test]
    fn kinds_name_range_ends_and_probe_just_outside() {
        let mut notes = BTreeSet::new();
        let svc = ServiceSet::proto(TCP, ports(&[(104, 104), (5000, 5010)]))
            .union(&ServiceSet::proto(ICMP, ports(&[(8, 8)])))
            .union(&ServiceSet::whole_proto(50));
        let (named, edge) = kinds_for(&svc, false, &mut notes);
        assert_eq!(
            named,
            vec![
                ProbeKind::Echo,
                ProbeKind::Tcp(104),
                ProbeKind::Tcp(5000),
                ProbeKind::Tcp(5010),
                ProbeKind::Proto(50)
            ]
        );
        assert_eq!(
            edge,
            vec![
                ProbeKind::Tcp(103),
                ProbeKind::Tcp(105),
                ProbeKind::Tcp(4999),
                ProbeKind::Tcp(5011)
            ]
        );
        // Over IPv6, ICMPv4 is not probed, and nothing is noted for it.
        let (named6, _) = kinds_for(&svc, true, &mut notes);
        assert!(!named6.contains(&ProbeKind::Echo));
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn any_service_is_probed_with_a_few_representatives() {
        let mut notes = BTreeSet::new();
        let (named, edge) = kinds_for(&ServiceSet::any(), false, &mut notes);
        assert!(edge.is_empty());
        assert_eq!(
            named,
            vec![
                ProbeKind::Echo,
                ProbeKind::Tcp(1),
                ProbeKind::Tcp(65535),
                ProbeKind::Udp(1),
                ProbeKind::Udp(65535),
                ProbeKind::Proto(50),
                ProbeKind::Proto(51)
            ]
        );
        // One note for the whole service, not one per protocol.
        assert_eq!(
            notes.into_iter().collect::<Vec<_>>(),
            [
                "a service covering 256 ip protocols is probed with tcp, udp, echo and protocols 50, 51"
            ]
        );
    }

    #[test]
    fn interface_names_are_checked() {
        assert!(valid_ifname("vlan110"));
        assert!(valid_ifname("eth0.110"));
        assert!(!valid_ifname("a-very-long-interface"));
        assert!(!valid_ifname("bad name"));
        assert!(!valid_ifname(""));
    }

    const POLICY: &str = r#"
policy plan-test { owner "tests" }
zone clinic {
  network 10.60.1.0/24, fd00:60:1::/64
  trust medium
  kind clinical
  device ws-1 { address 10.60.1.1, fd00:60:1::1  kind workstation }
}
zone servers {
  network 10.60.2.0/24
  trust high
  kind servers
  device pacs-1 { address 10.60.2.10  kind pacs  listens dicom }
}
zone internet { external  trust untrusted }
allow clinic -> pacs-1 : dicom "viewing"
allow pacs-1 -> internet : https "updates"
deny ws-1 -> internet : https "no browsing"
"#;

    fn policy() -> Policy {
        let options = zonal_model::Options {
            today: zonal_model::Date::new(2026, 11, 28).unwrap(),
        };
        let loaded = zonal_model::load_str("plan-test.zonal", POLICY, &options);
        assert!(
            !loaded.diagnostics.has_input_errors(),
            "{:?}",
            loaded.diagnostics
        );
        loaded.policy.unwrap()
    }

    #[test]
    fn hosts_avoid_devices_and_external_hosts_avoid_internal_zones() {
        let policy = policy();
        let plan = plan(&policy, &Config::default()).unwrap();
        let labels: Vec<&str> = plan.hosts.iter().map(|h| h.label.as_str()).collect();
        assert_eq!(labels, ["clinic", "ws-1", "internet", "servers", "pacs-1"]);
        // The zone host skips the device's address and the network address
        // left alone below it.
        assert_eq!(plan.hosts[0].v4, Some("10.60.1.3".parse().unwrap()));
        assert_eq!(plan.hosts[0].v6, Some("fd00:60:1::3".parse().unwrap()));
        assert_eq!(plan.hosts[1].v4, Some("10.60.1.1".parse().unwrap()));
        assert_eq!(plan.hosts[2].v4, Some("203.0.113.10".parse().unwrap()));
        assert_eq!(plan.hosts[2].v6, Some("3fff::10".parse().unwrap()));
        assert_eq!(plan.hosts[3].v6, None, "servers has no IPv6 network");
        let zones_of_links: Vec<&str> = plan.links.iter().map(|l| l.ifname.as_str()).collect();
        assert_eq!(zones_of_links.len(), 3);
    }

    #[test]
    fn every_rule_is_probed_named_and_reversed_with_the_expected_verdict() {
        let policy = policy();
        let plan = plan(&policy, &Config::default()).unwrap();
        for rule in &policy.rules {
            assert!(
                plan.probes
                    .iter()
                    .any(|p| p.origin == Origin::Named(rule.id)),
                "{} not probed",
                rule.name
            );
            assert!(
                plan.probes
                    .iter()
                    .any(|p| p.origin == Origin::Reverse(rule.id)),
                "{} not reversed",
                rule.name
            );
        }
        for p in &plan.probes {
            let (src, dst) = plan.addrs(p).unwrap();
            let (proto, sel) = p.kind.proto_selector(p.v6);
            assert_eq!(p.expected, policy.decide(src, dst, proto, sel));
            assert_ne!(p.src, p.dst);
        }
        // The deny wins over the allow for ws-1, and the edge ports of dicom are probed.
        let deny = policy
            .rules
            .iter()
            .find(|r| r.action == zonal_model::Action::Deny)
            .unwrap();
        assert!(plan.probes.iter().any(|p| p.expected.rule == Some(deny.id)));
        assert!(
            plan.probes
                .iter()
                .any(|p| p.kind == ProbeKind::Tcp(105) && matches!(p.origin, Origin::Edge(_)))
        );
        assert!(plan.probes.iter().any(|p| p.origin == Origin::Sample));
    }

    #[test]
    fn plans_are_deterministic_and_follow_the_seed() {
        let policy = policy();
        let a = plan(&policy, &Config::default()).unwrap();
        let b = plan(&policy, &Config::default()).unwrap();
        assert_eq!(a.probes, b.probes);
        let c = plan(
            &policy,
            &Config {
                seed: 7,
                ..Config::default()
            },
        )
        .unwrap();
        assert_ne!(a.probes, c.probes);
        let few = plan(
            &policy,
            &Config {
                samples: 0,
                ..Config::default()
            },
        )
        .unwrap();
        assert!(few.probes.iter().all(|p| p.origin != Origin::Sample));
    }

    #[test]
    fn a_binding_filters_zones_and_names_interfaces() {
        let policy = policy();
        let mut config = Config {
            zones: Some(["clinic".to_string(), "servers".to_string()].into()),
            ..Config::default()
        };
        config.interfaces.insert("clinic".into(), "vlan60".into());
        config.interfaces.insert("servers".into(), "vlan60".into());
        let plan = plan(&policy, &config).unwrap();
        assert!(plan.hosts.iter().all(|h| h.label != "internet"));
        assert_eq!(plan.links.len(), 1, "zones on one interface share it");
        assert_eq!(plan.links[0].ifname, "vlan60");
        config
            .interfaces
            .insert("clinic".into(), "no spaces allowed".into());
        assert_eq!(
            super::plan(&policy, &config).unwrap_err(),
            PlanError::BadInterface("no spaces allowed".into())
        );
        let tiny = Config {
            max_hosts: 2,
            ..Config::default()
        };
        assert!(matches!(
            super::plan(&policy, &tiny),
            Err(PlanError::TooManyHosts {
                needed: 5,
                limit: 2
            })
        ));
    }
}
