//! Independent readers of rendered firewall configurations, cross-checked
//! against the reference decision function [`Policy::decide`].
//!
//! For pf, Cisco IOS, Cisco ASA, Juniper SRX, PAN-OS and FortiGate there is
//! no device here to load a config into, so this crate parses each
//! target's rendered *text* back into that device's own evaluation model
//! (pf's quick/last-match with implicit pass, IOS first match per bound
//! ACL with implicit deny and reflexive sessions, ASA interface ACLs with security
//! levels, SRX zone-pair contexts with global policies and the default
//! policy, the PAN-OS rulebase with its two default rules, and the
//! FortiGate policy list with intra-zone behaviour and schedules). It
//! then evaluates many seeded packets on that model and compares every
//! verdict with [`Policy::decide`].
//!
//! INVARIANT: this crate shares no code with `zonal_backend`; it uses the
//! model only for [`Policy::decide`] and the policy's zones, devices and
//! rules (to choose packets and to name the deciding rule).

mod asa;
mod forti;
mod ios;
mod net;
mod panos;
mod pf;
mod probe;
mod srx;

use std::collections::BTreeMap;
use std::fmt;

use zonal_model::{Action, Date, Policy};

pub use probe::{Packet, ProbeKind};

/// A target this crate can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// OpenBSD pf.conf.
    Pf,
    /// Cisco IOS / IOS-XE extended ACLs (stateless).
    Ios,
    /// Cisco ASA.
    Asa,
    /// Juniper SRX (set commands).
    Srx,
    /// Palo Alto PAN-OS (set commands).
    PanOs,
    /// Fortinet FortiGate CLI.
    FortiGate,
}

impl Target {
    /// Every target, in a fixed order.
    pub const ALL: [Target; 6] = [
        Target::Pf,
        Target::Ios,
        Target::Asa,
        Target::Srx,
        Target::PanOs,
        Target::FortiGate,
    ];

    /// The target's name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Target::Pf => "pf",
            Target::Ios => "ios",
            Target::Asa => "asa",
            Target::Srx => "srx",
            Target::PanOs => "panos",
            Target::FortiGate => "fortigate",
        }
    }

    /// Parses a target name (a few common spellings are accepted).
    pub fn from_name(name: &str) -> Option<Target> {
        Some(match name.to_ascii_lowercase().as_str() {
            "pf" => Target::Pf,
            "ios" | "cisco-ios" | "cisco_ios" | "iosxe" | "ios-xe" => Target::Ios,
            "asa" | "cisco-asa" | "cisco_asa" => Target::Asa,
            "srx" | "junos" | "juniper-srx" | "juniper_srx" => Target::Srx,
            "panos" | "pan-os" | "paloalto" | "palo-alto" => Target::PanOs,
            "fortigate" | "fortios" | "forti" => Target::FortiGate,
            _ => return None,
        })
    }

    /// Whether the device keeps no connection state (return traffic must
    /// be permitted by explicit entries).
    pub fn stateless(self) -> bool {
        matches!(self, Target::Ios)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The rendered text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The target.
    pub target: Target,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} reader: line {}: {}",
            self.target, self.line, self.message
        )
    }
}

impl std::error::Error for ReadError {}

/// What the device model decided about one packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the packet passes.
    pub allow: bool,
    /// The 1-based line of the config entry that decided, if any.
    pub line: Option<usize>,
    /// That entry's text, or a description of the implicit behaviour
    /// that decided (`implicit deny`, `intrazone-default`, …).
    pub why: String,
}

impl Decision {
    pub(crate) fn at(allow: bool, line: usize, text: &str) -> Self {
        Decision {
            allow,
            line: Some(line),
            why: text.trim().to_string(),
        }
    }

    pub(crate) fn implicit(allow: bool, why: impl Into<String>) -> Self {
        Decision {
            allow,
            line: None,
            why: why.into(),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.allow { "permit" } else { "deny" };
        match self.line {
            Some(l) => write!(f, "{verb} by line {l}: `{}`", self.why),
            None => write!(f, "{verb} by {}", self.why),
        }
    }
}

/// Where a packet is on the device: the policy zones of its source and
/// destination (the ingress and egress side), and the date.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Env<'a> {
    pub(crate) src_zone: Option<&'a str>,
    pub(crate) dst_zone: Option<&'a str>,
    pub(crate) today: Date,
    /// The device's names (interface, vendor zone) for the two zones, when
    /// known in advance ([`Device::side`]); readers look them up otherwise.
    pub(crate) src_side: Option<&'a str>,
    pub(crate) dst_side: Option<&'a str>,
    /// Whether `src_side` and `dst_side` were looked up in advance.
    pub(crate) sides_known: bool,
}

