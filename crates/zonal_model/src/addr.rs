//! Addresses, prefixes and address sets (IPv4 and IPv6).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::sets::IntervalSet;

/// An IP prefix such as `10.20.110.0/24` or `fd00::/64` (host bits clear).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Prefix(ipnet::IpNet);

/// Why a prefix did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrefixError {
    /// Not an address.
    Invalid,
    /// Host bits are set; carries the corrected prefix.
    HostBits(Prefix),
}

impl Prefix {
    /// Parses `addr/len` or a bare address (a host prefix).
    pub fn parse(text: &str) -> Result<Prefix, PrefixError> {
        if text.contains('/') {
            let net = ipnet::IpNet::from_str(text).map_err(|_| PrefixError::Invalid)?;
            if net.trunc() != net {
                return Err(PrefixError::HostBits(Prefix(net.trunc())));
            }
            Ok(Prefix(net))
        } else {
            let ip = IpAddr::from_str(text).map_err(|_| PrefixError::Invalid)?;
            Ok(Prefix::host(ip))
        }
    }

    /// The host prefix of one address.
    pub fn host(ip: IpAddr) -> Prefix {
        Prefix(ipnet::IpNet::from(ip))
    }

    /// Builds a prefix; host bits are cleared. `None` if `len` is too long.
    pub fn new(ip: IpAddr, len: u8) -> Option<Prefix> {
        ipnet::IpNet::new(ip, len).ok().map(|n| Prefix(n.trunc()))
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.0.network()
    }

