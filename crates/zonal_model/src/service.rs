//! Service sets: which protocols and ports (or ICMP types) a flow covers.

use std::collections::BTreeMap;
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
/// INVARIANT: no entry is empty, and every selector lies in the protocol's
/// [`selector_domain`].
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ServiceSet {
    by_proto: BTreeMap<u8, IntervalSet<u16>>,
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
            if *sel == selector_domain(*proto) {
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
    pub fn any() -> Self {
        let by_proto = (0..=255u8).map(|p| (p, selector_domain(p))).collect();
        ServiceSet { by_proto }
    }

    /// One protocol with a selector set (clipped to the protocol's domain).
    pub fn proto(proto: u8, selectors: IntervalSet<u16>) -> Self {
        let sel = selectors.intersect(&selector_domain(proto));
        let mut by_proto = BTreeMap::new();
        if !sel.is_empty() {
            by_proto.insert(proto, sel);
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
        self.by_proto.len() == 256 && self.by_proto.iter().all(|(p, s)| *s == selector_domain(*p))
    }

    /// Whether `(proto, selector)` is covered. For protocols without
    /// selectors pass 0.
    pub fn contains(&self, proto: u8, selector: u16) -> bool {
        let sel = if selector_kind(proto) == SelectorKind::None {
            0
        } else {
            selector
        };
        self.by_proto.get(&proto).is_some_and(|s| s.contains(sel))
    }

    /// The protocols present, ascending.
    pub fn protocols(&self) -> impl Iterator<Item = u8> + '_ {
        self.by_proto.keys().copied()
    }

    /// Each protocol with its selectors, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &IntervalSet<u16>)> + '_ {
        self.by_proto.iter().map(|(p, s)| (*p, s))
    }

    /// The selectors of one protocol (empty if absent).
    pub fn selectors(&self, proto: u8) -> IntervalSet<u16> {
        self.by_proto.get(&proto).cloned().unwrap_or_default()
    }

    /// Whether the protocol is present with its whole selector domain.
    pub fn has_whole(&self, proto: u8) -> bool {
        self.by_proto
            .get(&proto)
            .is_some_and(|s| *s == selector_domain(proto))
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
        let mut by_proto = self.by_proto.clone();
        for (p, s) in &o.by_proto {
            let e = by_proto.entry(*p).or_default();
            *e = e.union(s);
        }
        ServiceSet { by_proto }
    }

    /// Intersection.
    #[must_use]
    pub fn intersect(&self, o: &Self) -> Self {
        let mut by_proto = BTreeMap::new();
        for (p, s) in &self.by_proto {
            if let Some(t) = o.by_proto.get(p) {
                let i = s.intersect(t);
                if !i.is_empty() {
                    by_proto.insert(*p, i);
                }
            }
        }
        ServiceSet { by_proto }
    }

    /// Difference.
    #[must_use]
    pub fn subtract(&self, o: &Self) -> Self {
        let mut by_proto = BTreeMap::new();
        for (p, s) in &self.by_proto {
            let d = match o.by_proto.get(p) {
                Some(t) => s.subtract(t),
                None => s.clone(),
            };
            if !d.is_empty() {
                by_proto.insert(*p, d);
            }
        }
        ServiceSet { by_proto }
    }

    /// Whether every service of `self` is in `o`.
    pub fn is_subset(&self, o: &Self) -> bool {
        self.subtract(o).is_empty()
    }

    /// Whether they share a service.
    pub fn overlaps(&self, o: &Self) -> bool {
        !self.intersect(o).is_empty()
    }

    /// Replaces the TCP and UDP ports by one port (for `listens SVC on PORT`).
    #[must_use]
    pub fn with_port(&self, port: u16) -> Self {
        let mut by_proto = self.by_proto.clone();
        for p in [TCP, UDP] {
            if let Some(s) = by_proto.get_mut(&p) {
                *s = IntervalSet::single(port);
            }
        }
        ServiceSet { by_proto }
    }

    /// The total number of TCP and UDP ports covered (for "wide range" lints).
    pub fn port_count(&self) -> u64 {
        [TCP, UDP]
            .iter()
            .filter_map(|p| self.by_proto.get(p))
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
        if !self.by_proto.contains_key(&other) {
            return self.clone();
        }
        let mut out = self.clone();
        out.by_proto.remove(&other);
        out
    }

    /// Whether some service of the set exists in `family`.
    pub fn fits_family(&self, family: Family) -> bool {
        self.by_proto.keys().any(|p| proto_fits(*p, family))
    }

    /// Whether every service of the set that exists in `family` is in `o`
    /// (without building the family's sets).
    pub fn is_subset_in_family(&self, o: &Self, family: Family) -> bool {
        self.by_proto.iter().all(|(p, sel)| {
            !proto_fits(*p, family)
                || o.by_proto
                    .get(p)
                    .is_some_and(|other| sel.subtract(other).is_empty())
        })
    }

    /// One example `(proto, selector)` in the set, for witnesses.
    pub fn example(&self) -> Option<(u8, u16)> {
        for pref in [TCP, UDP, ICMP, ICMPV6] {
            if let Some(s) = self.by_proto.get(&pref) {
                return s.first().map(|v| (pref, v));
            }
        }
        self.by_proto
            .iter()
            .next()
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
}