impl<'a> Env<'a> {
    /// The device's name for the source side.
    pub(crate) fn src(&self, dev: &dyn Device) -> Option<String> {
        if self.sides_known {
            return self.src_side.map(str::to_string);
        }
        self.src_zone.and_then(|z| dev.side(z))
    }

    /// The device's name for the destination side.
    pub(crate) fn dst(&self, dev: &dyn Device) -> Option<String> {
        if self.sides_known {
            return self.dst_side.map(str::to_string);
        }
        self.dst_zone.and_then(|z| dev.side(z))
    }
}

/// A device model read back from rendered text.
pub(crate) trait Device {
    /// The verdict for one packet. `None` when the packet cannot reach
    /// the device in this model (an address in no zone on a zone-based
    /// device): such packets are counted as skipped, never as passes.
    fn decide(&self, pkt: &Packet, env: &Env<'_>) -> Option<Decision>;

    /// The device's name (interface, vendor zone, macro) for a policy
    /// zone, `None` when the config does not name it.
    fn side(&self, zone: &str) -> Option<String>;

    /// Whether replies of this protocol need explicit entries (no state).
    fn stateless_for(&self, _proto: u8) -> bool {
        false
    }

    /// Why this device documents that it leaves `pkt` to configuration
    /// Zonal does not own (counted in [`Report::excluded`], not compared),
    /// given the decision it made.
    fn leaves(&self, _pkt: &Packet, _env: &Env<'_>, _got: &Decision) -> Option<&'static str> {
        None
    }

    /// The configuration the model holds, one line per entry in table
    /// order (see [`state`]); empty where the reader does not list it.
    fn state(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether only genuine replies (probes of kind [`ProbeKind::Reply`])
    /// may pass where the policy denies: every other packet the device
    /// permits and `decide()` denies is a mismatch, whatever it looks like
    /// (a datagram from a service port, an ACK segment).
    fn strict_replies(&self) -> bool {
        false
    }

    /// Whether the device filters a packet where it enters (an interface
    /// ACL sees every packet leaving its zone, whatever the destination):
    /// with a binding, packets from a listed zone to any address are
    /// compared, and packets from elsewhere are only run through the
    /// device (they may open sessions whose replies are compared).
    fn filters_by_ingress(&self) -> bool {
        false
    }
}

/// The configuration a device holds after loading `text` (several
/// versions and foreign configuration pasted one after the other, with the
/// device's merge semantics), one line per entry in table order: compare
/// the lines of foreign entries before and after a deployment. Listed for
/// FortiGate (`section id: field=value …`) and ASA (ACEs, bindings, object
/// groups); empty for the other targets.
pub fn state(target: Target, text: &str) -> Result<Vec<String>, ReadError> {
    Ok(read(target, text)?.state())
}

/// Reads rendered text into the target's device model.
fn read(target: Target, text: &str) -> Result<Box<dyn Device>, ReadError> {
    let r: Result<Box<dyn Device>, (usize, String)> = match target {
        Target::Pf => pf::read(text).map(|d| Box::new(d) as Box<dyn Device>),
        Target::Ios => ios::read(text).map(|d| Box::new(d) as Box<dyn Device>),
        Target::Asa => asa::read(text).map(|d| Box::new(d) as Box<dyn Device>),
        Target::Srx => srx::read(text).map(|d| Box::new(d) as Box<dyn Device>),
        Target::PanOs => panos::read(text).map(|d| Box::new(d) as Box<dyn Device>),
        Target::FortiGate => forti::read(text).map(|d| Box::new(d) as Box<dyn Device>),
    };
    r.map_err(|(line, message)| ReadError {
        target,
        line,
        message,
    })
}

/// How many packets to evaluate, from which seed, and which zones the
/// firewall stands between.
#[derive(Clone, Debug)]
pub struct Config {
    /// Packets per policy and target (replies of allowed connections on
    /// stateless targets come on top).
    pub packets: usize,
    /// The seed of the packet generator.
    pub seed: u64,
    /// The deployment binding, when the config was rendered with one:
    /// policy zone → the device's name for it (interface, vendor zone), or
    /// `None` for a zone classified by address. Only packets between
    /// listed zones cross this firewall; others are not compared. Without
    /// a binding every zone is enforced and names are matched by the
    /// readers (zone names, descriptions, the renderer's comments).
    pub zones: Option<BTreeMap<String, Option<String>>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            packets: 10_000,
            seed: 0x2026_1128,
            zones: None,
        }
    }
}

/// What the policy says about a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Whether it must pass.
    pub allow: bool,
    /// The deciding rule's name, or `default deny`, with the reason on
    /// stateless targets (`reply of …`).
    pub why: String,
}

