//! The syntax tree of a `.zonal` file.
//!
//! Every node carries the byte range it was parsed from. The tree is
//! loss-less enough for the formatter: comments are kept in
//! [`SourceFile::comments`] with their ranges.
//!
//! Values are kept as written (numbers as `u64`, addresses as text): range
//! checks and address parsing happen in `zonal_model`, which reports them
//! with these ranges.

use zonal_diagnostics::TextRange;

/// A parsed file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SourceFile {
    /// Top-level items in source order. Items that failed to parse are
    /// [`ItemKind::Error`].
    pub items: Vec<Item>,
    /// Every `# comment` in the file, in source order.
    pub comments: Vec<Comment>,
}

/// A `#` comment, from `#` to the end of the line (newline excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The comment text including the leading `#`.
    pub text: String,
    /// Where it is.
    pub range: TextRange,
}

/// A name: `[A-Za-z_][A-Za-z0-9_.-]*`, at most 63 characters, not ending in
/// `-` or `.` (an error), never including a `-` that starts `->`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub range: TextRange,
}

/// A double-quoted string, with `\"` and `\\` escapes decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    /// The decoded value.
    pub value: String,
    /// Where it is, quotes included.
    pub range: TextRange,
}

/// An unsigned decimal number as written (not yet range checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Num {
    /// The value (saturated at `u64::MAX` on overflow).
    pub value: u64,
    /// Where it is.
    pub range: TextRange,
}

/// A date `YYYY-MM-DD` as written (not yet validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateLit {
    /// Year.
    pub year: u32,
    /// Month, 1-based.
    pub month: u32,
    /// Day, 1-based.
    pub day: u32,
    /// Where it is.
    pub range: TextRange,
}

/// An IPv4 or IPv6 address or prefix as written, e.g. `10.20.110.0/24`,
/// `10.20.110.11` or `fd00:20:110::/64`. Parsed by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrLit {
    /// The text.
    pub text: String,
    /// Where it is.
    pub range: TextRange,
}

/// A top-level item, with the annotations written before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// Suppressions written directly before the item.
    pub suppressions: Vec<Suppression>,
    /// `@name NAME` written directly before a rule: the stable name the
    /// firewall rules get on every target.
    pub name: Option<RuleName>,
    /// The whole item, annotations excluded.
    pub range: TextRange,
}

/// `@name RAD-0042`: a rule's stable name (a ticket or change id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleName {
    /// The name.
    pub name: Ident,
    /// The whole annotation.
    pub range: TextRange,
}

/// The kinds of top-level item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// `policy NAME { owner "…" description "…" }`
    Policy(PolicyDecl),
    /// `include "path.zonal"`
    Include(Include),
    /// `service NAME = TERM, …` or `override service NAME = …`
    Service(ServiceDecl),
    /// `group NAME = MEMBER, …`
    Group(GroupDecl),
    /// `zone NAME { … }`
    Zone(ZoneDecl),
    /// `allow …` / `deny …`
    Flow(FlowDecl),
    /// `storage-commitment …` / `c-move …`
    Workflow(WorkflowDecl),
    /// `never A -> B`, `never A ~> B`
    Never(NeverDecl),
    /// `require A -> B : services`
    Require(RequireDecl),
    /// An item that failed to parse; a diagnostic was reported for it.
    Error,
}

/// `@suppress LINT "reason" until DATE` — silences a lint on the next item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The lint's name or code.
    pub lint: Ident,
    /// The mandatory reason (missing reasons are a lint, so it is optional here).
    pub reason: Option<StrLit>,
    /// Optional expiry.
    pub until: Option<DateLit>,
    /// The whole annotation.
    pub range: TextRange,
}

/// The policy header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDecl {
    /// Policy name.
    pub name: Ident,
    /// `owner "…"`.
    pub owner: Option<StrLit>,
    /// `description "…"`.
    pub description: Option<StrLit>,
}

