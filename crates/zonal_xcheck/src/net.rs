//! Building blocks shared by the readers: address and port sets as the
//! devices understand them, number parsing, and a quote-aware tokenizer.
//!
//! These are deliberately written from scratch (no use of the model's
//! set algebra), so that a bug in the model's prefix or range helpers
//! that the renderers rely on shows up as a mismatch here.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

/// A set of addresses as a device sees it: ranges of both families and
/// IOS-style (address, wildcard) matches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Addrs {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    /// `(address, care-bits)`: matches when `ip & care == address & care`.
    v4_wild: Vec<(u32, u32)>,
    /// Whether the ranges are sorted and merged (see `normalize`).
    sorted: bool,
}

impl Addrs {
    pub(crate) fn none() -> Self {
        Addrs::default()
    }

    pub(crate) fn any() -> Self {
        Addrs {
            v4: vec![(0, u32::MAX)],
            v6: vec![(0, u128::MAX)],
            v4_wild: Vec::new(),
            sorted: true,
        }
    }

    pub(crate) fn any_v4() -> Self {
        Addrs {
            v4: vec![(0, u32::MAX)],
            ..Addrs::default()
        }
    }

    pub(crate) fn any_v6() -> Self {
        Addrs {
            v6: vec![(0, u128::MAX)],
            ..Addrs::default()
        }
    }

    pub(crate) fn host(ip: IpAddr) -> Self {
        let mut a = Addrs::none();
        a.add_range(ip, ip);
        a
    }

    /// Adds the prefix `ip/len`; host bits of `ip` are ignored only when
    /// `strict` is false (devices differ: a prefix with host bits set is
    /// an error for us either way, so callers pass `true`).
    pub(crate) fn add_prefix(&mut self, ip: IpAddr, len: u8) -> Result<(), String> {
        match ip {
            IpAddr::V4(a) => {
                if len > 32 {
                    return Err(format!("prefix length {len} is too long for IPv4"));
                }
                let v = u32::from(a);
                let host = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
                if v & host != 0 {
                    return Err(format!("{a}/{len} has host bits set"));
                }
                self.v4.push((v, v | host));
                self.sorted = false;
            }
            IpAddr::V6(a) => {
                if len > 128 {
                    return Err(format!("prefix length {len} is too long for IPv6"));
                }
                let v = u128::from(a);
                let host = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
                if v & host != 0 {
                    return Err(format!("{a}/{len} has host bits set"));
                }
                self.v6.push((v, v | host));
                self.sorted = false;
            }
        }
        Ok(())
    }

    pub(crate) fn add_range(&mut self, lo: IpAddr, hi: IpAddr) {
        match (lo, hi) {
            (IpAddr::V4(a), IpAddr::V4(b)) => self.v4.push((u32::from(a), u32::from(b))),
            (IpAddr::V6(a), IpAddr::V6(b)) => self.v6.push((u128::from(a), u128::from(b))),
            _ => {}
        }
        self.sorted = false;
    }

    /// IOS wildcard match (`10.0.0.0 0.0.0.255`).
    pub(crate) fn add_wildcard(&mut self, addr: Ipv4Addr, wildcard: Ipv4Addr) {
        let care = !u32::from(wildcard);
        self.v4_wild.push((u32::from(addr) & care, care));
    }

    pub(crate) fn extend(&mut self, o: &Addrs) {
        self.v4.extend_from_slice(&o.v4);
        self.v6.extend_from_slice(&o.v6);
        self.v4_wild.extend_from_slice(&o.v4_wild);
        self.sorted = false;
    }

    /// Sorts and merges the ranges so that `contains` can search them.
    /// Called once a set is complete; `extend` keeps the result sorted
    /// only after another `normalize`.
    pub(crate) fn normalize(&mut self) {
        fn merge<T: Ord + Copy>(v: &mut Vec<(T, T)>, succ: impl Fn(T) -> Option<T>) {
            v.sort_unstable();
            let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
            for &(lo, hi) in v.iter() {
                if let Some(last) = out.last_mut()
                    && succ(last.1).is_none_or(|n| lo <= n)
                {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                    continue;
                }
                out.push((lo, hi));
            }
            *v = out;
        }
        merge(&mut self.v4, |x: u32| x.checked_add(1));
        merge(&mut self.v6, |x: u128| x.checked_add(1));
        self.v4_wild.sort_unstable();
        self.v4_wild.dedup();
        self.sorted = true;
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        fn find<T: Ord + Copy>(v: &[(T, T)], x: T, sorted: bool) -> bool {
            if sorted {
                v.binary_search_by(|&(lo, hi)| {
                    if hi < x {
                        std::cmp::Ordering::Less
                    } else if lo > x {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Equal
                    }
                })
                .is_ok()
            } else {
                v.iter().any(|&(lo, hi)| lo <= x && x <= hi)
            }
        }
        match ip {
            IpAddr::V4(a) => {
                let v = u32::from(a);
                find(&self.v4, v, self.sorted)
                    || self.v4_wild.iter().any(|&(addr, care)| v & care == addr)
            }
            IpAddr::V6(a) => find(&self.v6, u128::from(a), self.sorted),
        }
    }
}