/// One packet on which the device model and the policy disagree.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The packet.
    pub packet: Packet,
    /// What the policy says.
    pub expected: Expected,
    /// What the device model did.
    pub got: Decision,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let want = if self.expected.allow { "allow" } else { "deny" };
        write!(
            f,
            "{}: policy says {want} ({}), config says {}",
            self.packet, self.expected.why, self.got
        )
    }
}

/// The outcome of cross-checking one rendered config.
#[derive(Clone, Debug)]
pub struct Report {
    /// The target.
    pub target: Target,
    /// Packets evaluated and compared.
    pub evaluated: usize,
    /// Of those, how many the policy allows.
    pub allowed: usize,
    /// Reply probes (stateless targets), included in `evaluated`.
    pub replies: usize,
    /// Packets the device model could not place (no zone), not compared.
    pub skipped: usize,
    /// Packets not compared because the target documents that it cannot
    /// express them (see [`approximation`]).
    pub excluded: usize,
    /// Every disagreement.
    pub mismatches: Vec<Mismatch>,
}

impl Report {
    /// Whether the config enforces exactly the policy on every packet.
    pub fn is_clean(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// A readable summary with the first few mismatches.
    pub fn summary(&self, max: usize) -> String {
        let mut s = format!(
            "{}: {} packets evaluated ({} allowed, {} reply probes, {} skipped, {} excluded), {} mismatches",
            self.target,
            self.evaluated,
            self.allowed,
            self.replies,
            self.skipped,
            self.excluded,
            self.mismatches.len()
        );
        for m in self.mismatches.iter().take(max) {
            s.push_str("\n  ");
            s.push_str(&m.to_string());
        }
        if self.mismatches.len() > max {
            s.push_str(&format!("\n  … and {} more", self.mismatches.len() - max));
        }
        s
    }
}

/// Reads `text` as `target`'s config and compares it with `policy` on
/// `config.packets` seeded packets.
pub fn cross_check(
    policy: &Policy,
    target: Target,
    text: &str,
    config: &Config,
) -> Result<Report, ReadError> {
    let device = read(target, text)?;
    Ok(check_device(policy, target, device.as_ref(), config))
}

/// A device after a redeploy: its configuration before Zonal's files were
/// loaded (only the foreign configuration), after every load, and the
/// cross-check of the final state.
#[derive(Clone, Debug)]
pub struct Redeployed {
    /// The cross-check of the final state against the policy.
    pub report: Report,
    /// The configuration with only the foreign part loaded, one statement
    /// (or rule) per line, in the device's order.
    pub before: Vec<String>,
    /// The configuration after every load, in the same form.
    pub after: Vec<String>,
}

/// The redeploy simulation: a device seeded with `foreign` configuration
/// (its own syntax), then each of `loads` applied in turn with the
/// device's merge semantics (Junos `load set` with groups, the PAN-OS
/// candidate with `set`/`delete`/`move` and the documented tag clean-up,
/// `pfctl -a` replacing one anchor under a main ruleset), and the final
/// state cross-checked against `policy` (the last version).
pub fn cross_check_redeploy(
    policy: &Policy,
    target: Target,
    foreign: &str,
    loads: &[&str],
    config: &Config,
) -> Result<Redeployed, ReadError> {
    let err = |(line, message): (usize, String)| ReadError {
        target,
        line,
        message,
    };
    let (device, before, after): (Box<dyn Device>, Vec<String>, Vec<String>) = match target {
        Target::Srx => {
            let (d, b, a) = srx::redeploy(foreign, loads).map_err(err)?;
            (Box::new(d), b, a)
        }
        Target::PanOs => {
            let (d, b, a) = panos::redeploy(foreign, loads).map_err(err)?;
            (Box::new(d), b, a)
        }
        Target::Pf => {
            let (d, b, a) = pf::redeploy(foreign, loads).map_err(err)?;
            (Box::new(d), b, a)
        }
        _ => {
            return Err(ReadError {
                target,
                line: 0,
                message: "no redeploy model for this target here".into(),
            });
        }
    };
    Ok(Redeployed {
        report: check_device(policy, target, device.as_ref(), config),
        before,
        after,
    })
}

/// Compares a device model with `policy` on `config.packets` seeded packets.
fn check_device(policy: &Policy, target: Target, device: &dyn Device, config: &Config) -> Report {
    // The device's name for each policy zone, looked up once.
    let sides: Vec<Side> = policy
        .zones
        .iter()
        .map(|z| match &config.zones {
            None => Side::Named(device.side(&z.name)),
            Some(bound) => match bound.get(&z.name) {
                None => Side::Elsewhere,
                Some(Some(name)) => Side::Named(Some(name.clone())),
                Some(None) => Side::Named(device.side(&z.name)),
            },
        })
        .collect();
    let bound = config.zones.is_some();
    let mut report = Report {
        target,
        evaluated: 0,
        allowed: 0,
        replies: 0,
        skipped: 0,
        excluded: 0,
        mismatches: Vec::new(),
    };
    // Packets the device cannot place (an address in no zone on a
    // zone-based device) do not count: draw more until `packets` new
    // packets were compared, from a bounded number of batches.
    let mut batch = 0u64;
    while report.evaluated - report.replies < config.packets && batch < 50 {
        let want = config.packets - (report.evaluated - report.replies);
        let seed = config.seed.wrapping_add(batch.wrapping_mul(0x9e37_79b9));
        batch += 1;
        for pkt in probe::generate(
            policy,
            target.stateless(),
            &Config {
                packets: want.max(1000),
                seed,
                zones: None,
            },
        ) {
            if report.evaluated - report.replies >= config.packets {
                break;
            }
            let Some(allowed) = compare(policy, device, &sides, bound, &pkt, &mut report) else {
                continue;
            };
            // Every allowed connection's reply must come back where the
            // device keeps no state for the protocol.
            if allowed
                && pkt.kind == ProbeKind::New
                && device.stateless_for(pkt.proto)
                && let Some(reply) = probe::reply_of(&pkt)
            {
                compare(policy, device, &sides, bound, &reply, &mut report);
            }
        }
    }
    report
}

/// A Cisco IOS running configuration under the device's merge semantics
/// (object groups and ACLs re-entered are appended to; removing an object
/// in use fails; `ip access-group` replaces a binding), for the redeploy
/// simulation: seed it with foreign configuration, apply one version's
/// text on top of another's, and cross-check what results with
/// [`IosRunning::config`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IosRunning(ios::Running);

impl IosRunning {
    /// An empty running configuration.
    pub fn new() -> Self {
        IosRunning::default()
    }

