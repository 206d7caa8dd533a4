//! Service sets: which protocols and ports (or ICMP types) a flow covers.

use std::cmp::Ordering;
use std::fmt;

use crate::addr::Family;
use crate::sets::IntervalSet;

/// IP protocol number of TCP.
pub const TCP: u8 = 6;
/// IP protocol number of UDP.
pub const UDP: u8 = 17;
/// IP protocol number of ICMP.
pub const ICMP: u8 = 1;
/// IP protocol number of ICMPv6.
pub const ICMPV6: u8 = 58;

/// What a protocol's selector ranges over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorKind {
    /// Destination ports 0..=65535 (TCP, UDP).
    Port,
    /// ICMP or ICMPv6 types 0..=255.
    IcmpType,
    /// Nothing: the whole protocol (selector is always 0).
    None,
}

/// The selector kind of an IP protocol.
pub fn selector_kind(proto: u8) -> SelectorKind {
    match proto {
        TCP | UDP => SelectorKind::Port,
        ICMP | ICMPV6 => SelectorKind::IcmpType,
        _ => SelectorKind::None,
    }
}

/// The full selector range of a protocol.
pub fn selector_domain(proto: u8) -> IntervalSet<u16> {
    match selector_kind(proto) {
        SelectorKind::Port => IntervalSet::full(),
        SelectorKind::IcmpType => IntervalSet::range(0, 255),
        SelectorKind::None => IntervalSet::single(0),
    }
}

/// Whether `sel` is the whole selector domain of `proto` (without building
/// the domain).
fn is_domain(proto: u8, sel: &IntervalSet<u16>) -> bool {
    let whole = match selector_kind(proto) {
        SelectorKind::Port => (0, u16::MAX),
        SelectorKind::IcmpType => (0, 255),
        SelectorKind::None => (0, 0),
    };
    sel.ranges() == [whole]
}

/// A protocol's usual name (`tcp`, `udp`, `icmp`, `icmpv6`, `esp`, …) or its number.
pub fn proto_name(proto: u8) -> String {
    match proto {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmpv6".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        47 => "gre".into(),
        132 => "sctp".into(),
        n => n.to_string(),
    }
}

/// A set of services: for each IP protocol, the destination ports (TCP,
/// UDP), ICMP types (ICMP, ICMPv6) or the whole protocol (others).
///
/// INVARIANT: entries are sorted by protocol, one per protocol; no entry is
/// empty, and every selector lies in the protocol's [`selector_domain`].
///
/// A sorted vector rather than a map: most sets hold one to three
/// protocols, and every rule, term and service use carries one (a map's
/// node costs a few hundred bytes even for one entry; the XL benchmark
/// policy holds about a million sets). Equality and order are those of the
/// sorted `(protocol, selectors)` pairs, as with a map.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ServiceSet {
    by_proto: Vec<(u8, IntervalSet<u16>)>,
}

impl fmt::Debug for ServiceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for ServiceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            return write!(f, "any");
        }
        let mut first = true;
        for (proto, sel) in &self.by_proto {
            if !first {
                write!(f, ", ")?;
            }
            first = false;
            write!(f, "{}", proto_name(*proto))?;
            if is_domain(*proto, sel) {
                continue;
            }
            let parts: Vec<String> = sel
                .ranges()
                .iter()
                .map(|&(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    }
                })
                .collect();
            write!(f, " {}", parts.join(","))?;
        }
        Ok(())
    }
}

impl ServiceSet {
    /// No service.
    pub fn empty() -> Self {
        ServiceSet::default()
    }

    /// Every protocol, every port and type.
    ///
    /// Built once per process: the copies share the selector intervals
    /// (one allocation per copy rather than one per protocol).
    pub fn any() -> Self {
        static ANY: std::sync::LazyLock<ServiceSet> = std::sync::LazyLock::new(|| ServiceSet {
            by_proto: (0..=255u8).map(|p| (p, selector_domain(p))).collect(),
        });
        ANY.clone()
    }