/// A set of ports (or ICMP types) as closed ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ports(pub(crate) Vec<(u16, u16)>);

impl Ports {
    pub(crate) fn one(p: u16) -> Self {
        Ports(vec![(p, p)])
    }

    pub(crate) fn contains(&self, p: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= p && p <= hi)
    }
}

/// A port comparison as written on Cisco devices (`eq`, `neq`, `lt`,
/// `gt`, `range`), already expanded into ranges.
pub(crate) fn cisco_port_op(op: &str, args: &[u16]) -> Option<Ports> {
    let first = *args.first()?;
    Some(match op {
        "eq" => Ports(args.iter().map(|&p| (p, p)).collect()),
        "neq" => {
            let mut v = Vec::new();
            if first > 0 {
                v.push((0, first - 1));
            }
            if first < u16::MAX {
                v.push((first + 1, u16::MAX));
            }
            Ports(v)
        }
        "lt" => {
            if first == 0 {
                Ports(Vec::new())
            } else {
                Ports(vec![(0, first - 1)])
            }
        }
        "gt" => {
            if first == u16::MAX {
                Ports(Vec::new())
            } else {
                Ports(vec![(first + 1, u16::MAX)])
            }
        }
        "range" => {
            let second = *args.get(1)?;
            Ports(vec![(first, second)])
        }
        _ => return None,
    })
}

pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    IpAddr::from_str(s).ok()
}

pub(crate) fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    Ipv4Addr::from_str(s).ok()
}

/// `a.b.c.d/len`, `v6/len` or a bare address (host).
pub(crate) fn parse_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    match s.split_once('/') {
        Some((a, l)) => {
            let ip = parse_ip(a).ok_or_else(|| format!("`{a}` is not an address"))?;
            let len: u8 = l
                .parse()
                .map_err(|_| format!("`{l}` is not a prefix length"))?;
            Ok((ip, len))
        }
        None => {
            let ip = parse_ip(s).ok_or_else(|| format!("`{s}` is not an address"))?;
            Ok((ip, if ip.is_ipv4() { 32 } else { 128 }))
        }
    }
}

/// A contiguous netmask `255.255.255.0` → 24.
pub(crate) fn mask_len(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    if m.checked_shl(len).unwrap_or(0) != 0 {
        return None;
    }
    u8::try_from(len).ok()
}

/// Adds `addr mask` with a contiguous netmask.
pub(crate) fn add_masked(set: &mut Addrs, addr: &str, mask: &str) -> Result<(), String> {
    let a = parse_v4(addr).ok_or_else(|| format!("`{addr}` is not an IPv4 address"))?;
    let m = parse_v4(mask).ok_or_else(|| format!("`{mask}` is not a netmask"))?;
    let len = mask_len(m).ok_or_else(|| format!("`{mask}` is not a contiguous netmask"))?;
    set.add_prefix(IpAddr::V4(a), len)
}

/// Adds a prefix written `a/len` (or a bare address).
pub(crate) fn add_prefix_text(set: &mut Addrs, text: &str) -> Result<(), String> {
    let (ip, len) = parse_prefix(text)?;
    set.add_prefix(ip, len)
}

/// Adds a range written `a-b`.
pub(crate) fn add_range_text(set: &mut Addrs, text: &str) -> Result<(), String> {
    let (a, b) = text
        .split_once('-')
        .ok_or_else(|| format!("`{text}` is not a range"))?;
    let lo = parse_ip(a.trim()).ok_or_else(|| format!("`{a}` is not an address"))?;
    let hi = parse_ip(b.trim()).ok_or_else(|| format!("`{b}` is not an address"))?;
    if lo.is_ipv4() != hi.is_ipv4() || lo > hi {
        return Err(format!("`{text}` is not a valid range"));
    }
    set.add_range(lo, hi);
    Ok(())
}

