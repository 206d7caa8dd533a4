//! The firewall's own traffic: what a real device needs to keep running
//! once Zonal's rules are loaded on it (management, routing protocols,
//! first-hop redundancy, DHCP relay, IPsec peers terminating on the box,
//! ICMP errors and path-MTU discovery).
//!
//! Targets that filter traffic to the box itself (IOS SVI ACLs, pf with a
//! full ruleset, PAN-OS intrazone rules) render these allowances before
//! any deny; the others document why they need none. Declared in the
//! binding's `device:` block (`docs/deploy-binding.md`).

use zonal_model::{Prefix, ServiceSet};

/// A routing protocol the firewall speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Routing {
    /// OSPFv2 (IP protocol 89, IPv4).
    Ospf,
    /// OSPFv3 (IP protocol 89, IPv6).
    Ospfv3,
    /// EIGRP (IP protocol 88).
    Eigrp,
    /// BGP (TCP 179).
    Bgp,
    /// RIPv2 (UDP 520).
    Rip,
    /// RIPng (UDP 521, IPv6).
    Ripng,
    /// PIM (IP protocol 103).
    Pim,
}

impl Routing {
    /// Every protocol, in the order they are documented.
    pub const ALL: [Routing; 7] = [
        Routing::Ospf,
        Routing::Ospfv3,
        Routing::Eigrp,
        Routing::Bgp,
        Routing::Rip,
        Routing::Ripng,
        Routing::Pim,
    ];

    /// The binding's name.
    pub fn name(self) -> &'static str {
        match self {
            Routing::Ospf => "ospf",
            Routing::Ospfv3 => "ospfv3",
            Routing::Eigrp => "eigrp",
            Routing::Bgp => "bgp",
            Routing::Rip => "rip",
            Routing::Ripng => "ripng",
            Routing::Pim => "pim",
        }
    }

    /// What it sends, as a service set.
    pub fn services(self) -> ServiceSet {
        match self {
            Routing::Ospf | Routing::Ospfv3 => ServiceSet::whole_proto(89),
            Routing::Eigrp => ServiceSet::whole_proto(88),
            Routing::Bgp => ServiceSet::ports(6, 179, 179),
            Routing::Rip => ServiceSet::ports(17, 520, 520),
            Routing::Ripng => ServiceSet::ports(17, 521, 521),
            Routing::Pim => ServiceSet::whole_proto(103),
        }
    }
}

/// A first-hop redundancy protocol the firewall runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fhrp {
    /// Cisco HSRP (UDP 1985; HSRPv2 for IPv6 UDP 2029).
    Hsrp,
    /// VRRP (IP protocol 112).
    Vrrp,
    /// OpenBSD CARP (IP protocol 112).
    Carp,
}

impl Fhrp {
    /// Every protocol, in the order they are documented.
    pub const ALL: [Fhrp; 3] = [Fhrp::Hsrp, Fhrp::Vrrp, Fhrp::Carp];

    /// The binding's name.
    pub fn name(self) -> &'static str {
        match self {
            Fhrp::Hsrp => "hsrp",
            Fhrp::Vrrp => "vrrp",
            Fhrp::Carp => "carp",
        }
    }

    /// What it sends, as a service set.
    pub fn services(self) -> ServiceSet {
        match self {
            Fhrp::Hsrp => {
                ServiceSet::ports(17, 1985, 1985).union(&ServiceSet::ports(17, 2029, 2029))
            }
            Fhrp::Vrrp | Fhrp::Carp => ServiceSet::whole_proto(112),
        }
    }
}

/// The firewall's own traffic, from the binding's `device:` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceTraffic {
    /// Sources that may manage the box (prefixes; zone names are expanded
    /// to the zone's networks).
    pub management: Vec<Prefix>,
    /// The management services (default `ssh` and `https`).
    pub management_services: ServiceSet,
    /// Routing protocols the box speaks with its neighbours.
    pub routing: Vec<Routing>,
    /// First-hop redundancy protocols.
    pub fhrp: Vec<Fhrp>,
    /// Whether the box relays DHCP for the bound zones (UDP 67/68).
    pub dhcp_relay: bool,
    /// IPsec peers terminating on the box (IKE UDP 500 and 4500, ESP).
    pub ipsec_peers: Vec<Prefix>,
    /// ICMP errors and path-MTU discovery (IPv4 unreachable and time
    /// exceeded; ICMPv6 packet-too-big, unreachable, time exceeded and
    /// parameter problem, RFC 4890). On by default.
    pub icmp_errors: bool,
    /// pf: the interface of the pfsync link, if the box is in a CARP pair.
    pub pfsync: Option<String>,
    /// The box's own addresses (IOS: its SVI and loopback addresses), the
    /// destination of management, unicast routing and IPsec permits on
    /// targets that cannot name "the box itself".
    pub addresses: Vec<Prefix>,
}

impl Default for DeviceTraffic {
    fn default() -> Self {
        DeviceTraffic {
            management: Vec::new(),
            management_services: ServiceSet::ports(6, 22, 22)
                .union(&ServiceSet::ports(6, 443, 443)),
            routing: Vec::new(),
            fhrp: Vec::new(),
            dhcp_relay: false,
            ipsec_peers: Vec::new(),
            icmp_errors: true,
            pfsync: None,
            addresses: Vec::new(),
        }
    }
}

impl DeviceTraffic {
    /// The parts of the block that are unicast to the firewall itself and
    /// so need its `addresses` (management, BGP, IPsec peers): a target
    /// that filters traffic to the box refuses them without addresses
    /// rather than permitting them to any host.
    pub fn needs_addresses(&self) -> Vec<&'static str> {
        [
            (!self.management.is_empty(), "management"),
            (self.routing.contains(&Routing::Bgp), "bgp"),
            (!self.ipsec_peers.is_empty(), "ipsec-peers"),
        ]
        .into_iter()
        .filter_map(|(on, what)| on.then_some(what))
        .collect()
    }

    /// The IPsec services (IKE, NAT-T, ESP).
    pub fn ipsec_services() -> ServiceSet {
        ServiceSet::ports(17, 500, 500)
            .union(&ServiceSet::ports(17, 4500, 4500))
            .union(&ServiceSet::whole_proto(50))
    }

    /// The DHCP relay services (server and client ports).
    pub fn dhcp_services() -> ServiceSet {
        ServiceSet::ports(17, 67, 68)
    }
}

/// How pf output is loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PfMode {
    /// An anchor (`anchor "zonal/<policy>"`, loaded with `pfctl -a`): the
    /// main ruleset stays the admin's.
    #[default]
    Anchor,
    /// A complete ruleset (`pfctl -f`), with the device's own traffic
    /// (ND, management, CARP/pfsync) passed first.
    Ruleset,
}