    /// The prefix length.
    #[expect(
        clippy::len_without_is_empty,
        reason = "a prefix length, not a collection size"
    )]
    pub fn len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Whether this is a single address (/32 or /128).
    pub fn is_host(&self) -> bool {
        self.0.prefix_len() == self.0.max_prefix_len()
    }

    /// Whether it is IPv4.
    pub fn is_v4(&self) -> bool {
        matches!(self.0, ipnet::IpNet::V4(_))
    }

    /// The netmask, e.g. `255.255.255.0`.
    pub fn netmask(&self) -> IpAddr {
        self.0.netmask()
    }

    /// The inverse mask used by Cisco ACLs, e.g. `0.0.0.255`.
    pub fn hostmask(&self) -> IpAddr {
        self.0.hostmask()
    }

    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }

    /// The set of addresses of this prefix.
    pub fn to_set(&self) -> AddrSet {
        match self.0 {
            ipnet::IpNet::V4(n) => AddrSet {
                v4: IntervalSet::range(u32::from(n.network()), u32::from(n.broadcast())),
                v6: IntervalSet::empty(),
            },
            ipnet::IpNet::V6(n) => AddrSet {
                v4: IntervalSet::empty(),
                v6: IntervalSet::range(u128::from(n.network()), u128::from(n.broadcast())),
            },
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// IP address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// A set of IPv4 and IPv6 addresses.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct AddrSet {
    v4: IntervalSet<u32>,
    v6: IntervalSet<u128>,
}

impl AddrSet {
    /// No address.
    pub fn empty() -> Self {
        AddrSet::default()
    }

    /// Every IPv4 and IPv6 address.
    pub fn full() -> Self {
        AddrSet {
            v4: IntervalSet::full(),
            v6: IntervalSet::full(),
        }
    }

    /// Every address of one family.
    pub fn full_family(family: Family) -> Self {
        match family {
            Family::V4 => AddrSet {
                v4: IntervalSet::full(),
                v6: IntervalSet::empty(),
            },
            Family::V6 => AddrSet {
                v4: IntervalSet::empty(),
                v6: IntervalSet::full(),
            },
        }
    }

    /// The union of some prefixes.
    pub fn from_prefixes<'a>(prefixes: impl IntoIterator<Item = &'a Prefix>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for p in prefixes {
            let s = p.to_set();
            v4.extend_from_slice(s.v4.ranges());
            v6.extend_from_slice(s.v6.ranges());
        }
        AddrSet {
            v4: IntervalSet::from_ranges(v4),
            v6: IntervalSet::from_ranges(v6),
        }
    }

    /// The union of inclusive address ranges (IPv4, IPv6), in any order.
    pub fn from_ranges(v4: Vec<(u32, u32)>, v6: Vec<(u128, u128)>) -> Self {
        AddrSet {
            v4: IntervalSet::from_ranges(v4),
            v6: IntervalSet::from_ranges(v6),
        }
    }

    /// One address.
    pub fn single(ip: IpAddr) -> Self {
        Prefix::host(ip).to_set()
    }

    /// Whether it holds no address.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Whether it holds every address of both families.
    pub fn is_full(&self) -> bool {
        self.v4.is_full() && self.v6.is_full()
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    /// Union.
    #[must_use]
    pub fn union(&self, o: &Self) -> Self {
        AddrSet {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
        }
    }

    /// The union of many sets, merged in one pass.
    pub fn union_all(sets: impl IntoIterator<Item = AddrSet>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut count = 0usize;
        let mut only = AddrSet::empty();
        for s in sets {
            count += 1;
            v4.extend_from_slice(s.v4.ranges());
            v6.extend_from_slice(s.v6.ranges());
            if count == 1 {
                only = s;
            }
        }
        if count == 1 {
            return only;
        }
        AddrSet {
            v4: IntervalSet::from_ranges(v4),
            v6: IntervalSet::from_ranges(v6),
        }
    }

    /// Intersection.
    #[must_use]
    pub fn intersect(&self, o: &Self) -> Self {
        AddrSet {
            v4: self.v4.intersect(&o.v4),
            v6: self.v6.intersect(&o.v6),
        }
    }

    /// Difference.
    #[must_use]
    pub fn subtract(&self, o: &Self) -> Self {
        AddrSet {
            v4: self.v4.subtract(&o.v4),
            v6: self.v6.subtract(&o.v6),
        }
    }

    /// Complement (in both families).
    #[must_use]
    pub fn complement(&self) -> Self {
        AddrSet {
            v4: self.v4.complement(),
            v6: self.v6.complement(),
        }
    }

    /// Whether every address of `self` is in `o`.
    pub fn is_subset(&self, o: &Self) -> bool {
        self.v4.is_subset(&o.v4) && self.v6.is_subset(&o.v6)
    }

    /// Whether they share an address.
    pub fn overlaps(&self, o: &Self) -> bool {
        self.v4.overlaps(&o.v4) || self.v6.overlaps(&o.v6)
    }

    /// Only the addresses of one family.
    #[must_use]
    pub fn family(&self, family: Family) -> Self {
        match family {
            Family::V4 => AddrSet {
                v4: self.v4.clone(),
                v6: IntervalSet::empty(),
            },
            Family::V6 => AddrSet {
                v4: IntervalSet::empty(),
                v6: self.v6.clone(),
            },
        }
    }

    /// Whether the set has an address of this family.
    pub fn has_family(&self, family: Family) -> bool {
        match family {
            Family::V4 => !self.v4.is_empty(),
            Family::V6 => !self.v6.is_empty(),
        }
    }

    /// The IPv4 intervals, as integers.
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        self.v4.ranges()
    }

    /// The IPv6 intervals, as integers.
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        self.v6.ranges()
    }

    /// The minimal list of prefixes covering exactly this set, IPv4 first,
    /// each family in ascending order. Adjacent prefixes are merged.
    pub fn to_prefixes(&self) -> Vec<Prefix> {
        let mut out = Vec::new();
        for &(lo, hi) in self.v4.ranges() {
            for (a, len) in range_to_cidrs(u128::from(lo), u128::from(hi), 32) {
                let ip = IpAddr::V4(Ipv4Addr::from(u32::try_from(a).unwrap_or(u32::MAX)));
                out.extend(Prefix::new(ip, len));
            }
        }
        for &(lo, hi) in self.v6.ranges() {
            for (a, len) in range_to_cidrs(lo, hi, 128) {
                out.extend(Prefix::new(IpAddr::V6(Ipv6Addr::from(a)), len));
            }
        }
        out
    }

    /// How many prefixes [`AddrSet::to_prefixes`] would return, without
    /// building them.
    pub fn prefix_count(&self) -> usize {
        let mut n = 0;
        for &(lo, hi) in self.v4.ranges() {
            for_each_block(u128::from(lo), u128::from(hi), 32, |_, _| n += 1);
        }
        for &(lo, hi) in self.v6.ranges() {
            for_each_block(lo, hi, 128, |_, _| n += 1);
        }
        n
    }

    /// A few representative addresses of the set (first, last and the
    /// middle of each interval, per family), for probes and witnesses.
    pub fn samples(&self, max: usize) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for &(lo, hi) in self.v4.ranges() {
            for v in [lo, lo + (hi - lo) / 2, hi] {
                let ip = IpAddr::V4(Ipv4Addr::from(v));
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
        for &(lo, hi) in self.v6.ranges() {
            for v in [lo, lo + (hi - lo) / 2, hi] {
                let ip = IpAddr::V6(Ipv6Addr::from(v));
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
        out.truncate(max);
        out
    }

    /// Some address of the set, preferring IPv4.
    pub fn first(&self) -> Option<IpAddr> {
        self.v4
            .first()
            .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
            .or_else(|| self.v6.first().map(|v| IpAddr::V6(Ipv6Addr::from(v))))
    }
}

/// Splits `[lo, hi]` into aligned blocks `(start, prefix_len)` in a space of
/// `bits` bits.
fn range_to_cidrs(lo: u128, hi: u128, bits: u8) -> Vec<(u128, u8)> {
    let mut out = Vec::new();
    for_each_block(lo, hi, bits, |start, len| out.push((start, len)));
    out
}

/// Calls `f(start, prefix_len)` for each aligned block of `[lo, hi]`, in
/// ascending order: at most `2 * bits` blocks, each found in constant time
/// (the block at `cur` is the largest that is aligned there and does not
/// pass `hi`).
fn for_each_block(lo: u128, hi: u128, bits: u8, mut f: impl FnMut(u128, u8)) {
    let bits32 = u32::from(bits);
    let mut cur = lo;
    loop {
        let align = if cur == 0 {
            bits32
        } else {
            cur.trailing_zeros().min(bits32)
        };
        // The addresses left, `hi - cur + 1`, as a power of two at most:
        // `remaining_log` is the largest k with 2^k <= hi - cur + 1.
        let span = hi - cur; // hi >= cur
        let remaining_log = if span == u128::MAX {
            128
        } else {
            127 - (span + 1).leading_zeros()
        };
        let size_log = align.min(remaining_log).min(bits32);
        f(cur, bits - u8::try_from(size_log).unwrap_or(bits));
        let last = if size_log >= 128 {
            u128::MAX
        } else {
            cur + ((1u128 << size_log) - 1)
        };
        if last >= hi {
            break;
        }
        cur = last + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow twin of [`for_each_block`]: shrinks the block one bit at a
    /// time from its alignment.
    fn slow_blocks(lo: u128, hi: u128, bits: u8) -> Vec<(u128, u8)> {
        let mut out = Vec::new();
        let mut cur = lo;
        loop {
            let align = if cur == 0 {
                u32::from(bits)
            } else {
                cur.trailing_zeros().min(u32::from(bits))
            };
            let mut size_log = align;
            let last_of = |size_log: u32| {
                if size_log >= 128 {
                    u128::MAX
                } else {
                    cur + ((1u128 << size_log) - 1)
                }
            };
            while size_log > 0 && !(last_of(size_log) <= hi && last_of(size_log) >= cur) {
                size_log -= 1;
            }
            out.push((cur, bits - u8::try_from(size_log).unwrap()));
            let last = last_of(size_log);
            if last >= hi {
                break;
            }
            cur = last + 1;
        }
        out
    }

    #[test]
    fn blocks_agree_with_the_slow_twin() {
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let edges = [
            0u128,
            1,
            2,
            255,
            256,
            u128::from(u32::MAX),
            u128::MAX - 1,
            u128::MAX,
        ];
        for bits in [32u8, 128] {
            let max = if bits == 32 {
                u128::from(u32::MAX)
            } else {
                u128::MAX
            };
            let mut cases: Vec<(u128, u128)> = Vec::new();
            for &a in &edges {
                for &b in &edges {
                    if a <= b && b <= max {
                        cases.push((a, b));
                    }
                }
            }
            for _ in 0..3000 {
                let (a, b) = (next() & max, next() & max);
                // Short ranges as well as long ones.
                let b2 = a.saturating_add(next() % 4096).min(max);
                cases.push((a.min(b), a.max(b)));
                cases.push((a, b2));
            }
            for (lo, hi) in cases {
                assert_eq!(
                    range_to_cidrs(lo, hi, bits),
                    slow_blocks(lo, hi, bits),
                    "{lo}..={hi} /{bits}"
                );
            }
        }
        let s = AddrSet::full().subtract(&AddrSet::from_prefixes(&[
            Prefix::parse("10.1.2.3").unwrap(),
            Prefix::parse("fd00::17").unwrap(),
        ]));
        assert_eq!(s.prefix_count(), s.to_prefixes().len());
        assert_eq!(s.prefix_count(), 32 + 128);
    }

    fn p(s: &str) -> Prefix {
        Prefix::parse(s).unwrap()
    }

    #[test]
    fn host_bits_are_reported_with_the_fix() {
        assert_eq!(
            Prefix::parse("10.20.110.5/24"),
            Err(PrefixError::HostBits(p("10.20.110.0/24")))
        );
        assert_eq!(Prefix::parse("10.0.0.1").unwrap().len(), 32);
        assert_eq!(Prefix::parse("nonsense"), Err(PrefixError::Invalid));
    }

    #[test]
    fn prefixes_round_trip_and_merge() {
        let s = AddrSet::from_prefixes(&[p("10.0.0.0/25"), p("10.0.0.128/25"), p("fd00::/64")]);
        let got: Vec<String> = s.to_prefixes().iter().map(ToString::to_string).collect();
        assert_eq!(got, ["10.0.0.0/24", "fd00::/64"]);
        let odd = AddrSet::from_prefixes(&[p("10.0.0.0/24")])
            .subtract(&AddrSet::from_prefixes(&[p("10.0.0.16/28")]));
        let got: Vec<String> = odd.to_prefixes().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "10.0.0.0/28",
                "10.0.0.32/27",
                "10.0.0.64/26",
                "10.0.0.128/25"
            ]
        );
        let all: Vec<String> = AddrSet::full()
            .to_prefixes()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(all, ["0.0.0.0/0", "::/0"]);
    }
}