/// `include "relative/path.zonal"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    /// The path, relative to the including file's directory.
    pub path: StrLit,
}

/// A service definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDecl {
    /// `Some(range of the keyword)` when written `override service …`.
    pub override_kw: Option<TextRange>,
    /// The service name.
    pub name: Ident,
    /// The terms, at least one.
    pub terms: Vec<ServiceTerm>,
    /// `description "…"` after the terms, optional.
    pub description: Option<StrLit>,
}

/// One element of a service list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceTerm {
    /// What it is.
    pub kind: ServiceTermKind,
    /// Where it is.
    pub range: TextRange,
}

/// The kinds of service term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceTermKind {
    /// `tcp 104`, `udp 53`, `tcp 18016-18019, 18030`, or `tcp` alone (every port).
    Ports {
        /// TCP or UDP.
        proto: PortProto,
        /// Port ranges; empty means every port.
        ports: Vec<PortRange>,
    },
    /// `icmp echo-request`, `icmpv6 128`, `icmp` alone (every type).
    Icmp {
        /// `icmpv6` rather than `icmp`.
        v6: bool,
        /// Types; empty means every type.
        types: Vec<IcmpType>,
    },
    /// `proto 50`: a whole IP protocol by number.
    Protocol(Num),
    /// `any`: every protocol and port.
    Any,
    /// A reference to a named service (prelude or user-defined).
    Ref(Ident),
}

/// TCP or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortProto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// `104` or `18016-18019`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// First port.
    pub lo: Num,
    /// Last port, when a range.
    pub hi: Option<Num>,
    /// Where it is.
    pub range: TextRange,
}

/// An ICMP type by name (`echo-request`) or number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IcmpType {
    /// A name such as `echo-request`, `echo-reply`, `destination-unreachable`.
    Named(Ident),
    /// A number 0..=255.
    Number(Num),
}

/// `group NAME = a, b, c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDecl {
    /// Group name.
    pub name: Ident,
    /// Members: zones, devices or other groups.
    pub members: Vec<Ident>,
    /// `description "…"`, optional.
    pub description: Option<StrLit>,
}

/// `zone NAME { PROPERTY … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneDecl {
    /// Zone name.
    pub name: Ident,
    /// Properties and devices, in source order.
    pub props: Vec<ZoneProp>,
}

/// One zone property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneProp {
    /// What it is.
    pub kind: ZonePropKind,
    /// Where it is (keyword to last value).
    pub range: TextRange,
}

/// The kinds of zone property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZonePropKind {
    /// `network 10.20.110.0/24, fd00:110::/64`
    Network(Vec<AddrLit>),
    /// `vlan 110`
    Vlan(Num),
    /// `trust low` (untrusted, low, medium, high, sl1..sl4)
    Trust(Ident),
    /// `kind modality` (modality, pacs, ris, clinical, guest, vendor, management, dmz, external, …)
    Kind(Ident),
    /// `tags wireless, radiology`
    Tags(Vec<Ident>),
    /// `description "…"`
    Description(StrLit),
    /// `legacy` or `end-of-support`
    Legacy,
    /// `external`: addresses outside every internal zone
    External,
    /// `within PARENT`: this zone's networks are nested inside PARENT's
    Within(Ident),
    /// A device.
    Device(DeviceDecl),
}

/// `device NAME { PROPERTY … }` inside a zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceDecl {
    /// Device name.
    pub name: Ident,
    /// Properties in source order.
    pub props: Vec<DeviceProp>,
    /// Suppressions written directly before the device.
    pub suppressions: Vec<Suppression>,
}

/// One device property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceProp {
    /// What it is.
    pub kind: DevicePropKind,
    /// Where it is.
    pub range: TextRange,
}

