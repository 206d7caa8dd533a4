//! The deployment binding: which firewalls exist, which target each one
//! runs, the zones it enforces between, and how zones map to interfaces or
//! vendor zones.
//!
//! ```yaml
//! firewalls:
//!   - name: core
//!     target: nftables
//!     zones:
//!       modalities: { interface: vlan110 }
//!       imaging-servers: { interface: vlan120, vendor-zone: PACS }
//!     naming: { prefix: zonal, acl: ZONAL }
//!     logging: { allow: false, deny: true, prefix: zonal }
//! ```
//!
//! YAML (serde_yaml) stays inside this module: the rest of the crate sees
//! only [`Binding`] and [`Firewall`]. Every error is a [`Diagnostic`] with a
//! position in the binding file.

use indexmap::IndexMap;
use serde::Deserialize;
use zonal_diagnostics::{Diagnostic, Diagnostics, FileId, Span, TextRange};
use zonal_model::Policy;
use zonal_syntax::suggest::did_you_mean;

use crate::Target;
use crate::device::{DeviceTraffic, Fhrp, PfMode, Routing};
use crate::escape;

/// A parsed deployment binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The firewalls, in file order.
    pub firewalls: Vec<Firewall>,
}

/// One firewall and what it enforces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firewall {
    /// Its name (output files are `<name>.<ext>`).
    pub name: String,
    /// Its target; `None` for the implicit firewall ([`Firewall::by_address`]),
    /// whose target is chosen on the command line.
    pub target: Option<Target>,
    /// The zones it enforces between; `None` means every zone, classified
    /// by address.
    pub zones: Option<Vec<ZoneBinding>>,
    /// Naming choices.
    pub naming: Naming,
    /// Logging choices.
    pub logging: Logging,
    /// The firewall's own traffic (management, routing, FHRP, …).
    pub device: DeviceTraffic,
    /// pf: an anchor (default) or a complete ruleset.
    pub pf_mode: PfMode,
    /// PAN-OS: where Zonal's rules go and whether the default rules are
    /// overridden.
    pub panos: PanosOptions,
    /// Where it is declared (its name), for diagnostics.
    pub span: Option<Span>,
}

impl Firewall {
    /// The implicit firewall used without a binding file: it enforces every
    /// zone of the policy, classifying packets by address.
    pub fn by_address(name: impl Into<String>) -> Self {
        Firewall {
            name: name.into(),
            target: None,
            zones: None,
            naming: Naming::default(),
            logging: Logging::default(),
            device: DeviceTraffic::default(),
            pf_mode: PfMode::default(),
            panos: PanosOptions::default(),
            span: None,
        }
    }

    /// The binding of a zone, if the firewall lists it.
    pub fn zone(&self, name: &str) -> Option<&ZoneBinding> {
        self.zones
            .as_ref()
            .and_then(|z| z.iter().find(|b| b.zone == name))
    }

    /// Whether every listed zone has an interface, so that packets can be
    /// classified by interface instead of by address.
    pub fn by_interface(&self) -> bool {
        self.zones
            .as_ref()
            .is_some_and(|z| !z.is_empty() && z.iter().all(|b| b.interface.is_some()))
    }
}

/// PAN-OS options of a firewall (the binding's `panos:` block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PanosOptions {
    /// The rule Zonal's block is placed after (`None`: at the top).
    pub after: Option<String>,
    /// Whether Zonal's final deny covers same-zone traffic and the two
    /// predefined default rules are overridden to deny and log.
    pub default_deny: bool,
}

/// How one zone is attached to a firewall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneBinding {
    /// The policy zone.
    pub zone: String,
    /// The interface the zone is behind (`vlan110`, `GigabitEthernet0/1`).
    pub interface: Option<String>,
    /// The vendor zone name (SRX, PAN-OS, FortiGate); defaults to the zone name.
    pub vendor_zone: Option<String>,
    /// Where the zone is named in the binding.
    pub span: Span,
}

/// Naming choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
    /// Prefix of generated names (tables, chains, objects); default `zonal`.
    pub prefix: String,
    /// Base name of ACLs (IOS, ASA); default `ZONAL`.
    pub acl: String,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            prefix: "zonal".into(),
            acl: "ZONAL".into(),
        }
    }
}

