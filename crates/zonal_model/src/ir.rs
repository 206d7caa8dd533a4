//! The resolved policy model (IR). Later phases (lints, backends, the
//! kernel proof) read only this, never the syntax tree.
//!
//! Everything is in a canonical order that does not depend on the order of
//! items in the source: zones, devices, services and groups sorted by name,
//! rules in a canonical order by their content (action, endpoints, services;
//! see the resolver's `rules` module). Ids are indexes into these vectors.

use std::fmt;
use std::net::IpAddr;

use zonal_diagnostics::Span;

use crate::addr::{AddrSet, Family, Prefix};
use crate::service::ServiceSet;

macro_rules! id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            /// The index into the owning vector.
            pub fn index(self) -> usize { self.0 as usize }
        }
    };
}
id!(
    /// Index into [`Policy::zones`].
    ZoneId
);
id!(
    /// Index into [`Policy::devices`].
    DeviceId
);
id!(
    /// Index into [`Policy::rules`].
    RuleId
);
id!(
    /// Index into [`Policy::services`].
    ServiceId
);
id!(
    /// Index into [`Policy::groups`].
    GroupId
);

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
}

impl Date {
    /// Builds a date if it exists in the Gregorian calendar.
    pub fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if !(1..=days).contains(&day) || !(1970..=9999).contains(&year) {
            return None;
        }
        Some(Date {
            year: u16::try_from(year).ok()?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.split('-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Date::new(y, m, d)
    }

    /// The date from days since 1970-01-01 (for the CLI's clock).
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = if m <= 2 { y + 1 } else { y };
        Date {
            year: u16::try_from(y).unwrap_or(9999),
            month: u8::try_from(m).unwrap_or(1),
            day: u8::try_from(d).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A zone's trust level, least trusted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// `untrusted` (guest Wi-Fi, internet).
    Untrusted,
    /// `low`, or IEC 62443 `sl1`.
    Low,
    /// `medium`, or `sl2`.
    Medium,
    /// `high`, or `sl3`.
    High,
    /// IEC 62443 `sl4`.
    VeryHigh,
}

impl Trust {
    /// Parses a trust keyword.
    pub fn parse(s: &str) -> Option<Trust> {
        Some(match s {
            "untrusted" | "sl0" => Trust::Untrusted,
            "low" | "sl1" => Trust::Low,
            "medium" | "sl2" => Trust::Medium,
            "high" | "sl3" => Trust::High,
            "sl4" => Trust::VeryHigh,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Untrusted => "untrusted",
            Trust::Low => "low",
            Trust::Medium => "medium",
            Trust::High => "high",
            Trust::VeryHigh => "sl4",
        }
    }
}

pub use crate::vocab::ZONE_KINDS;

/// The resolved policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Policy name from the header.
    pub name: String,
    /// `owner`.
    pub owner: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// Span of the header's name.
    pub header_span: Span,
    /// The date expiry is judged against.
    pub today: Date,
    /// Zones sorted by name.
    pub zones: Vec<Zone>,
    /// Devices sorted by name.
    pub devices: Vec<Device>,
    /// Named services (prelude and user) sorted by name.
    pub services: Vec<ServiceDef>,
    /// Groups sorted by name.
    pub groups: Vec<Group>,
    /// Allow and deny rules (flows and workflow legs), canonical order.
    pub rules: Vec<Rule>,
    /// `never` and `require` invariants, canonical order.
    pub invariants: Vec<Invariant>,
    /// Every `@suppress` annotation.
    pub suppressions: Vec<Suppression>,
    /// Digest of the canonical model (hex), independent of item order and
    /// formatting. Backends print it in their header.
    pub digest: String,
}

/// A zone.
#[derive(Clone, Debug)]
pub struct Zone {
    /// Its id.
    pub id: ZoneId,
    /// Its name.
    pub name: String,
    /// Span of the name in its declaration.
    pub span: Span,
    /// Span of the whole declaration.
    pub decl_span: Span,
    /// Networks as written (empty for a plain external zone).
    pub networks: Vec<Prefix>,
    /// `vlan`.
    pub vlan: Option<u16>,
    /// `trust`.
    pub trust: Option<Trust>,
    /// `kind`.
    pub kind: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `description`.
    pub description: Option<String>,
    /// `legacy` / `end-of-support`.
    pub legacy: bool,
    /// `external`.
    pub external: bool,
    /// `within PARENT`.
    pub parent: Option<ZoneId>,
    /// Devices declared in the zone, sorted by name.
    pub devices: Vec<DeviceId>,
    /// The addresses that belong to this zone: its networks minus those of
    /// zones nested within it; for an external zone without networks,
    /// every address in no internal zone and no other external zone.
    pub addrs: AddrSet,
}

impl Zone {
    /// Whether the zone has this kind or tag.
    pub fn is(&self, kind_or_tag: &str) -> bool {
        self.kind.as_deref() == Some(kind_or_tag) || self.tags.iter().any(|t| t == kind_or_tag)
    }
}

/// A device.
#[derive(Clone, Debug)]
pub struct Device {
    /// Its id.
    pub id: DeviceId,
    /// Its name.
    pub name: String,
    /// Span of the name.
    pub span: Span,
    /// Span of the whole declaration.
    pub decl_span: Span,
    /// The zone it is declared in.
    pub zone: ZoneId,
    /// Its addresses (host prefixes or small prefixes).
    pub addresses: Vec<Prefix>,
    /// Union of `addresses`.
    pub addrs: AddrSet,
    /// `kind` (ct, mr, nm, pet, dx, us, mg, pacs, vna, ris, mwl, dose, workstation, printer, …).
    pub kind: Option<String>,
    /// `vendor`.
    pub vendor: Option<String>,
    /// `model`.
    pub model: Option<String>,
    /// `os`.
    pub os: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `end-of-support` / `legacy`.
    pub legacy: bool,
    /// `wireless`.
    pub wireless: bool,
    /// `storage-commitment`.
    pub storage_commitment: bool,
    /// `move-destination`.
    pub move_destination: bool,
    /// `ae`.
    pub ae: Option<String>,
    /// `listens`.
    pub listens: Vec<Listener>,
}

/// A service a device listens on.
#[derive(Clone, Debug)]
pub struct Listener {
    /// The named service.
    pub service: ServiceId,
    /// `on PORT`.
    pub port: Option<u16>,
    /// The effective services (the named one with the port applied).
    pub set: ServiceSet,
    /// Where it is written.
    pub span: Span,
}

/// A named service.
#[derive(Clone, Debug)]
pub struct ServiceDef {
    /// Its id.
    pub id: ServiceId,
    /// Its name.
    pub name: String,
    /// Span of the name (in the prelude file for prelude services).
    pub span: Span,
    /// Whether it comes from the built-in prelude (and was not overridden).
    pub prelude: bool,
    /// What it covers.
    pub set: ServiceSet,
    /// The part written as ports and protocols, not through other
    /// services (`service x = dicom, tcp 8080` owns `tcp 8080`).
    pub own: ServiceSet,
    /// The services its definition names (`service web = http, https`
    /// names `http` and `https`), sorted: a composite's parts are used when
    /// it is.
    pub refs: Vec<ServiceId>,
    /// `description`.
    pub description: Option<String>,
}

/// A group of zones, devices and groups.
#[derive(Clone, Debug)]
pub struct Group {
    /// Its id.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// Span of the name.
    pub span: Span,
    /// The flattened members (zones and devices), sorted, without duplicates.
    pub members: Vec<Endpoint>,
    /// `description`.
    pub description: Option<String>,
}

/// A resolved endpoint: a zone, a device, or every address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// A zone (its own addresses, which include its devices).
    Zone(ZoneId),
    /// A device.
    Device(DeviceId),
    /// `any`.
    Any,
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Permit new connections.
    Allow,
    /// Drop.
    Deny,
}

impl Action {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
        }
    }
}

