//! A packet as [`Policy::decide`](crate::Policy::decide) sees it, and its
//! one printed form.

use std::fmt;
use std::net::IpAddr;

use crate::service::{ICMP, ICMPV6, TCP, UDP, proto_name};

/// A packet: what [`Policy::decide`](crate::Policy::decide) judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol.
    pub proto: u8,
    /// Destination port (TCP, UDP), ICMP type (ICMP, ICMPv6), or 0.
    pub selector: u16,
}

/// `tcp 10.0.0.1 -> 10.0.0.2:443`, `tcp fd00::1 -> [fd00::2]:443`,
/// `icmp 10.0.0.1 -> 10.0.0.2 type 8`, `gre 10.0.0.1 -> 10.0.0.2`.
impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = proto_name(self.proto);
        match self.proto {
            TCP | UDP => match self.dst {
                IpAddr::V4(d) => write!(f, "{name} {} -> {d}:{}", self.src, self.selector),
                IpAddr::V6(d) => write!(f, "{name} {} -> [{d}]:{}", self.src, self.selector),
            },
            ICMP | ICMPV6 => write!(
                f,
                "{name} {} -> {} type {}",
                self.src, self.dst, self.selector
            ),
            _ => write!(f, "{name} {} -> {}", self.src, self.dst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn printed_forms() {
        let p = |src: &str, dst: &str, proto, selector| Packet {
            src: ip(src),
            dst: ip(dst),
            proto,
            selector,
        };
        assert_eq!(
            p("10.0.0.1", "10.0.0.2", TCP, 443).to_string(),
            "tcp 10.0.0.1 -> 10.0.0.2:443"
        );
        assert_eq!(
            p("fd00::1", "fd00::2", UDP, 53).to_string(),
            "udp fd00::1 -> [fd00::2]:53"
        );
        assert_eq!(
            p("10.0.0.1", "10.0.0.2", ICMP, 8).to_string(),
            "icmp 10.0.0.1 -> 10.0.0.2 type 8"
        );
    }
}
