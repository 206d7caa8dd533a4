//! Seeded packets drawn from a policy: addresses from zones, devices,
//! zone edges and the outside; services from the named services, the
//! rules' terms and random ports and protocols; both directions and both
//! address families.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{AddrSet, Policy, ServiceSet};

use crate::Config;
use zonal_synth::Rng;

/// Why a packet was generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// The first packet of a new connection (TCP SYN without ACK).
    New,
    /// The reply of a connection the policy allows (stateless targets).
    Reply,
    /// A packet from a service port to a client port that is not known
    /// to be a reply (stateless targets): the source-port-hole probe.
    Unsolicited,
}

/// One probe packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Source port (TCP, UDP), 0 otherwise.
    pub sport: u16,
    /// Destination port (TCP, UDP), ICMP type (ICMP, ICMPv6), 0 otherwise.
    pub selector: u16,
    /// TCP: ACK set (a segment of an established connection), else SYN.
    pub ack: bool,
    /// Why it was generated.
    pub kind: ProbeKind,
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ProbeKind::New => "new",
            ProbeKind::Reply => "reply",
            ProbeKind::Unsolicited => "unsolicited",
        };
        match self.proto {
            TCP | UDP => {
                let p = if self.proto == TCP { "tcp" } else { "udp" };
                let flags = match (self.proto, self.ack) {
                    (TCP, true) => " [ACK]",
                    (TCP, false) => " [SYN]",
                    _ => "",
                };
                write!(
                    f,
                    "{kind} {p} {}:{} -> {}:{}{flags}",
                    show(self.src),
                    self.sport,
                    show(self.dst),
                    self.selector
                )
            }
            ICMP | ICMPV6 => {
                let p = if self.proto == ICMP { "icmp" } else { "icmpv6" };
                write!(
                    f,
                    "{kind} {p} type {} {} -> {}",
                    self.selector, self.src, self.dst
                )
            }
            n => write!(f, "{kind} proto {n} {} -> {}", self.src, self.dst),
        }
    }
}