/// Which declaration (and which leg of it) produced a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OriginKind {
    /// An `allow` or `deny` line.
    Flow,
    /// `storage-commitment`: the N-ACTION request, modality → archive.
    StorageCommitmentRequest,
    /// `storage-commitment`: the N-EVENT-REPORT, archive → the modality's listener.
    StorageCommitmentReport,
    /// `c-move`: the C-MOVE request, requestor → archive.
    MoveRequest,
    /// `c-move`: the C-STORE sub-operations, archive → the move destination's listener.
    MoveStore,
}

impl OriginKind {
    /// Whether this is the reverse (archive-initiated) leg of a workflow.
    pub fn is_reverse_leg(self) -> bool {
        matches!(
            self,
            OriginKind::StorageCommitmentReport | OriginKind::MoveStore
        )
    }

    /// A short description of the leg for comments.
    pub fn describe(self) -> &'static str {
        match self {
            OriginKind::Flow => "flow",
            OriginKind::StorageCommitmentRequest => "storage commitment request (N-ACTION)",
            OriginKind::StorageCommitmentReport => {
                "storage commitment result (N-EVENT-REPORT, new association)"
            }
            OriginKind::MoveRequest => "C-MOVE request",
            OriginKind::MoveStore => "C-MOVE sub-operations (C-STORE to move destination)",
        }
    }
}