    /// The selectors of `proto`, if present.
    fn get(&self, proto: u8) -> Option<&IntervalSet<u16>> {
        self.by_proto
            .binary_search_by_key(&proto, |(p, _)| *p)
            .ok()
            .map(|i| &self.by_proto[i].1)
    }

    /// One protocol with a selector set (clipped to the protocol's domain).
    pub fn proto(proto: u8, selectors: IntervalSet<u16>) -> Self {
        let sel = selectors.intersect(&selector_domain(proto));
        let mut by_proto = Vec::new();
        if !sel.is_empty() {
            by_proto.push((proto, sel));
        }
        ServiceSet { by_proto }
    }

    /// One protocol, every port/type.
    pub fn whole_proto(proto: u8) -> Self {
        Self::proto(proto, selector_domain(proto))
    }

    /// TCP or UDP ports `[lo, hi]`.
    pub fn ports(proto: u8, lo: u16, hi: u16) -> Self {
        Self::proto(proto, IntervalSet::range(lo, hi))
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.by_proto.is_empty()
    }

    /// Whether it covers every protocol, port and type.
    pub fn is_any(&self) -> bool {
        self.by_proto.len() == 256 && self.by_proto.iter().all(|(p, s)| is_domain(*p, s))
    }

    /// Whether `(proto, selector)` is covered. For protocols without
    /// selectors pass 0.
    pub fn contains(&self, proto: u8, selector: u16) -> bool {
        let sel = if selector_kind(proto) == SelectorKind::None {
            0
        } else {
            selector
        };
        self.get(proto).is_some_and(|s| s.contains(sel))
    }