    /// Applies configuration text as a paste into `configure terminal`;
    /// the first line the device would refuse (or that would leave an
    /// interface permitting everything) is an error.
    pub fn apply(&mut self, text: &str) -> Result<(), ReadError> {
        self.0.apply(text).map_err(|(line, message)| ReadError {
            target: Target::Ios,
            line,
            message,
        })
    }

    /// The filtering part (object groups, time ranges, ACLs, interfaces)
    /// as text for [`cross_check`] with [`Target::Ios`].
    pub fn config(&self) -> String {
        self.0.show()
    }

    /// Everything, including blocks that do not filter (`line vty`, …).
    pub fn dump(&self) -> String {
        self.0.dump()
    }

    /// A copy without the named objects and without the ACL bindings of
    /// the named interfaces (to compare what remains with the seed).
    pub fn without(&self, objects: &[String], interfaces: &[String]) -> IosRunning {
        IosRunning(self.0.without(objects, interfaces))
    }
}

/// IOS: the verdict of the inbound ACL bound on `interface` for one packet
/// entering there, whatever its destination (the switch's own traffic
/// included), on `today`. `None` when nothing is bound there for the
/// packet's family.
pub fn ios_inbound(
    text: &str,
    interface: &str,
    pkt: &Packet,
    today: Date,
) -> Result<Option<Decision>, ReadError> {
    let dev = ios::read(text).map_err(|(line, message)| ReadError {
        target: Target::Ios,
        line,
        message,
    })?;
    Ok(ios::inbound(&dev, interface, pkt, today))
}

/// The verdict of `target`'s config `text` for one packet from a host of
/// policy zone `src_zone` to one of `dst_zone` on `today`, each zone given
/// by its policy name (the reader finds the device's name for it) or
/// `None` for an address the config does not name (a zone a binding does
/// not list, an address in no zone). `None` when the model cannot place
/// the packet.
pub fn decide_packet(
    target: Target,
    text: &str,
    pkt: &Packet,
    src_zone: Option<&str>,
    dst_zone: Option<&str>,
    today: Date,
) -> Result<Option<Decision>, ReadError> {
    let dev = read(target, text)?;
    let env = Env {
        src_zone,
        dst_zone,
        today,
        src_side: None,
        dst_side: None,
        sides_known: false,
    };
    Ok(dev.decide(pkt, &env))
}

/// A packet a target documents it cannot express, with the reason. Such
/// packets are counted in [`Report::excluded`], never compared; the list
/// is short and each entry points at the target's documentation.
pub fn approximation(target: Target, pkt: &Packet) -> Option<&'static str> {
    match target {
        // docs/targets/ios.md, "The device's own traffic": ICMP errors are
        // permitted from anywhere (PMTUD, RFC 4890); a stateful target
        // passes them as related to a connection, a stateless ACL cannot
        // tell which connection they belong to.
        Target::Ios if is_icmp_error(pkt) => Some(
            "ICMP errors and packet-too-big pass IOS ACLs for PMTUD (RFC 4890): related traffic",
        ),
        // Link-local multicast and the limited broadcast are traffic to the
        // switch itself (routing hellos, FHRP, DHCP relay), never forwarded.
        Target::Ios if is_link_local_dst(pkt) => {
            Some("link-local multicast and broadcast are traffic to the switch itself")
        }
        // docs/targets/fortigate.md: "Port 0 cannot be expressed (FortiOS
        // ranges start at 1)".
        Target::FortiGate if matches!(pkt.proto, 6 | 17) && pkt.selector == 0 => {
            Some("FortiOS port ranges start at 1: TCP/UDP destination port 0 cannot be expressed")
        }
        _ => None,
    }
}