/// A port `104` or range `5000-5010`.
pub(crate) fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let lo = a.trim().parse().ok()?;
            let hi = b.trim().parse().ok()?;
            (lo <= hi).then_some((lo, hi))
        }
        None => {
            let p = s.trim().parse().ok()?;
            Some((p, p))
        }
    }
}

/// Splits a line into words. Double-quoted strings are one word (without
/// the quotes); `[` and `]` are words of their own.
pub(crate) fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut had_quote = false;
    for c in line.chars() {
        if in_quote {
            if c == '"' {
                in_quote = false;
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_quote = true;
                had_quote = true;
            }
            '[' | ']' => {
                if !cur.is_empty() || had_quote {
                    out.push(std::mem::take(&mut cur));
                    had_quote = false;
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() || had_quote {
                    out.push(std::mem::take(&mut cur));
                    had_quote = false;
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || had_quote {
        out.push(cur);
    }
    out
}

/// Whether two names are equal in lower case with `-`, `.` and ` ` read
/// as `_`, without allocating.
fn eq_norm(a: &str, b: &str) -> bool {
    let n = |c: char| match c {
        '-' | '.' | ' ' => '_',
        c => c.to_ascii_lowercase(),
    };
    a.trim().chars().map(n).eq(b.trim().chars().map(n))
}

/// Whether a device-side name (a vendor zone, interface or macro) stands
/// for the policy zone `zone`: equal after normalisation, possibly with a
/// type prefix or suffix such as `z_`, `zone_`, `_if`.
pub(crate) fn names_zone(device_name: &str, zone: &str) -> bool {
    let d = device_name.trim();
    if eq_norm(d, zone) {
        return true;
    }
    for p in ["z_", "zone_", "zn_", "if_", "zonal_", "zonal_z_"] {
        if let (Some(head), Some(rest)) = (d.get(..p.len()), d.get(p.len()..))
            && eq_norm(head, p)
            && eq_norm(rest, zone)
        {
            return true;
        }
    }
    for s in ["_if", "_zone", "_in"] {
        if let Some(cut) = d.len().checked_sub(s.len())
            && let (Some(head), Some(tail)) = (d.get(..cut), d.get(cut..))
            && eq_norm(tail, s)
            && eq_norm(head, zone)
        {
            return true;
        }
    }
    false
}

/// IP protocol numbers by the names the vendors use.
pub(crate) fn proto_by_name(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "ipinip" | "ipip" | "ipencap" => 4,
        "tcp" => 6,
        "egp" => 8,
        "igrp" => 9,
        "udp" => 17,
        "ipv6" | "41" => 41,
        "rsvp" => 46,
        "gre" => 47,
        "esp" | "ipsec-esp" => 50,
        "ah" | "ahp" | "ipsec-ah" => 51,
        "icmp6" | "icmpv6" | "ipv6-icmp" => 58,
        "eigrp" => 88,
        "ospf" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "sctp" => 132,
        n => return n.parse().ok(),
    })
}

/// ICMP type names (IOS, ASA, pf, generic), per family.
pub(crate) fn icmp_type_by_name(name: &str, v6: bool) -> Option<u16> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(n);
    }
    let t = if v6 {
        match name {
            "unreachable" | "destination-unreachable" | "unreach" => 1,
            "packet-too-big" | "toobig" => 2,
            "time-exceeded" | "timex" => 3,
            "parameter-problem" | "paramprob" => 4,
            "echo-request" | "echo" | "echoreq" => 128,
            "echo-reply" | "echorep" => 129,
            "router-solicitation" | "routersol" => 133,
            "router-advertisement" | "routeradv" => 134,
            "nd-ns" | "neighbor-solicitation" | "neighbrsol" => 135,
            "nd-na" | "neighbor-advertisement" | "neighbradv" => 136,
            "redirect" | "redir" => 137,
            _ => return None,
        }
    } else {
        match name {
            "echo-reply" | "echorep" => 0,
            "unreachable" | "destination-unreachable" | "unreach" => 3,
            "source-quench" | "squench" => 4,
            "redirect" | "redir" => 5,
            "alternate-address" | "althost" => 6,
            "echo" | "echo-request" | "echoreq" => 8,
            "router-advertisement" | "routeradv" => 9,
            "router-solicitation" | "routersol" => 10,
            "time-exceeded" | "timex" => 11,
            "parameter-problem" | "paramprob" => 12,
            "timestamp-request" | "timereq" => 13,
            "timestamp-reply" | "timerep" => 14,
            "information-request" | "inforeq" => 15,
            "information-reply" | "inforep" => 16,
            "mask-request" | "maskreq" => 17,
            "mask-reply" | "maskrep" => 18,
            "traceroute" | "trace" => 30,
            "conversion-error" => 31,
            "mobile-redirect" => 32,
            _ => return None,
        }
    };
    Some(t)
}