fn show(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// A pool of interesting addresses, per family.
struct Pool {
    v4: Vec<IpAddr>,
    v6: Vec<IpAddr>,
    /// Address sets to sample uniformly from (zones, devices, terms).
    sets: Vec<AddrSet>,
}

/// The services worth probing: `(proto, lo, hi)`.
type Svc = (u8, u16, u16);

fn services_of(set: &ServiceSet, out: &mut Vec<Svc>) {
    let any = set.is_any();
    for (proto, sel) in set.iter() {
        // `any` covers all 256 protocols; keep the interesting ones.
        if any && ![TCP, UDP, ICMP, ICMPV6, 50, 47].contains(&proto) {
            continue;
        }
        for &(lo, hi) in sel.ranges() {
            out.push((proto, lo, hi));
        }
    }
}

fn random_in(rng: &mut Rng, set: &AddrSet, v6: Option<bool>) -> Option<IpAddr> {
    let v4r = set.v4_ranges();
    let v6r = set.v6_ranges();
    let use_v6 = match v6 {
        Some(f) => f,
        None => {
            if v4r.is_empty() {
                true
            } else if v6r.is_empty() {
                false
            } else {
                rng.chance(50)
            }
        }
    };
    if use_v6 {
        let &(lo, hi) = rng.pick(v6r)?;
        Some(IpAddr::V6(Ipv6Addr::from(rng.range_u128(lo, hi))))
    } else {
        let &(lo, hi) = rng.pick(v4r)?;
        let v = rng.range_u128(u128::from(lo), u128::from(hi));
        Some(IpAddr::V4(Ipv4Addr::from(u32::try_from(v).unwrap_or(lo))))
    }
}

fn build_pool(policy: &Policy, rng: &mut Rng) -> Pool {
    let mut pool = Pool {
        v4: Vec::new(),
        v6: Vec::new(),
        sets: Vec::new(),
    };
    let push = |ip: IpAddr, pool: &mut Pool| {
        let v = if ip.is_ipv4() {
            &mut pool.v4
        } else {
            &mut pool.v6
        };
        if !v.contains(&ip) {
            v.push(ip);
        }
    };
    for z in &policy.zones {
        // Zone edges and just outside them: catches netmask and range
        // off-by-one errors.
        for &(lo, hi) in z.addrs.v4_ranges() {
            for v in [Some(lo), Some(hi), lo.checked_sub(1), hi.checked_add(1)]
                .into_iter()
                .flatten()
            {
                push(IpAddr::V4(Ipv4Addr::from(v)), &mut pool);
            }
        }
        for &(lo, hi) in z.addrs.v6_ranges() {
            for v in [Some(lo), Some(hi), lo.checked_sub(1), hi.checked_add(1)]
                .into_iter()
                .flatten()
            {
                push(IpAddr::V6(Ipv6Addr::from(v)), &mut pool);
            }
        }
        for p in &z.networks {
            push(p.addr(), &mut pool);
        }
        pool.sets.push(z.addrs.clone());
        for _ in 0..3 {
            if let Some(ip) = random_in(rng, &z.addrs, None) {
                push(ip, &mut pool);
            }
        }
    }
    for d in &policy.devices {
        for p in &d.addresses {
            push(p.addr(), &mut pool);
        }
        pool.sets.push(d.addrs.clone());
    }
    // Outside every zone (or in the external zone).
    for _ in 0..8 {
        if let Some(ip) = random_in(rng, &AddrSet::full(), Some(false)) {
            push(ip, &mut pool);
        }
        if let Some(ip) = random_in(rng, &AddrSet::full(), Some(true)) {
            push(ip, &mut pool);
        }
    }
    pool
}

fn pick_addr(rng: &mut Rng, pool: &Pool, v6: bool) -> Option<IpAddr> {
    if rng.chance(60) {
        let list = if v6 { &pool.v6 } else { &pool.v4 };
        return rng.pick(list).copied();
    }
    let set = rng.pick(&pool.sets)?;
    random_in(rng, set, Some(v6))
        .or_else(|| rng.pick(if v6 { &pool.v6 } else { &pool.v4 }).copied())
}

fn pick_selector(rng: &mut Rng, lo: u16, hi: u16) -> u16 {
    match rng.below(6) {
        0 => lo,
        1 => hi,
        2 => lo.saturating_sub(1),
        3 => hi.saturating_add(1),
        _ => rng.range_u16(lo, hi),
    }
}

fn random_service(rng: &mut Rng, v6: bool) -> (u8, u16) {
    match rng.below(10) {
        0..=3 => (TCP, rng.range_u16(0, u16::MAX)),
        4..=5 => (UDP, rng.range_u16(0, u16::MAX)),
        6 => {
            if v6 {
                (
                    ICMPV6,
                    *rng.pick(&[128u16, 129, 1, 2, 3, 135, 136, 0, 8])
                        .unwrap_or(&128),
                )
            } else {
                (ICMP, *rng.pick(&[8u16, 0, 3, 11, 13, 128]).unwrap_or(&8))
            }
        }
        7 => (*rng.pick(&[50u8, 51, 47, 132, 89, 4]).unwrap_or(&50), 0),
        8 => {
            let p = u8::try_from(rng.below(256)).unwrap_or(0);
            (p, 0)
        }
        _ => (
            TCP,
            *rng.pick(&[22u16, 80, 104, 443, 445, 2575, 2762, 3389, 11112])
                .unwrap_or(&104),
        ),
    }
}

/// Fixes the selector for the protocol (0 for protocols without one) and
/// keeps ICMP with IPv4 and ICMPv6 with IPv6.
fn normalise(proto: u8, sel: u16, v6: bool) -> Option<(u8, u16)> {
    match proto {
        TCP | UDP => Some((proto, sel)),
        ICMP if v6 => None,
        ICMPV6 if !v6 => None,
        // Neighbour and router discovery is link-local: a router consumes
        // it and never forwards it, so it is not a probe of forwarding.
        ICMPV6 if (133..=137).contains(&sel) => None,
        ICMP | ICMPV6 => Some((proto, sel.min(255))),
        p => Some((p, 0)),
    }
}

/// A new-connection probe from client port 40000, for the readers' unit
/// tests.
#[cfg(test)]
pub(crate) fn pkt(src: &str, dst: &str, proto: u8, selector: u16) -> Packet {
    Packet {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        proto,
        sport: 40000,
        selector,
        ack: false,
        kind: ProbeKind::New,
    }
}

/// Generates the probe set.
#[expect(
    clippy::too_many_lines,
    reason = "one block per kind of probe packet, each documented where it is generated"
)]
pub(crate) fn generate(policy: &Policy, stateless: bool, config: &Config) -> Vec<Packet> {
    // Salted so that a seed does not draw the same numbers here as in the
    // other users of the generator.
    let mut rng = Rng::new(config.seed ^ 0x5851_f42d_4c95_7f2d);
    let pool = build_pool(policy, &mut rng);
    let mut svcs: Vec<Svc> = Vec::new();
    for s in &policy.services {
        services_of(&s.set, &mut svcs);
    }
    // Each term with its services, listed once.
    let terms: Vec<_> = policy
        .rules
        .iter()
        .flat_map(|r| r.terms.iter())
        .map(|t| {
            let mut ts = Vec::new();
            services_of(&t.services, &mut ts);
            (t, ts)
        })
        .collect();
    for (_, ts) in &terms {
        svcs.extend_from_slice(ts);
    }
    let mut service_ports: Vec<u16> = svcs
        .iter()
        .filter(|s| s.0 == TCP || s.0 == UDP)
        .map(|s| s.1)
        .collect();
    service_ports.sort_unstable();
    service_ports.dedup();

    let mut out = Vec::with_capacity(config.packets + config.packets / 2);
    let mut attempts = 0usize;
    let mut main = 0usize;
    while main < config.packets && attempts < config.packets * 20 {
        attempts += 1;
        let v6 = rng.chance(40);
        let strategy = rng.below(100);
        let (mut src, mut dst, proto, sel);
        if strategy < 45 && !terms.is_empty() {
            // Inside (or at the edge of) a rule's term, forward or reversed.
            let Some((t, ts)) = rng.pick(&terms) else {
                continue;
            };
            let (Some(s), Some(d)) = (
                random_in(&mut rng, &t.src, Some(v6)),
                random_in(&mut rng, &t.dst, Some(v6)),
            ) else {
                continue;
            };
            src = s;
            dst = d;
            let Some(&(p, lo, hi)) = rng.pick(ts) else {
                continue;
            };
            proto = p;
            sel = pick_selector(&mut rng, lo, hi);
            if rng.chance(20) {
                std::mem::swap(&mut src, &mut dst);
            }
        } else {
            let (Some(s), Some(d)) = (
                pick_addr(&mut rng, &pool, v6),
                pick_addr(&mut rng, &pool, v6),
            ) else {
                continue;
            };
            src = s;
            dst = d;
            if strategy < 80 && !svcs.is_empty() {
                let Some(&(p, lo, hi)) = rng.pick(&svcs) else {
                    continue;
                };
                proto = p;
                sel = pick_selector(&mut rng, lo, hi);
            } else {
                (proto, sel) = random_service(&mut rng, v6);
            }
        }
        let Some((proto, sel)) = normalise(proto, sel, v6) else {
            continue;
        };
        let ports = proto == TCP || proto == UDP;
        let mut sport = if ports {
            rng.range_u16(1024, u16::MAX)
        } else {
            0
        };
        let mut kind = ProbeKind::New;
        if stateless && ports && rng.chance(25) {
            // A packet from a well-known service port: a source-port hole
            // (`permit tcp host X eq 104 any`) lets it through.
            sport = rng.pick(&service_ports).copied().unwrap_or(104);
            kind = ProbeKind::Unsolicited;
        }
        let ack = stateless && proto == TCP && kind == ProbeKind::Unsolicited && rng.chance(50);
        let pkt = Packet {
            src,
            dst,
            proto,
            sport,
            selector: sel,
            ack,
            kind,
        };
        out.push(pkt);
        main += 1;
    }
    out
}

/// The reply packet of a connection (stateless targets).
pub(crate) fn reply_of(p: &Packet) -> Option<Packet> {
    let (proto, selector, sport) = match p.proto {
        TCP | UDP => (p.proto, p.sport, p.selector),
        ICMP if p.selector == 8 => (ICMP, 0, 0),
        ICMPV6 if p.selector == 128 => (ICMPV6, 129, 0),
        ICMP | ICMPV6 => return None,
        other => (other, 0, 0),
    };
    Some(Packet {
        src: p.dst,
        dst: p.src,
        proto,
        sport,
        selector,
        ack: proto == TCP,
        kind: ProbeKind::Reply,
    })
}