/// An ICMP or ICMPv6 error message (unreachable, packet-too-big, time
/// exceeded, parameter problem).
fn is_icmp_error(p: &Packet) -> bool {
    match p.proto {
        1 => matches!(p.selector, 3 | 11),
        58 => matches!(p.selector, 1..=4),
        _ => false,
    }
}

/// A destination in 224.0.0.0/24, ff02::/16 or 255.255.255.255.
fn is_link_local_dst(p: &Packet) -> bool {
    match p.dst {
        std::net::IpAddr::V4(a) => {
            let o = a.octets();
            (o[0] == 224 && o[1] == 0 && o[2] == 0) || a == std::net::Ipv4Addr::BROADCAST
        }
        std::net::IpAddr::V6(a) => a.segments()[0] == 0xff02,
    }
}

/// How the firewall sees one policy zone.
#[derive(Clone, Debug)]
enum Side {
    /// Behind the firewall, under this device name (`None`: by address or
    /// not named in the config).
    Named(Option<String>),
    /// Not behind this firewall (a binding that does not list it).
    Elsewhere,
}

/// Evaluates one packet on the device and on the policy and records the
/// outcome; returns whether the policy allows it (`None` if skipped).
fn compare(
    policy: &Policy,
    device: &dyn Device,
    sides: &[Side],
    bound: bool,
    pkt: &Packet,
    report: &mut Report,
) -> Option<bool> {
    if approximation(report.target, pkt).is_some() {
        report.excluded += 1;
        return None;
    }
    let src = policy.zone_of(pkt.src);
    let dst = policy.zone_of(pkt.dst);
    let side = |z: Option<zonal_model::ZoneId>| match z.and_then(|z| sides.get(z.index())) {
        Some(Side::Named(n)) => Some(n.as_deref()),
        Some(Side::Elsewhere) => None,
        // An address in no zone reaches a firewall only when it enforces
        // every zone (no binding).
        None => (!bound).then_some(None),
    };
    let (src_side, dst_side) = (side(src), side(dst));
    let (src_side, dst_side) = match (src_side, dst_side) {
        (Some(s), Some(d)) => (s, d),
        // An interface ACL judges every packet leaving a listed zone.
        (Some(s), None) if bound && device.filters_by_ingress() => (s, None),
        // A packet from elsewhere is not this firewall's to filter, but it
        // may open a session whose reply is: run it, do not compare it.
        (None, Some(d)) if bound && device.filters_by_ingress() => {
            let env = Env {
                src_zone: src.map(|z| policy.zone(z).name.as_str()),
                dst_zone: dst.map(|z| policy.zone(z).name.as_str()),
                today: policy.today,
                src_side: None,
                dst_side: d,
                sides_known: true,
            };
            device.decide(pkt, &env);
            report.skipped += 1;
            return Some(
                policy
                    .decide(pkt.src, pkt.dst, pkt.proto, pkt.selector)
                    .action
                    == Action::Allow,
            );
        }
        _ => {
            report.skipped += 1;
            return None;
        }
    };
    let env = Env {
        src_zone: src.map(|z| policy.zone(z).name.as_str()),
        dst_zone: dst.map(|z| policy.zone(z).name.as_str()),
        today: policy.today,
        src_side,
        dst_side,
        sides_known: true,
    };
    let Some(got) = device.decide(pkt, &env) else {
        report.skipped += 1;
        return None;
    };
    if device.leaves(pkt, &env, &got).is_some() {
        report.excluded += 1;
        return None;
    }
    let stateless = device.stateless_for(pkt.proto)
        && (!device.strict_replies() || pkt.kind == ProbeKind::Reply);
    let expected = expected(policy, pkt, stateless);
    report.evaluated += 1;
    if pkt.kind == ProbeKind::Reply {
        report.replies += 1;
    }
    if expected.allow {
        report.allowed += 1;
    }
    let allowed = expected.allow;
    if got.allow != expected.allow {
        report.mismatches.push(Mismatch {
            packet: pkt.clone(),
            expected,
            got,
        });
    }
    Some(allowed)
}