/// A service as written in a rule: a name (`dicom`) or an inline term (`tcp 8080`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceUse {
    /// The service name, for named services.
    pub name: Option<String>,
    /// The text as written (`dicom`, `tcp 8080`, `any`).
    pub text: String,
    /// What it covers (before per-device listener ports).
    pub set: ServiceSet,
    /// Where it is written.
    pub span: Span,
}

/// One packet-level term of a rule: every `(src, dst, service)` with
/// `src ∈ src`, `dst ∈ dst` and the service in `services` matches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    /// Source addresses.
    pub src: AddrSet,
    /// Destination addresses.
    pub dst: AddrSet,
    /// The destination endpoints this term covers.
    pub dst_endpoints: Vec<Endpoint>,
    /// Services.
    pub services: ServiceSet,
}

/// An allow or deny rule: one `allow`/`deny` line, or one leg of a workflow.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Its id (canonical order).
    pub id: RuleId,
    /// Allow or deny.
    pub action: Action,
    /// Which declaration and leg.
    pub origin: OriginKind,
    /// Span of the declaration (the whole line).
    pub span: Span,
    /// Sources, flattened through groups, sorted.
    pub src: Vec<Endpoint>,
    /// Destinations, flattened through groups, sorted.
    pub dst: Vec<Endpoint>,
    /// The names written as sources (zone, device or group names, or `any`), with spans.
    pub src_written: Vec<(String, Span)>,
    /// The names written as destinations.
    pub dst_written: Vec<(String, Span)>,
    /// The services as written.
    pub services_written: Vec<ServiceUse>,
    /// The packet-level meaning: the union of these terms.
    pub terms: Vec<Term>,
    /// `until`.
    pub until: Option<Date>,
    /// Whether `until` is before [`Policy::today`]: an expired rule is not enforced.
    pub expired: bool,
    /// The justification string.
    pub justification: Option<String>,
    /// A stable name for configs, unique within the policy, made of ASCII
    /// letters, digits and `-`: the `@name` written before the rule (e.g.
    /// `RAD-0042`; a workflow's two legs get `-req` and `-report` or
    /// `-store`), else generated from the action, the first source, the
    /// first destination and the first service as written (e.g.
    /// `allow-modalities-to-pacs-1-dicom`), so adding an endpoint or a
    /// service after the first keeps the name.
    pub name: String,
    /// The `@name` written before the rule, and where.
    pub given_name: Option<(String, Span)>,
}

