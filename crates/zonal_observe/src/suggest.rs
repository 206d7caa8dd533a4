//! Names for what was observed: the place an address belongs to (device,
//! zone, or none), the service a packet uses (a named service where one
//! fits, else an inline term), and the `allow` line that would permit it.

use std::net::IpAddr;

use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_name};
use zonal_model::{DeviceId, Policy, ServiceSet, ZoneId};

/// Where an address belongs, as [`Policy::decide`] sees it: the device
/// that owns it, else the zone (external zones included), else nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// A declared device.
    Device(DeviceId),
    /// A zone (no device owns the address).
    Zone(ZoneId),
    /// In no zone (a policy without an `external` zone without networks).
    Nowhere,
}

impl Place {
    /// The place of an address.
    pub fn of(policy: &Policy, ip: IpAddr) -> Place {
        if let Some(d) = policy.device_of(ip) {
            return Place::Device(d);
        }
        match policy.zone_of(ip) {
            Some(z) => Place::Zone(z),
            None => Place::Nowhere,
        }
    }

    /// Its name in the policy (`None` for no zone).
    pub fn name(self, policy: &Policy) -> Option<&str> {
        match self {
            Place::Device(d) => Some(&policy.device(d).name),
            Place::Zone(z) => Some(&policy.zone(z).name),
            Place::Nowhere => None,
        }
    }

    /// Its name, or `(no zone)`.
    pub fn label(self, policy: &Policy) -> String {
        self.name(policy).unwrap_or("(no zone)").to_string()
    }
}

/// The most (protocol, selector) pairs a named service may cover to be
/// used for one observed port: `dns` (udp 53, tcp 53) and `icmp-echo` are
/// fine, a service of a whole port range is not.
const NAMED_SERVICE_MAX_PAIRS: u64 = 4;

fn pairs(set: &ServiceSet) -> u64 {
    set.iter()
        .map(|(_, sel)| {
            sel.ranges()
                .iter()
                .map(|&(a, b)| u64::from(b - a) + 1)
                .sum::<u64>()
        })
        .sum()
}

/// The service text for a packet of `proto`/`selector` to `dst`: the
/// service the destination device listens on at that port, else the
/// smallest named service covering it (at most four pairs, and not one the
/// device has moved to another port), else an inline term (`tcp 8080`,
/// `icmp 13`, `proto 47`). Ties go to the name.
pub fn service_text(policy: &Policy, dst: Place, proto: u8, selector: u16) -> String {
    let device = match dst {
        Place::Device(d) => Some(policy.device(d)),
        _ => None,
    };
    if let Some(dev) = device {
        let mut hits: Vec<(u64, &str)> = dev
            .listens
            .iter()
            .filter(|l| l.set.contains(proto, selector) && pairs(&l.set) <= NAMED_SERVICE_MAX_PAIRS)
            .map(|l| (pairs(&l.set), policy.service(l.service).name.as_str()))
            .collect();
        hits.sort_unstable();
        if let Some((_, name)) = hits.first() {
            return (*name).to_string();
        }
    }
    let moved = |id| device.is_some_and(|d| d.listens.iter().any(|l| l.service == id));
    let mut named: Vec<(u64, &str)> = policy
        .services
        .iter()
        .filter(|s| s.set.contains(proto, selector) && !moved(s.id))
        .map(|s| (pairs(&s.set), s.name.as_str()))
        .filter(|(n, _)| *n <= NAMED_SERVICE_MAX_PAIRS)
        .collect();
    named.sort_unstable();
    if let Some((_, name)) = named.first() {
        return (*name).to_string();
    }
    inline_term(proto, selector)
}

/// The inline service term for one packet: `tcp 104`, `icmp 8`, `proto 47`.
pub fn inline_term(proto: u8, selector: u16) -> String {
    match proto {
        TCP | UDP | ICMP | ICMPV6 => format!("{} {selector}", proto_name(proto)),
        p => format!("proto {p}"),
    }
}

/// What a packet is, in plain words: `tcp 104`, `icmp type 8`, `esp`.
pub fn packet_service(proto: u8, selector: u16) -> String {
    match proto {
        TCP | UDP => format!("{} {selector}", proto_name(proto)),
        ICMP | ICMPV6 => format!("{} type {selector}", proto_name(proto)),
        p => proto_name(p),
    }
}

/// A justification string with nothing a Zonal string cannot hold.
pub fn justification(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `allow FROM -> TO : SERVICE "JUSTIFICATION"`, in the canonical layout.
pub fn allow_line(from: &str, to: &str, service: &str, why: &str) -> String {
    format!(
        "allow {from} -> {to} : {service} \"{}\"",
        justification(why)
    )
}

/// Device kinds of imaging modalities.
const MODALITY_KINDS: &[&str] = &[
    "ct", "mr", "nm", "pet", "dx", "cr", "us", "mg", "xa", "rf", "bmd", "io", "px", "ot",
];

/// Whether a place is an imaging modality (by device kind or zone kind).
pub fn is_modality(policy: &Policy, place: Place) -> bool {
    match place {
        Place::Device(d) => {
            let dev = policy.device(d);
            dev.kind
                .as_deref()
                .is_some_and(|k| MODALITY_KINDS.contains(&k))
                || policy.zone(dev.zone).is("modality")
        }
        Place::Zone(z) => policy.zone(z).is("modality"),
        Place::Nowhere => false,
    }
}

fn zone_of_place(policy: &Policy, place: Place) -> Option<&zonal_model::Zone> {
    match place {
        Place::Device(d) => Some(policy.zone(policy.device(d).zone)),
        Place::Zone(z) => Some(policy.zone(z)),
        Place::Nowhere => None,
    }
}

/// Why observed traffic looks like a threat rather than a workflow, if it
/// does: guest Wi-Fi to an internal system, a modality talking to the
/// internet, anything from the internet to an internal system, or SMB,
/// RDP, NetBIOS or VNC into an end-of-support host.
pub fn threat(policy: &Policy, from: Place, to: Place, proto: u8, selector: u16) -> Option<String> {
    let fz = zone_of_place(policy, from);
    let tz = zone_of_place(policy, to);
    let internet = |z: Option<&zonal_model::Zone>| z.is_none_or(|z| z.external && !z.is("vendor"));
    let internal = |z: Option<&zonal_model::Zone>| z.is_some_and(|z| !z.external);
    if fz.is_some_and(|z| z.is("guest")) && internal(tz) {
        return Some("guest network to an internal system".into());
    }
    if is_modality(policy, from) && internet(tz) {
        return Some("a modality talking to the internet".into());
    }
    if internet(fz) && internal(tz) {
        return Some("the internet to an internal system".into());
    }
    let legacy = match to {
        Place::Device(d) => policy.device(d).legacy || policy.zone(policy.device(d).zone).legacy,
        Place::Zone(z) => policy.zone(z).legacy,
        Place::Nowhere => false,
    };
    let admin = (proto == TCP && matches!(selector, 139 | 445 | 3389 | 5900))
        || (proto == UDP && matches!(selector, 137 | 138 | 3389));
    if legacy && admin {
        return Some(format!(
            "{} into an end-of-support host",
            packet_service(proto, selector)
        ));
    }
    None
}