/// Logging choices. The final default deny always logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logging {
    /// Log permitted new connections (default off).
    pub allow: bool,
    /// Log packets dropped by explicit `deny` rules (default on).
    pub deny: bool,
    /// Log prefix (nftables, iptables); default `zonal`.
    pub prefix: String,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            allow: false,
            deny: true,
            prefix: "zonal".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    firewalls: Vec<RawFirewall>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFirewall {
    name: String,
    target: String,
    #[serde(default)]
    zones: Option<IndexMap<String, Option<RawZone>>>,
    #[serde(default)]
    naming: Option<RawNaming>,
    #[serde(default)]
    logging: Option<RawLogging>,
    #[serde(default)]
    device: Option<RawDevice>,
    #[serde(default, rename = "pf-mode")]
    pf_mode: Option<String>,
    #[serde(default)]
    panos: Option<RawPanos>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPanos {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    default_deny: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDevice {
    #[serde(default)]
    management: Vec<String>,
    #[serde(default)]
    management_services: Option<Vec<String>>,
    #[serde(default)]
    routing: Vec<String>,
    #[serde(default)]
    fhrp: Vec<String>,
    #[serde(default)]
    dhcp_relay: bool,
    #[serde(default)]
    ipsec_peers: Vec<String>,
    #[serde(default)]
    icmp_errors: Option<bool>,
    #[serde(default)]
    pfsync: Option<String>,
    #[serde(default)]
    addresses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawZone {
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    vendor_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNaming {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    acl: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogging {
    #[serde(default)]
    allow: Option<bool>,
    #[serde(default)]
    deny: Option<bool>,
    #[serde(default)]
    prefix: Option<String>,
}

/// Parses a binding file registered in the source database as `file`, and
/// checks it against `policy` (zone names) and each firewall's target
/// (interface and vendor names). Errors have codes `E03xx`.
#[expect(
    clippy::too_many_lines,
    reason = "one check per binding field, in the order of the file format documented in docs/deploy-binding.md"
)]
pub fn parse_binding(file: FileId, text: &str, policy: &Policy) -> Result<Binding, Diagnostics> {
    let raw: RawBinding = match serde_yaml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let offset = e.location().map_or(0, |l| l.index());
            let span = Span::new(file, TextRange::from_usize(offset, offset + 1));
            let msg = e.to_string();
            // serde_yaml appends " at line L column C"; the span already says where.
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let d = Diagnostic::error(
                "E0301",
                format!("invalid deployment binding: {msg}"),
                span,
                "here",
            )
            .with_help("see docs/deploy-binding.md for the format of binding files");
            return Err(Diagnostics(vec![d]));
        }
    };
    let mut diags = Diagnostics::new();
    let mut firewalls = Vec::new();
    let mut cursor = 0usize;
    for rf in raw.firewalls {
        let name_at = locate(text, cursor, &rf.name).unwrap_or(cursor);
        cursor = name_at + rf.name.len();
        let span = span_of(file, name_at, rf.name.len());
        if let Err(why) = escape::check_vendor_name(&rf.name, 63) {
            diags.push(
                Diagnostic::error(
                    "E0304",
                    format!("firewall name `{}` cannot be used in file names", rf.name),
                    span,
                    why,
                )
                .with_help("use letters, digits, `-` and `_`, starting with a letter"),
            );
        }
        if let Some(first) = firewalls.iter().find(|f: &&Firewall| f.name == rf.name) {
            let mut d = Diagnostic::error(
                "E0305",
                format!("firewall `{}` is defined twice", rf.name),
                span,
                "redefined here",
            )
            .with_help("give every firewall its own name: each is written to `<name>.<extension>`");
            if let Some(s) = first.span {
                d = d.with_secondary(s, "first defined here");
            }
            diags.push(d);
        }
        let target = match Target::parse(&rf.target) {
            Some(t) => Some(t),
            None => {
                let at = locate(text, name_at, &rf.target).unwrap_or(name_at);
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                let mut d = Diagnostic::error(
                    "E0302",
                    format!("unknown target `{}`", rf.target),
                    span_of(file, at, rf.target.len()),
                    "not a target Zonal renders",
                )
                .with_note(format!("the targets are: {}", names.join(", ")));
                if let Some(s) = did_you_mean(&rf.target, names.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                None
            }
        };
        let naming = match rf.naming {
            Some(n) => Naming {
                prefix: n.prefix.unwrap_or_else(|| Naming::default().prefix),
                acl: n.acl.unwrap_or_else(|| Naming::default().acl),
            },
            None => Naming::default(),
        };
        let logging = match rf.logging {
            Some(l) => Logging {
                allow: l.allow.unwrap_or(false),
                deny: l.deny.unwrap_or(true),
                prefix: l.prefix.unwrap_or_else(|| Logging::default().prefix),
            },
            None => Logging::default(),
        };
        for (what, value) in [
            ("naming prefix", &naming.prefix),
            ("ACL name", &naming.acl),
            ("log prefix", &logging.prefix),
        ] {
            if let Err(why) = escape::check_vendor_name(value, 20) {
                let at = locate(text, name_at, value).unwrap_or(name_at);
                diags.push(
                    Diagnostic::error(
                        "E0304",
                        format!("{what} `{value}` is not a safe name"),
                        span_of(file, at, value.len()),
                        why,
                    )
                    .with_help(
                        "use at most 20 letters, digits, `-` and `_`, starting with a letter",
                    ),
                );
            }
        }
        let zones = rf.zones.map(|zones| {
            let mut out: Vec<ZoneBinding> = Vec::new();
            for (zone, rz) in zones {
                let at = locate(text, name_at, &zone).unwrap_or(name_at);
                let zspan = span_of(file, at, zone.len());
                if policy.zone_by_name(&zone).is_none() {
                    let mut d = Diagnostic::error(
                        "E0303",
                        format!("unknown zone `{zone}` in deployment binding"),
                        zspan,
                        "no zone of this name in the policy",
                    );
                    if let Some(s) = did_you_mean(&zone, policy.zones.iter().map(|z| z.name.as_str())) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
                let (interface, vendor_zone) = rz.map(|r| (r.interface, r.vendor_zone)).unwrap_or_default();
                if let (Some(t), Some(ifname)) = (target, &interface) {
                    if let Err(why) = escape::check_interface(t, ifname) {
                        let at = locate(text, at, ifname).unwrap_or(at);
                        diags.push(
                            Diagnostic::error(
                                "E0304",
                                format!("interface name `{ifname}` is not safe for {t}"),
                                span_of(file, at, ifname.len()),
                                why,
                            )
                            .with_help("use the interface name as the device shows it: letters, digits, `_ . / : -`"),
                        );
                    }
                    // ASA: several zones behind one interface share its ACL
                    // (the internet and a vendor's peers behind `outside`).
                    if let Some(other) = out.iter().find(|b| {
                        t != Target::Asa
                            && b.interface.as_deref().is_some_and(|i| escape::same_interface(t, i, ifname))
                    }) {
                        diags.push(
                            Diagnostic::error(
                                "E0306",
                                format!("interface `{ifname}` is bound to two zones, `{}` and `{zone}`", other.zone),
                                zspan,
                                "second zone on the same interface",
                            )
                            .with_secondary(other.span, "first bound here")
                            .with_help("a packet's zone must follow from its interface; bind each interface to one zone"),
                        );
                    }
                }
                if let (Some(t), Some(vz)) = (target, &vendor_zone)
                    && let Err(why) = escape::check_vendor_name(vz, escape::limits(t).vendor_zone_max)
                {
                    {
                        let at = locate(text, at, vz).unwrap_or(at);
                        diags.push(
                            Diagnostic::error(
                                "E0304",
                                format!("vendor zone name `{vz}` is not safe for {t}"),
                                span_of(file, at, vz.len()),
                                why,
                            )
                            .with_help("use letters, digits, `-` and `_`, starting with a letter"),
                        );
                    }
                }
                out.push(ZoneBinding { zone, interface, vendor_zone, span: zspan });
            }
            out
        });
        let device = match rf.device {
            Some(raw) => device(
                raw,
                target,
                &mut |value, what, help| {
                    let at = locate(text, name_at, value).unwrap_or(name_at);
                    diags.push(
                        Diagnostic::error(
                            "E0307",
                            format!("{what} `{value}` in the `device` block"),
                            span_of(file, at, value.len()),
                            "not understood",
                        )
                        .with_help(help),
                    );
                },
                policy,
            ),
            None => DeviceTraffic::default(),
        };
        let pf_mode = match rf.pf_mode.as_deref() {
            None | Some("anchor") => PfMode::Anchor,
            Some("ruleset") => PfMode::Ruleset,
            Some(other) => {
                let at = locate(text, name_at, other).unwrap_or(name_at);
                diags.push(
                    Diagnostic::error(
                        "E0307",
                        format!("unknown pf mode `{other}`"),
                        span_of(file, at, other.len()),
                        "not a pf mode",
                    )
                    .with_help("write `pf-mode: anchor` (the default) or `pf-mode: ruleset`"),
                );
                PfMode::Anchor
            }
        };
        let panos = match rf.panos {
            Some(raw) => {
                if let Some(after) = &raw.after
                    && let Err(why) = escape::check_vendor_name(after, 63)
                {
                    let at = locate(text, name_at, after).unwrap_or(name_at);
                    diags.push(
                        Diagnostic::error(
                            "E0341",
                            format!("PAN-OS rule name `{after}` in `panos: after` is not a rule name Zonal can write"),
                            span_of(file, at, after.len()),
                            why,
                        )
                        .with_help("name an existing security rule: at most 63 letters, digits, `-` and `_`, starting with a letter"),
                    );
                }
                PanosOptions {
                    after: raw.after,
                    default_deny: raw.default_deny,
                }
            }
            None => PanosOptions::default(),
        };
        firewalls.push(Firewall {
            name: rf.name,
            target,
            zones,
            naming,
            logging,
            device,
            pf_mode,
            panos,
            span: Some(span),
        });
    }
    if diags.is_empty() {
        Ok(Binding { firewalls })
    } else {
        Err(diags)
    }
}

/// Reads the `device:` block; `bad(value, what, help)` reports a value
/// that is not understood.
fn device(
    raw: RawDevice,
    target: Option<Target>,
    bad: &mut dyn FnMut(&str, &str, &str),
    policy: &Policy,
) -> DeviceTraffic {
    let mut out = DeviceTraffic::default();
    for source in &raw.management {
        if let Some(zone) = policy.zone_by_name(source) {
            out.management.extend(zone.networks.iter().copied());
        } else {
            match zonal_model::Prefix::parse(source) {
                Ok(p) => out.management.push(p),
                Err(_) => bad(
                    source,
                    "management source",
                    "write an address, a prefix such as `10.20.5.0/24`, or a zone of the policy",
                ),
            }
        }
    }
    if let Some(names) = &raw.management_services {
        out.management_services = zonal_model::ServiceSet::empty();
        for name in names {
            match policy.service_by_name(name) {
                Some(s) => out.management_services = out.management_services.union(&s.set),
                None => bad(
                    name,
                    "unknown management service",
                    "name a service of the policy or the prelude, such as `ssh`, `https` or `snmp`",
                ),
            }
        }
    }
    for name in &raw.routing {
        match Routing::ALL.iter().find(|r| r.name() == name) {
            Some(r) => out.routing.push(*r),
            None => bad(
                name,
                "unknown routing protocol",
                "use ospf, ospfv3, eigrp, bgp, rip, ripng or pim",
            ),
        }
    }
    for name in &raw.fhrp {
        match Fhrp::ALL.iter().find(|f| f.name() == name) {
            Some(f) => out.fhrp.push(*f),
            None => bad(
                name,
                "unknown redundancy protocol",
                "use hsrp, vrrp or carp",
            ),
        }
    }
    out.routing.sort();
    out.routing.dedup();
    out.fhrp.sort();
    out.fhrp.dedup();
    for peer in &raw.ipsec_peers {
        match zonal_model::Prefix::parse(peer) {
            Ok(p) => out.ipsec_peers.push(p),
            Err(_) => bad(
                peer,
                "IPsec peer",
                "write the peer's address, such as `203.0.113.7`",
            ),
        }
    }
    out.management.sort();
    out.management.dedup();
    out.ipsec_peers.sort();
    out.ipsec_peers.dedup();
    for addr in &raw.addresses {
        match zonal_model::Prefix::parse(addr) {
            Ok(p) => out.addresses.push(p),
            Err(_) => bad(
                addr,
                "device address",
                "write one of the box's own addresses, such as `10.20.110.1`",
            ),
        }
    }
    out.addresses.sort();
    out.addresses.dedup();
    out.dhcp_relay = raw.dhcp_relay;
    out.icmp_errors = raw.icmp_errors.unwrap_or(true);
    if let Some(ifname) = raw.pfsync {
        let safe = target.is_none_or(|t| escape::check_interface(t, &ifname).is_ok());
        if target != Some(Target::Pf) {
            bad(
                &ifname,
                "pfsync interface",
                "`pfsync` applies to pf firewalls only",
            );
        } else if !safe {
            bad(
                &ifname,
                "pfsync interface",
                "use the interface name as `ifconfig` shows it",
            );
        } else {
            out.pfsync = Some(ifname);
        }
    }
    out
}

fn span_of(file: FileId, at: usize, len: usize) -> Span {
    Span::new(file, TextRange::from_usize(at, at + len.max(1)))
}

/// The first occurrence of `needle` at or after `from` that is not part of
/// a longer word (serde_yaml keeps no spans for values, so values are
/// found in the text).
fn locate(text: &str, from: usize, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut start = from.min(text.len());
    while let Some(i) = text.get(start..)?.find(needle) {
        let at = start + i;
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + needle.len()..).and_then(|s| s.chars().next());
        if !before.is_some_and(word) && !after.is_some_and(word) {
            return Some(at);
        }
        start = at + needle.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_whole_words() {
        let t = "zones:\n  pacs-1: {}\n  pacs: {}\n";
        assert_eq!(locate(t, 0, "pacs"), t.find("  pacs:").map(|i| i + 2));
    }
}