impl Rule {
    /// Whether the rule is enforced (not expired).
    pub fn is_active(&self) -> bool {
        !self.expired
    }

    /// Whether the packet matches this rule's terms (ignores expiry). A
    /// packet whose addresses are of different families, or whose protocol
    /// does not exist in their family (ICMP in IPv6, ICMPv6 in IPv4), is no
    /// packet and matches nothing.
    pub fn matches(&self, src: IpAddr, dst: IpAddr, proto: u8, selector: u16) -> bool {
        let Some(family) = packet_family(src, dst) else {
            return false;
        };
        if !crate::service::proto_fits(proto, family) {
            return false;
        }
        self.terms.iter().any(|t| {
            t.services.contains(proto, selector) && t.src.contains(src) && t.dst.contains(dst)
        })
    }

    /// The source addresses of all terms.
    pub fn src_addrs(&self) -> AddrSet {
        self.terms
            .iter()
            .fold(AddrSet::empty(), |a, t| a.union(&t.src))
    }

    /// The destination addresses of all terms.
    pub fn dst_addrs(&self) -> AddrSet {
        self.terms
            .iter()
            .fold(AddrSet::empty(), |a, t| a.union(&t.dst))
    }

    /// The union of all terms' services.
    pub fn all_services(&self) -> ServiceSet {
        self.terms
            .iter()
            .fold(ServiceSet::empty(), |a, t| a.union(&t.services))
    }
}

/// The family of a packet from `src` to `dst`; `None` when they differ.
pub fn packet_family(src: IpAddr, dst: IpAddr) -> Option<Family> {
    match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => Some(Family::V4),
        (IpAddr::V6(_), IpAddr::V6(_)) => Some(Family::V6),
        _ => None,
    }
}

/// `never` (direct or transitive) or `require`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvariantKind {
    /// `never A -> B`: no permitted flow from A to B.
    NeverDirect,
    /// `never A ~> B`: no chain of permitted flows from A to B.
    NeverTransitive,
    /// `require A -> B : S`: every packet of S from A to B is permitted.
    Require,
}

/// An invariant.
#[derive(Clone, Debug)]
pub struct Invariant {
    /// Which kind.
    pub kind: InvariantKind,
    /// Span of the declaration.
    pub span: Span,
    /// From (flattened).
    pub src: Vec<Endpoint>,
    /// To (flattened).
    pub dst: Vec<Endpoint>,
    /// The names as written.
    pub src_written: Vec<(String, Span)>,
    /// The names as written.
    pub dst_written: Vec<(String, Span)>,
    /// Services as written (`any` when not written), before listener ports.
    pub services: ServiceSet,
    /// The packet-level meaning, as for a rule: the services toward each
    /// destination, with the listener ports of its devices applied.
    pub terms: Vec<Term>,
    /// Whether services were written.
    pub services_written: bool,
    /// The services as written, each with what it covers (empty when none
    /// are written).
    pub service_uses: Vec<ServiceUse>,
    /// The named services written (`never a -> b : dicom, http` names
    /// `dicom` and `http`).
    pub service_names: Vec<String>,
    /// The justification.
    pub justification: Option<String>,
}

/// An `@suppress` annotation.
#[derive(Clone, Debug)]
pub struct Suppression {
    /// The lint name or code as written.
    pub lint: String,
    /// Span of the lint name.
    pub lint_span: Span,
    /// The reason.
    pub reason: Option<String>,
    /// Expiry.
    pub until: Option<Date>,
    /// Span of the annotation.
    pub span: Span,
    /// Span of the item it applies to: findings whose primary span lies
    /// inside are suppressed.
    pub target: Span,
}

/// The deciding rule, or the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The action.
    pub action: Action,
    /// The rule that decided, `None` for the default deny.
    pub rule: Option<RuleId>,
}