fn rule_name(policy: &Policy, v: zonal_model::Verdict) -> String {
    match v.rule {
        Some(id) => format!("rule `{}`", policy.rule(id).name),
        None => "default deny".to_string(),
    }
}

/// The policy's verdict for a packet. On a stateful device only new
/// connections are probed, so this is `decide` itself. On a stateless
/// device a packet must also pass when it belongs to a connection the
/// policy allows in the other direction: a TCP segment with ACK set, a
/// UDP datagram, an ICMP echo reply, another protocol's packet.
fn expected(policy: &Policy, p: &Packet, stateless: bool) -> Expected {
    let fwd = policy.decide(p.src, p.dst, p.proto, p.selector);
    if fwd.action == Action::Allow {
        return Expected {
            allow: true,
            why: rule_name(policy, fwd),
        };
    }
    if stateless && let Some((proto, sel)) = reverse_of(p) {
        let rev = policy.decide(p.dst, p.src, proto, sel);
        if rev.action == Action::Allow {
            return Expected {
                allow: true,
                why: format!(
                    "reply of a connection allowed by {}",
                    rule_name(policy, rev)
                ),
            };
        }
        return Expected {
            allow: false,
            why: format!(
                "{}; not a reply of an allowed connection ({} in reverse)",
                rule_name(policy, fwd),
                rule_name(policy, rev)
            ),
        };
    }
    Expected {
        allow: false,
        why: rule_name(policy, fwd),
    }
}