    /// The protocols present, ascending.
    pub fn protocols(&self) -> impl Iterator<Item = u8> + '_ {
        self.by_proto.iter().map(|(p, _)| *p)
    }

    /// Each protocol with its selectors, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &IntervalSet<u16>)> + '_ {
        self.by_proto.iter().map(|(p, s)| (*p, s))
    }

    /// The selectors of one protocol (empty if absent).
    pub fn selectors(&self, proto: u8) -> IntervalSet<u16> {
        self.get(proto).cloned().unwrap_or_default()
    }

    /// Whether the protocol is present with its whole selector domain.
    pub fn has_whole(&self, proto: u8) -> bool {
        self.get(proto).is_some_and(|s| is_domain(proto, s))
    }

    /// Union.
    #[must_use]
    pub fn union(&self, o: &Self) -> Self {
        if self.by_proto.is_empty() {
            return o.clone();
        }
        if o.by_proto.is_empty() {
            return self.clone();
        }
        let (a, b) = (&self.by_proto, &o.by_proto);
        let mut by_proto = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    by_proto.push(a[i].clone());
                    i += 1;
                }
                Ordering::Greater => {
                    by_proto.push(b[j].clone());
                    j += 1;
                }
                Ordering::Equal => {
                    by_proto.push((a[i].0, a[i].1.union(&b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        by_proto.extend_from_slice(&a[i..]);
        by_proto.extend_from_slice(&b[j..]);
        ServiceSet { by_proto }
    }

    /// The entries of both sets for each protocol they share, in order.
    fn common<'s>(
        &'s self,
        o: &'s Self,
    ) -> impl Iterator<Item = (u8, &'s IntervalSet<u16>, &'s IntervalSet<u16>)> + 's {
        let (a, b) = (&self.by_proto, &o.by_proto);
        let (mut i, mut j) = (0, 0);
        std::iter::from_fn(move || {
            while i < a.len() && j < b.len() {
                match a[i].0.cmp(&b[j].0) {
                    Ordering::Less => i += 1,
                    Ordering::Greater => j += 1,
                    Ordering::Equal => {
                        let out = (a[i].0, &a[i].1, &b[j].1);
                        i += 1;
                        j += 1;
                        return Some(out);
                    }
                }
            }
            None
        })
    }

    /// Intersection.
    #[must_use]
    pub fn intersect(&self, o: &Self) -> Self {
        let by_proto = self
            .common(o)
            .filter_map(|(p, s, t)| {
                let i = s.intersect(t);
                (!i.is_empty()).then_some((p, i))
            })
            .collect();
        ServiceSet { by_proto }
    }

    /// Difference.
    #[must_use]
    pub fn subtract(&self, o: &Self) -> Self {
        let mut by_proto = Vec::with_capacity(self.by_proto.len());
        for (p, s) in &self.by_proto {
            let d = match o.get(*p) {
                Some(t) => s.subtract(t),
                None => s.clone(),
            };
            if !d.is_empty() {
                by_proto.push((*p, d));
            }
        }
        ServiceSet { by_proto }
    }

    /// Whether every service of `self` is in `o`.
    pub fn is_subset(&self, o: &Self) -> bool {
        self.by_proto
            .iter()
            .all(|(p, s)| o.get(*p).is_some_and(|t| s.is_subset(t)))
    }

    /// Whether they share a service.
    pub fn overlaps(&self, o: &Self) -> bool {
        self.common(o).any(|(_, s, t)| s.overlaps(t))
    }

    /// Replaces the TCP and UDP ports by one port (for `listens SVC on PORT`).
    #[must_use]
    pub fn with_port(&self, port: u16) -> Self {
        let mut by_proto = self.by_proto.clone();
        for (p, s) in &mut by_proto {
            if *p == TCP || *p == UDP {
                *s = IntervalSet::single(port);
            }
        }
        ServiceSet { by_proto }
    }

    /// The total number of TCP and UDP ports covered (for "wide range" lints).
    pub fn port_count(&self) -> u64 {
        [TCP, UDP]
            .iter()
            .filter_map(|p| self.get(*p))
            .flat_map(|s| s.ranges().iter().map(|&(a, b)| u64::from(b - a) + 1))
            .sum()
    }

    /// The services that exist in one address family: ICMP (protocol 1)
    /// only in IPv4, ICMPv6 (protocol 58) only in IPv6. The decision
    /// function, the analysis and every backend restrict services with
    /// this one function.
    pub fn for_family(&self, family: Family) -> ServiceSet {
        let other = match family {
            Family::V4 => ICMPV6,
            Family::V6 => ICMP,
        };
        if self.get(other).is_none() {
            return self.clone();
        }
        let mut out = self.clone();
        out.by_proto.retain(|(p, _)| *p != other);
        out
    }

    /// Whether some service of the set exists in `family`.
    pub fn fits_family(&self, family: Family) -> bool {
        self.by_proto.iter().any(|(p, _)| proto_fits(*p, family))
    }

    /// Whether every service of the set that exists in `family` is in `o`
    /// (without building the family's sets).
    pub fn is_subset_in_family(&self, o: &Self, family: Family) -> bool {
        self.by_proto.iter().all(|(p, sel)| {
            !proto_fits(*p, family) || o.get(*p).is_some_and(|other| sel.is_subset(other))
        })
    }

    /// One example `(proto, selector)` in the set, for witnesses.
    pub fn example(&self) -> Option<(u8, u16)> {
        for pref in [TCP, UDP, ICMP, ICMPV6] {
            if let Some(s) = self.get(pref) {
                return s.first().map(|v| (pref, v));
            }
        }
        self.by_proto
            .first()
            .and_then(|(p, s)| s.first().map(|v| (*p, v)))
    }
}

/// Whether IP protocol `proto` exists in `family`: ICMP only in IPv4,
/// ICMPv6 only in IPv6, every other protocol in both.
pub fn proto_fits(proto: u8, family: Family) -> bool {
    match family {
        Family::V4 => proto != ICMPV6,
        Family::V6 => proto != ICMP,
    }
}