impl Policy {
    /// A zone by id.
    pub fn zone(&self, id: ZoneId) -> &Zone {
        &self.zones[id.index()]
    }

    /// A device by id.
    pub fn device(&self, id: DeviceId) -> &Device {
        &self.devices[id.index()]
    }

    /// A rule by id.
    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.index()]
    }

    /// A service by id.
    pub fn service(&self, id: ServiceId) -> &ServiceDef {
        &self.services[id.index()]
    }

    /// Finds a zone by name.
    pub fn zone_by_name(&self, name: &str) -> Option<&Zone> {
        self.zones
            .binary_search_by(|z| z.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.zones[i])
    }

    /// Finds a device by name.
    pub fn device_by_name(&self, name: &str) -> Option<&Device> {
        self.devices
            .binary_search_by(|d| d.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.devices[i])
    }

    /// Finds a service by name.
    pub fn service_by_name(&self, name: &str) -> Option<&ServiceDef> {
        self.services
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.services[i])
    }

    /// Finds a group by name.
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups
            .binary_search_by(|g| g.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.groups[i])
    }

    /// The addresses of an endpoint.
    pub fn endpoint_addrs(&self, e: Endpoint) -> AddrSet {
        match e {
            Endpoint::Zone(z) => self.zone(z).addrs.clone(),
            Endpoint::Device(d) => self.device(d).addrs.clone(),
            Endpoint::Any => AddrSet::full(),
        }
    }

    /// The display name of an endpoint.
    pub fn endpoint_name(&self, e: Endpoint) -> &str {
        match e {
            Endpoint::Zone(z) => &self.zone(z).name,
            Endpoint::Device(d) => &self.device(d).name,
            Endpoint::Any => "any",
        }
    }

    /// The zones an endpoint's addresses belong to (every zone for `any`).
    pub fn endpoint_zones(&self, e: Endpoint) -> Vec<ZoneId> {
        match e {
            Endpoint::Zone(z) => vec![z],
            Endpoint::Device(d) => vec![self.device(d).zone],
            Endpoint::Any => self.zones.iter().map(|z| z.id).collect(),
        }
    }

    /// The zone an address belongs to: the most specific internal zone,
    /// else an external zone that covers it.
    pub fn zone_of(&self, ip: IpAddr) -> Option<ZoneId> {
        self.zones
            .iter()
            .find(|z| z.addrs.contains(ip))
            .map(|z| z.id)
    }

    /// The device that owns an address, if any.
    pub fn device_of(&self, ip: IpAddr) -> Option<DeviceId> {
        self.devices
            .iter()
            .find(|d| d.addrs.contains(ip))
            .map(|d| d.id)
    }

    /// Rules that are enforced (not expired).
    pub fn active_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.is_active())
    }

    /// The reference decision function: what the policy says about a new
    /// connection (or a single packet of a connectionless protocol) from
    /// `src` to `dst` with IP protocol `proto` and destination port (TCP,
    /// UDP) or ICMP type (ICMP, ICMPv6) `selector` (0 for other protocols).
    ///
    /// Expired rules do not count. Any matching `deny` wins over every
    /// `allow`; otherwise the first matching `allow` (canonical order)
    /// decides; otherwise the default deny. See `docs/semantics.md`.
    pub fn decide(&self, src: IpAddr, dst: IpAddr, proto: u8, selector: u16) -> Verdict {
        let mut allow = None;
        for r in self.active_rules() {
            if r.matches(src, dst, proto, selector) {
                match r.action {
                    Action::Deny => {
                        return Verdict {
                            action: Action::Deny,
                            rule: Some(r.id),
                        };
                    }
                    Action::Allow => {
                        if allow.is_none() {
                            allow = Some(r.id);
                        }
                    }
                }
            }
        }
        match allow {
            Some(id) => Verdict {
                action: Action::Allow,
                rule: Some(id),
            },
            None => Verdict {
                action: Action::Deny,
                rule: None,
            },
        }
    }
}