/// For a packet that could be a reply, the `(proto, selector)` of the
/// connection it would reply to (initiated by the packet's destination).
fn reverse_of(p: &Packet) -> Option<(u8, u16)> {
    use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
    match p.proto {
        TCP => p.ack.then_some((TCP, p.sport)),
        UDP => Some((UDP, p.sport)),
        ICMP => (p.selector == 0).then_some((ICMP, 8)),
        ICMPV6 => (p.selector == 129).then_some((ICMPV6, 128)),
        other => Some((other, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"policy hole { owner "xcheck" }
zone modalities {
  network 10.20.110.0/24
  device ct-1 { address 10.20.110.11 }
}
zone archive {
  network 10.20.120.0/24
  device pacs-1 { address 10.20.120.10  listens dicom }
}
allow modalities -> pacs-1 : dicom
"#;

    /// IOS ACLs for the policy above: the permit with `forward` appended,
    /// then `reply`.
    fn ios(forward: &str, reply: &str) -> String {
        format!(
            "ip access-list extended ZONAL_V4\n {reply}\n permit tcp 10.20.110.0 0.0.0.255 host 10.20.120.10 eq 104 {forward}\n deny ip any any log\nipv6 access-list ZONAL_V6\n deny ipv6 any any log\n"
        )
    }

    fn policy_of(text: &str) -> Policy {
        let today = Date::new(2026, 11, 28).unwrap();
        let loaded = zonal_model::load_str("hole.zonal", text, &zonal_model::Options { today });
        assert!(!loaded.diagnostics.has_input_errors());
        loaded.policy.unwrap()
    }

    fn policy() -> Policy {
        policy_of(POLICY)
    }

    fn config() -> Config {
        Config {
            packets: 4_000,
            ..Config::default()
        }
    }

    #[test]
    fn a_source_port_hole_on_ios_is_a_mismatch() {
        let policy = policy();
        // Reflexive: the reply passes while its session is open.
        let exact = ios("reflect R", "evaluate R");
        let report = cross_check(&policy, Target::Ios, &exact, &config()).unwrap();
        assert!(report.is_clean(), "{}", report.summary(5));
        assert!(report.replies > 0);
        // Without `established`, a SYN from the archive's port 104 to any
        // port of the modalities passes: the classic source-port hole.
        let hole = ios("", "permit tcp host 10.20.120.10 eq 104 any");
        let report = cross_check(&policy, Target::Ios, &hole, &config()).unwrap();
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.packet.kind == ProbeKind::Unsolicited
                    && m.packet.sport == 104
                    && !m.packet.ack
                    && !m.expected.allow),
            "{}",
            report.summary(5)
        );
        // Even `established` admits ACK segments the policy never allowed:
        // the cross-check is strict on IOS (only genuine replies pass).
        let established = ios(
            "",
            "permit tcp host 10.20.120.10 eq 104 10.20.110.0 0.0.0.255 established",
        );
        let report = cross_check(&policy, Target::Ios, &established, &config()).unwrap();
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.packet.kind != ProbeKind::Reply && m.packet.ack && !m.expected.allow),
            "{}",
            report.summary(5)
        );
        // Without any reply entry the replies of allowed connections are dropped.
        let report = cross_check(&policy, Target::Ios, &ios("", "remark none"), &config()).unwrap();
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.packet.kind == ProbeKind::Reply && m.expected.allow),
            "{}",
            report.summary(5)
        );
    }

    /// Issue 9: stateless reverse entries for UDP (`permit udp SERVER eq 53
    /// CLIENT`) and for every protocol (`permit ip PEER HOST`) let packets
    /// through that are no reply at all; the IOS cross-check counts them.
    #[test]
    fn stateless_udp_and_ip_reverse_entries_are_mismatches_on_ios() {
        let policy = policy_of(
            "policy p { owner \"t\" }\nzone lan { network 10.1.0.0/24 }\nzone dns { network 10.2.0.0/24 }\nzone wan { network 10.3.0.0/24 }\nallow lan -> dns : udp 53\nallow lan -> wan : any\n",
        );
        let acl = |replies: &str, forward: &str| {
            format!(
                "ip access-list extended ZONAL_V4\n{replies} permit udp 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255 eq 53{forward}\n permit ip 10.1.0.0 0.0.0.255 10.3.0.0 0.0.0.255{forward}\n deny ip any any log\nipv6 access-list ZONAL_V6\n deny ipv6 any any log\n"
            )
        };
        let holes = acl(
            " permit udp 10.2.0.0 0.0.0.255 eq 53 10.1.0.0 0.0.0.255\n permit ip 10.3.0.0 0.0.0.255 10.1.0.0 0.0.0.255\n",
            "",
        );
        let report = cross_check(&policy, Target::Ios, &holes, &config()).unwrap();
        let hole = |proto: u8| {
            report
                .mismatches
                .iter()
                .any(|m| m.packet.proto == proto && m.packet.kind != ProbeKind::Reply)
        };
        assert!(hole(17) && hole(6), "{}", report.summary(8));
        let reflexive = acl(" evaluate R\n", " reflect R");
        let report = cross_check(&policy, Target::Ios, &reflexive, &config()).unwrap();
        assert!(report.is_clean(), "{}", report.summary(5));
        assert!(report.replies > 0);
    }

    #[test]
    fn unreadable_output_is_an_error_with_its_line() {
        let err = cross_check(
            &policy(),
            Target::Srx,
            "set security policies bogus\n",
            &Config::default(),
        )
        .unwrap_err();
        assert_eq!((err.target, err.line), (Target::Srx, 1));
        assert!(err.to_string().starts_with("srx reader: line 1:"), "{err}");
    }
}