/// The kinds of device property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DevicePropKind {
    /// `address 10.20.110.11, fd00:110::11`
    Address(Vec<AddrLit>),
    /// `kind ct`
    Kind(Ident),
    /// `vendor "Siemens"`
    Vendor(StrLit),
    /// `model "SOMATOM go.Up"`
    Model(StrLit),
    /// `os "Windows 10 IoT"`
    Os(StrLit),
    /// `description "…"`
    Description(StrLit),
    /// `end-of-support` or `legacy`
    Legacy,
    /// `wireless`
    Wireless,
    /// `storage-commitment`: the device expects storage-commitment results
    /// on its own listener.
    StorageCommitment,
    /// `move-destination`: the device receives C-MOVE sub-operations.
    MoveDestination,
    /// `ae CT1` or `ae "8x10-dvfb"`
    Ae(AeTitle),
    /// `listens dicom, dicom-tls on 2762, https`
    Listens(Vec<Listener>),
}

/// A DICOM AE title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AeTitle {
    /// The title.
    pub value: String,
    /// Where it is.
    pub range: TextRange,
}

/// `dicom` or `dicom on 11112`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    /// The service.
    pub service: Ident,
    /// A port replacing the service's TCP/UDP ports on this device.
    pub port: Option<Num>,
    /// Where it is.
    pub range: TextRange,
}

/// A list of endpoints: names of zones, devices or groups, or `any`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointList {
    /// The endpoints, at least one.
    pub items: Vec<Endpoint>,
    /// Where the list is.
    pub range: TextRange,
}

/// One endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A zone, device or group name.
    Name(Ident),
    /// `any`: every address.
    Any(TextRange),
}

impl Endpoint {
    /// Where it is.
    pub fn range(&self) -> TextRange {
        match self {
            Endpoint::Name(i) => i.range,
            Endpoint::Any(r) => *r,
        }
    }
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowAction {
    /// `allow`
    Allow,
    /// `deny`
    Deny,
}

/// `allow SRC -> DST : SERVICES until DATE "justification"`,
/// `deny SRC -> DST [: SERVICES] "reason"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowDecl {
    /// Allow or deny.
    pub action: FlowAction,
    /// Initiators.
    pub src: EndpointList,
    /// Listeners.
    pub dst: EndpointList,
    /// Services; `None` only for `deny` (meaning every service).
    pub services: Option<Vec<ServiceTerm>>,
    /// Optional expiry.
    pub until: Option<DateLit>,
    /// Optional justification.
    pub justification: Option<StrLit>,
}

/// The DICOM workflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkflowKind {
    /// `storage-commitment MODALITY -> ARCHIVE`
    StorageCommitment,
    /// `c-move REQUESTOR -> ARCHIVE [to DESTINATION]`
    CMove,
}

/// A DICOM workflow that expands into both TCP legs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowDecl {
    /// Which workflow.
    pub kind: WorkflowKind,
    /// Modality (storage commitment) or requestor (C-MOVE).
    pub src: EndpointList,
    /// The archive.
    pub dst: EndpointList,
    /// C-MOVE only: the move destination(s); default is the requestor.
    pub to: Option<EndpointList>,
    /// Services; default `dicom`.
    pub services: Option<Vec<ServiceTerm>>,
    /// Optional expiry.
    pub until: Option<DateLit>,
    /// Optional justification.
    pub justification: Option<StrLit>,
}

/// `->` (direct) or `~>` (over any chain of flows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    /// `->`
    Direct,
    /// `~>`
    Transitive,
}

/// `never A -> B [: services] ["why"]` or `never A ~> B ["why"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeverDecl {
    /// Direct or transitive.
    pub reach: Reach,
    /// From.
    pub src: EndpointList,
    /// To.
    pub dst: EndpointList,
    /// Restrict to these services; `None` means any.
    pub services: Option<Vec<ServiceTerm>>,
    /// Why.
    pub justification: Option<StrLit>,
}

/// `require A -> B : services ["why"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequireDecl {
    /// From.
    pub src: EndpointList,
    /// To.
    pub dst: EndpointList,
    /// The services that must be permitted.
    pub services: Vec<ServiceTerm>,
    /// Why.
    pub justification: Option<StrLit>,
}