/// Cisco (IOS and ASA) port names.
pub(crate) fn cisco_port_by_name(name: &str) -> Option<u16> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(n);
    }
    Some(match name {
        "echo" => 7,
        "discard" => 9,
        "daytime" => 13,
        "chargen" => 19,
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "time" => 37,
        "nameserver" => 42,
        "whois" => 43,
        "tacacs" => 49,
        "domain" => 53,
        "bootps" => 67,
        "bootpc" => 68,
        "tftp" => 69,
        "gopher" => 70,
        "finger" => 79,
        "www" | "http" => 80,
        "kerberos" => 88,
        "hostname" => 101,
        "pop2" => 109,
        "pop3" => 110,
        "sunrpc" => 111,
        "ident" => 113,
        "nntp" => 119,
        "ntp" => 123,
        "netbios-ns" => 137,
        "netbios-dgm" => 138,
        "netbios-ss" | "netbios-ssn" => 139,
        "imap4" => 143,
        "snmp" => 161,
        "snmptrap" => 162,
        "bgp" => 179,
        "irc" => 194,
        "dnsix" => 195,
        "ldap" => 389,
        "mobile-ip" => 434,
        "https" => 443,
        "pim-auto-rp" => 496,
        "isakmp" => 500,
        "biff" | "exec" => 512,
        "login" | "who" => 513,
        "cmd" | "rsh" | "syslog" => 514,
        "lpd" => 515,
        "talk" => 517,
        "rip" => 520,
        "uucp" => 540,
        "klogin" => 543,
        "kshell" => 544,
        "ldaps" => 636,
        "lotusnotes" => 1352,
        "citrix-ica" => 1494,
        "sqlnet" => 1521,
        "radius" => 1645,
        "radius-acct" => 1646,
        "h323" => 1720,
        "pptp" => 1723,
        "nfs" => 2049,
        "ctiqbe" => 2748,
        "cifs" => 3020,
        "rdp" => 3389,
        "non500-isakmp" => 4500,
        "sip" => 5060,
        "aol" => 5190,
        "secureid-udp" => 5510,
        "pcanywhere-data" => 5631,
        "pcanywhere-status" => 5632,
        "xdmcp" => 177,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_quotes_and_brackets() {
        assert_eq!(
            words(r#"set a "b c" [ d e]"#),
            ["set", "a", "b c", "[", "d", "e", "]"]
        );
        assert_eq!(words(r#"set comments """#), ["set", "comments", ""]);
    }

    #[test]
    fn masks_and_wildcards() {
        assert_eq!(mask_len(parse_v4("255.255.255.0").unwrap()), Some(24));
        assert_eq!(mask_len(parse_v4("255.0.255.0").unwrap()), None);
        let mut a = Addrs::none();
        a.add_wildcard(
            parse_v4("10.0.0.0").unwrap(),
            parse_v4("0.0.0.255").unwrap(),
        );
        assert!(a.contains("10.0.0.77".parse().unwrap()));
        assert!(!a.contains("10.0.1.77".parse().unwrap()));
        assert!(
            Addrs::none()
                .add_prefix("10.0.0.1".parse().unwrap(), 24)
                .is_err()
        );
    }

    #[test]
    fn normalised_sets_merge_and_search() {
        let mut a = Addrs::none();
        add_prefix_text(&mut a, "10.0.1.0/24").unwrap();
        add_prefix_text(&mut a, "10.0.0.0/24").unwrap();
        add_range_text(&mut a, "10.0.3.5-10.0.3.9").unwrap();
        add_prefix_text(&mut a, "fd00::/64").unwrap();
        a.normalize();
        for (ip, inside) in [
            ("10.0.0.0", true),
            ("10.0.1.255", true),
            ("10.0.2.0", false),
            ("10.0.3.4", false),
            ("10.0.3.9", true),
            ("10.0.3.10", false),
            ("fd00::ffff", true),
            ("fd00:0:0:1::", false),
        ] {
            assert_eq!(a.contains(ip.parse().unwrap()), inside, "{ip}");
        }
    }

    #[test]
    fn zone_names_match_with_prefixes() {
        assert!(names_zone("z_imaging_servers", "imaging-servers"));
        assert!(names_zone("imaging-servers", "imaging-servers"));
        assert!(!names_zone("imaging", "imaging-servers"));
    }
}