/// ICMP type numbers by name, for IPv4 (`v6 == false`) or IPv6.
pub fn icmp_type_by_name(name: &str, v6: bool) -> Option<u16> {
    let t = if v6 {
        match name {
            "destination-unreachable" => 1,
            "packet-too-big" => 2,
            "time-exceeded" => 3,
            "parameter-problem" => 4,
            "echo-request" => 128,
            "echo-reply" => 129,
            "router-solicitation" => 133,
            "router-advertisement" => 134,
            "neighbor-solicitation" => 135,
            "neighbor-advertisement" => 136,
            "redirect" => 137,
            _ => return None,
        }
    } else {
        match name {
            "echo-reply" => 0,
            "destination-unreachable" => 3,
            "redirect" => 5,
            "echo-request" => 8,
            "router-advertisement" => 9,
            "router-solicitation" => 10,
            "time-exceeded" => 11,
            "parameter-problem" => 12,
            "timestamp-request" => 13,
            "timestamp-reply" => 14,
            _ => return None,
        }
    };
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `is_domain` agrees with comparing against `selector_domain`.
    #[test]
    fn domain_test_matches_the_domain() {
        for p in 0..=255u8 {
            assert!(is_domain(p, &selector_domain(p)), "{p}");
            assert!(!is_domain(p, &IntervalSet::single(1)), "{p}");
            assert!(!is_domain(p, &IntervalSet::range(0, 254)), "{p}");
        }
    }

    #[test]
    fn display_and_algebra() {
        let dns = ServiceSet::ports(UDP, 53, 53).union(&ServiceSet::ports(TCP, 53, 53));
        assert_eq!(dns.to_string(), "tcp 53, udp 53");
        assert!(ServiceSet::ports(TCP, 53, 53).is_subset(&dns));
        assert!(ServiceSet::any().is_any());
        assert!(!dns.is_any());
        assert_eq!(
            ServiceSet::any().subtract(&ServiceSet::any()),
            ServiceSet::empty()
        );
        let esp = ServiceSet::whole_proto(50);
        assert!(esp.contains(50, 1234));
        assert_eq!(esp.to_string(), "esp");
        assert_eq!(dns.with_port(5353).to_string(), "tcp 5353, udp 5353");
        assert_eq!(ServiceSet::ports(TCP, 1, 200).port_count(), 200);
    }

    /// Union, intersection, difference, subset and overlap agree with a
    /// packet-by-packet check on seeded random sets of a few protocols
    /// (TCP, UDP, ICMP and a whole protocol), small port ranges.
    #[test]
    fn algebra_matches_packets() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let protos = [TCP, UDP, ICMP, 50];
        let random = |next: &mut dyn FnMut(u64) -> u64| {
            let mut s = ServiceSet::empty();
            for _ in 0..next(4) {
                let p = protos[next(4) as usize];
                let lo = next(20) as u16;
                s = s.union(&ServiceSet::ports(p, lo, lo + next(6) as u16));
            }
            s
        };
        let packets: Vec<(u8, u16)> = protos
            .iter()
            .flat_map(|p| (0..30u16).map(move |v| (*p, v)))
            .collect();
        let (mut subsets, mut overlapping) = (0, 0);
        for _ in 0..3_000 {
            let a = random(&mut next);
            let b = random(&mut next);
            let (u, i, d) = (a.union(&b), a.intersect(&b), a.subtract(&b));
            for &(p, v) in &packets {
                let (x, y) = (a.contains(p, v), b.contains(p, v));
                assert_eq!(u.contains(p, v), x || y, "{a} | {b}");
                assert_eq!(i.contains(p, v), x && y, "{a} & {b}");
                assert_eq!(d.contains(p, v), x && !y, "{a} - {b}");
            }
            let sub = packets
                .iter()
                .all(|&(p, v)| !a.contains(p, v) || b.contains(p, v));
            let ov = packets
                .iter()
                .any(|&(p, v)| a.contains(p, v) && b.contains(p, v));
            assert_eq!(a.is_subset(&b), sub, "{a} <= {b}");
            assert_eq!(a.overlaps(&b), ov, "{a} ~ {b}");
            assert_eq!(a.is_subset(&b), d.is_empty());
            // Canonical form: equal sets compare equal.
            assert_eq!(u, b.union(&a));
            assert!(i.protocols().all(|p| !i.selectors(p).is_empty()));
            subsets += usize::from(sub);
            overlapping += usize::from(ov);
        }
        assert!(
            subsets > 200 && overlapping > 200,
            "{subsets} {overlapping}"
        );
    }
}
