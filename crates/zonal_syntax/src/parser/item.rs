//! Items, zone and device properties, endpoints and service terms.

use nom::Input as _;
use zonal_diagnostics::TextRange;

use super::Input;
use super::error::SyntaxError;
use super::lexeme::{
    ICMP_TYPE_NAMES, ITEM_KEYWORDS, PResult, RESERVED, addr, ae_title, date, fail, found, keyword,
    label, mismatch, name as ident, number, off, peek_char, peek_digit, peek_word, port, punct,
    rng, show, string, trivia,
};
use crate::ast::{
    DeviceDecl, DeviceProp, DevicePropKind, Endpoint, EndpointList, FlowAction, FlowDecl,
    GroupDecl, IcmpType, Ident, Include, ItemKind, Listener, NeverDecl, PolicyDecl, PortProto,
    Reach, RequireDecl, RuleName, ServiceDecl, ServiceTerm, ServiceTermKind, StrLit, Suppression,
    WorkflowDecl, WorkflowKind, ZoneDecl, ZoneProp, ZonePropKind,
};
use crate::codes;
use crate::suggest::did_you_mean;

const POLICY_HELP: &str = "write `policy NAME { owner \"…\" description \"…\" }`";
const INCLUDE_HELP: &str = "write `include \"relative/path.zonal\"`";
const SERVICE_HELP: &str =
    "write `service NAME = tcp PORT, udp PORT, …`, e.g. `service pacs-web = tcp 8443`";
const GROUP_HELP: &str =
    "write `group NAME = MEMBER, MEMBER, …`, e.g. `group imaging = modalities, pacs-1`";
const ZONE_HELP: &str = "write `zone NAME { network ADDRESS/PREFIX … }`";
const DEVICE_HELP: &str = "write `device NAME { address ADDRESS kind KIND … }` inside a zone";
const ALLOW_HELP: &str =
    "write `allow SRC -> DST : SERVICE, …`, e.g. `allow modalities -> pacs-1 : dicom`";
const DENY_HELP: &str = "write `deny SRC -> DST` or `deny SRC -> DST : SERVICE, …`";
const SC_HELP: &str = "write `storage-commitment MODALITY -> ARCHIVE`";
const CMOVE_HELP: &str = "write `c-move REQUESTOR -> ARCHIVE to DESTINATION`";
const NEVER_HELP: &str =
    "write `never A -> B` (no direct flow) or `never A ~> B` (no path over any chain of flows)";
const REQUIRE_HELP: &str = "write `require A -> B : SERVICE, …`";
const SUPPRESS_HELP: &str =
    "write `@suppress LINT \"reason\" until YYYY-MM-DD` on the line before the item";

const ENDPOINT: &str = "a zone, device or group name (or `any`)";
const SERVICE: &str = "a service (e.g. `dicom` or `tcp 104`)";

/// Zone properties, for messages and suggestions.
pub(crate) const ZONE_PROPS: [&str; 11] = [
    "network",
    "vlan",
    "trust",
    "kind",
    "tags",
    "description",
    "legacy",
    "end-of-support",
    "external",
    "within",
    "device",
];

/// Device properties, for messages and suggestions.
pub(crate) const DEVICE_PROPS: [&str; 13] = [
    "address",
    "kind",
    "vendor",
    "model",
    "os",
    "description",
    "end-of-support",
    "legacy",
    "wireless",
    "storage-commitment",
    "move-destination",
    "ae",
    "listens",
];

const POLICY_PROPS: [&str; 2] = ["owner", "description"];

/// Turns a plain mismatch from `p` into a committed "expected `what`, found
/// …" error; specific errors pass through, committed. This is nom's `cut`
/// with a label.
pub(crate) fn expect<'a, T>(
    i: Input<'a>,
    what: &str,
    help: &str,
    p: impl FnOnce(Input<'a>) -> PResult<'a, T>,
) -> PResult<'a, T> {
    match p(i) {
        Err(nom::Err::Error(e)) if e.is_generic() => fail(expected(i, what, help)),
        Err(nom::Err::Error(e)) => fail(e),
        other => other,
    }
}

/// "expected `what`, found …" at the next token.
pub(crate) fn expected(i: Input<'_>, what: &str, help: &str) -> SyntaxError {
    let (range, desc) = found(i);
    SyntaxError::new(
        codes::UNEXPECTED_TOKEN,
        range,
        format!("expected {what}, found {desc}"),
        format!("expected {what}"),
        help,
    )
}

/// Parses one item, starting at its keyword. A mismatch (generic error)
/// means the input does not start with an item keyword.
pub(crate) fn item(i: Input<'_>) -> PResult<'_, ItemKind> {
    let t = trivia(i);
    match peek_word(t) {
        Some("policy") => policy(t),
        Some("include") => include(t),
        Some("service" | "override") => service(t),
        Some("group") => group(t),
        Some("zone") => zone(t),
        Some("allow" | "deny") => flow(t),
        Some("storage-commitment" | "c-move") => workflow(t),
        Some("never") => never(t),
        Some("require") => require(t),
        _ => mismatch(t),
    }
}

/// The error for input that does not start an item.
pub(crate) fn not_an_item(i: Input<'_>) -> SyntaxError {
    let (range, desc) = found(i);
    let list = "an item starts with `policy`, `include`, `service`, `group`, `zone`, `allow`, `deny`, \
                `storage-commitment`, `c-move`, `never` or `require`";
    if peek_char(i, '}') {
        return SyntaxError::new(
            codes::UNEXPECTED_TOKEN,
            range,
            "unexpected `}`",
            "no block is open here",
            "remove it, or check the `{` and `}` of the block above",
        );
    }
    let Some(w) = peek_word(i) else {
        return SyntaxError::new(
            codes::UNEXPECTED_TOKEN,
            range,
            format!("expected an item, found {desc}"),
            "expected an item",
            list,
        );
    };
    if ZONE_PROPS.contains(&w) && w != "device" {
        return SyntaxError::new(
            codes::UNKNOWN_KEYWORD,
            range,
            format!("`{w}` is a zone property and must be inside a zone"),
            "outside of any zone",
            "write it inside `zone NAME { … }`, or check for a `}` that closes the zone too early",
        );
    }
    if DEVICE_PROPS.contains(&w) || w == "device" {
        return SyntaxError::new(
            codes::UNKNOWN_KEYWORD,
            range,
            format!("`{w}` must be inside a zone"),
            "outside of any zone",
            "devices are declared inside a zone: `zone NAME { device NAME { … } }`",
        );
    }
    let help = match did_you_mean(w, ITEM_KEYWORDS) {
        Some(s) => format!("did you mean `{s}`?"),
        None => list.to_owned(),
    };
    SyntaxError::new(
        codes::UNKNOWN_KEYWORD,
        range,
        format!("unknown item `{}`", show(w)),
        "unknown item",
        help,
    )
}

/// The annotations before a top-level item: `@suppress …` (repeated) and
/// at most one `@name NAME`, in any order.
pub(crate) fn annotations(mut i: Input<'_>) -> PResult<'_, (Vec<Suppression>, Option<RuleName>)> {
    let mut sups = Vec::new();
    let mut name: Option<RuleName> = None;
    loop {
        let t = trivia(i);
        if !t.fragment().starts_with('@') {
            return Ok((i, (sups, name)));
        }
        let after_at = t.take_from(1);
        if peek_word(after_at) == Some("name")
            && !after_at.fragment().starts_with(char::is_whitespace)
        {
            let start = off(&t);
            let (rest, _) = keyword(after_at, "name")?;
            let (rest, n) = expect(rest, "a rule name", NAME_HELP, |i| ident(i, "a rule name"))?;
            let ann = RuleName {
                name: n,
                range: rng(start, off(&rest)),
            };
            if let Some(first) = &name {
                return fail(SyntaxError::new(
                    codes::DUPLICATE_FIELD,
                    ann.range,
                    format!(
                        "the rule is named twice, `{}` and `{}`",
                        first.name.name, ann.name.name
                    ),
                    "second `@name`",
                    "a rule has one stable name: keep one `@name`",
                ));
            }
            name = Some(ann);
            i = rest;
            continue;
        }
        let (rest, s) = suppression(t)?;
        sups.push(s);
        i = rest;
    }
}

const NAME_HELP: &str = "write `@name RAD-0042` on the line before the rule: letters, digits, `-`, `_` and `.`, starting with a letter";

/// `@suppress LINT "reason"? (until DATE)?`, repeated.
pub(crate) fn suppressions(mut i: Input<'_>) -> PResult<'_, Vec<Suppression>> {
    let mut out = Vec::new();
    loop {
        let t = trivia(i);
        if !t.fragment().starts_with('@') {
            return Ok((i, out));
        }
        let (rest, s) = suppression(t)?;
        out.push(s);
        i = rest;
    }
}

fn suppression(t: Input<'_>) -> PResult<'_, Suppression> {
    let start = off(&t);
    let after_at = t.take_from(1);
    let w = peek_word(after_at).filter(|_| !after_at.fragment().starts_with(char::is_whitespace));
    if w == Some("name") {
        let (range, _) = found(after_at);
        return fail(SyntaxError::new(
            codes::UNKNOWN_KEYWORD,
            rng(start, range.end as usize),
            "`@name` names a rule, not a device",
            "not before a rule",
            "put `@name NAME` on the line before an `allow`, `deny`, `storage-commitment` or `c-move` rule",
        ));
    }
    if w != Some("suppress") {
        let (range, desc) = found(after_at);
        let range = rng(start, range.end as usize);
        let help = match w.and_then(|w| did_you_mean(w, ["suppress"])) {
            Some(s) => format!("did you mean `@{s}`?"),
            None => SUPPRESS_HELP.to_owned(),
        };
        let what = w.map_or_else(
            || format!("`@` followed by {desc}"),
            |w| format!("`@{}`", show(w)),
        );
        return fail(SyntaxError::new(
            codes::UNKNOWN_KEYWORD,
            range,
            format!("unknown annotation {what}"),
            "unknown annotation",
            help,
        ));
    }
    let (i, _) = keyword(after_at, "suppress")?;
    let (i, lint) = expect(i, "a lint name or code", SUPPRESS_HELP, |i| {
        ident(i, "a lint name")
    })?;
    let (i, reason) = opt_string(i)?;
    let (i, until) = opt_until(i)?;
    Ok((
        i,
        Suppression {
            lint,
            reason,
            until,
            range: rng(start, off(&i)),
        },
    ))
}

fn opt_string(i: Input<'_>) -> PResult<'_, Option<StrLit>> {
    if peek_char(i, '"') {
        let (i, s) = string(i)?;
        Ok((i, Some(s)))
    } else {
        Ok((i, None))
    }
}

fn opt_until(i: Input<'_>) -> PResult<'_, Option<crate::ast::DateLit>> {
    match keyword(i, "until") {
        Ok((rest, _)) => {
            let (rest, d) = date(rest)?;
            Ok((rest, Some(d)))
        }
        Err(_) => Ok((i, None)),
    }
}

fn opt_description<'a>(i: Input<'a>, help: &str) -> PResult<'a, Option<StrLit>> {
    match keyword(i, "description") {
        Ok((rest, _)) => {
            let (rest, s) = expect(rest, "a string", help, string)?;
            Ok((rest, Some(s)))
        }
        Err(_) => Ok((i, None)),
    }
}

/// Parses `p` once, then again after each `,`.
fn comma_list<'a, T>(
    i: Input<'a>,
    what: &str,
    help: &str,
    p: impl Fn(Input<'a>) -> PResult<'a, T>,
) -> PResult<'a, Vec<T>> {
    let (mut i, first) = expect(i, what, help, &p)?;
    let mut out = vec![first];
    while let Ok((rest, comma)) = punct(i, ",") {
        let (rest, x) = match p(rest) {
            Ok(x) => x,
            Err(nom::Err::Error(e)) if e.is_generic() => {
                let (range, desc) = found(rest);
                return fail(
                    SyntaxError::new(
                        codes::UNEXPECTED_TOKEN,
                        range,
                        format!("expected {what} after `,`, found {desc}"),
                        format!("expected {what}"),
                        "remove the trailing `,`, or write the next element after it",
                    )
                    .with_secondary(comma, "this `,` continues the list"),
                );
            }
            Err(nom::Err::Error(e)) => return fail(e),
            Err(e) => return Err(e),
        };
        out.push(x);
        i = rest;
    }
    Ok((i, out))
}

fn policy(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (i, _) = keyword(i, "policy")?;
    let (i, name) = expect(i, "a policy name", POLICY_HELP, |i| {
        ident(i, "a policy name")
    })?;
    let (mut i, open) = expect(i, "`{`", POLICY_HELP, |i| punct(i, "{"))?;
    let mut owner: Option<StrLit> = None;
    let mut description: Option<StrLit> = None;
    loop {
        if let Ok((rest, _)) = punct(i, "}") {
            i = rest;
            break;
        }
        let t = trivia(i);
        match peek_word(t) {
            Some(kw @ ("owner" | "description")) => {
                let (rest, kw_range) = keyword(t, kw)?;
                let (rest, s) = expect(rest, "a string", &format!("write `{kw} \"…\"`"), string)?;
                let slot = if kw == "owner" {
                    &mut owner
                } else {
                    &mut description
                };
                if let Some(prev) = slot {
                    return fail(
                        SyntaxError::new(
                            codes::DUPLICATE_FIELD,
                            kw_range.cover(s.range),
                            format!("`{kw}` is set twice in policy `{}`", name.name),
                            "set again here",
                            format!("keep one `{kw}`"),
                        )
                        .with_secondary(prev.range, "first set here"),
                    );
                }
                *slot = Some(s);
                i = rest;
            }
            _ => return fail(block_error(t, Block::Policy, &name, open)),
        }
    }
    Ok((
        i,
        ItemKind::Policy(PolicyDecl {
            name,
            owner,
            description,
        }),
    ))
}

fn include(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (i, _) = keyword(i, "include")?;
    let (i, path) = expect(i, "a file path in double quotes", INCLUDE_HELP, string)?;
    Ok((i, ItemKind::Include(Include { path })))
}

fn service(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (i, override_kw) = match keyword(i, "override") {
        Ok((rest, r)) => {
            let (rest, _) = expect(rest, "`service`", SERVICE_HELP, |i| keyword(i, "service"))?;
            (rest, Some(r))
        }
        Err(_) => (keyword(i, "service")?.0, None),
    };
    let (i, name) = expect(i, "a service name", SERVICE_HELP, |i| {
        ident(i, "a service name")
    })?;
    let (i, _) = expect(i, "`=`", SERVICE_HELP, |i| punct(i, "="))?;
    let (i, terms) = terms(i, SERVICE_HELP)?;
    let (i, description) = opt_description(i, SERVICE_HELP)?;
    Ok((
        i,
        ItemKind::Service(ServiceDecl {
            override_kw,
            name,
            terms,
            description,
        }),
    ))
}

fn group(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (i, _) = keyword(i, "group")?;
    let (i, name) = expect(i, "a group name", GROUP_HELP, |i| ident(i, "a group name"))?;
    let (i, _) = expect(i, "`=`", GROUP_HELP, |i| punct(i, "="))?;
    let (i, members) = comma_list(i, "a zone, device or group name", GROUP_HELP, |i| {
        ident(i, "a group member")
    })?;
    let (i, description) = opt_description(i, GROUP_HELP)?;
    Ok((
        i,
        ItemKind::Group(GroupDecl {
            name,
            members,
            description,
        }),
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Policy,
    Zone,
    Device,
}

impl Block {
    fn word(self) -> &'static str {
        match self {
            Block::Policy => "policy",
            Block::Zone => "zone",
            Block::Device => "device",
        }
    }

    fn props(self) -> &'static [&'static str] {
        match self {
            Block::Policy => &POLICY_PROPS,
            Block::Zone => &ZONE_PROPS,
            Block::Device => &DEVICE_PROPS,
        }
    }
}

/// The error for a token inside a block that is neither a property nor `}`.
fn block_error(t: Input<'_>, block: Block, name: &Ident, open: TextRange) -> SyntaxError {
    let what = block.word();
    let (range, desc) = found(t);
    let list = block
        .props()
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if t.fragment().is_empty() {
        return SyntaxError::new(
            codes::UNCLOSED_BLOCK,
            open,
            format!("unclosed `{{` of {what} `{}`", name.name),
            "this `{` is never closed",
            format!("add `}}` at the end of the {what}"),
        )
        .with_secondary(range, "file ends here");
    }
    if t.fragment().starts_with('@') {
        return SyntaxError::new(
            codes::DANGLING_SUPPRESSION,
            range,
            format!("`@suppress` cannot be used inside a {what}"),
            "not allowed here",
            format!("write it on the line before `{what} {} {{`", name.name),
        );
    }
    let word = peek_word(t);
    let closes = word
        .is_some_and(|w| ITEM_KEYWORDS.contains(&w) || (block == Block::Device && w == "device"));
    if closes {
        return SyntaxError::new(
            codes::UNCLOSED_BLOCK,
            range,
            format!(
                "expected `}}` to close {what} `{}`, found {desc}",
                name.name
            ),
            "expected `}` before this",
            format!("add `}}` at the end of the {what}"),
        )
        .with_secondary(open, format!("{what} opened here"));
    }
    let Some(w) = word else {
        return SyntaxError::new(
            codes::UNEXPECTED_TOKEN,
            range,
            format!("expected a {what} property or `}}`, found {desc}"),
            "expected a property",
            format!("a {what} property is one of {list}"),
        );
    };
    if block == Block::Zone && DEVICE_PROPS.contains(&w) {
        return SyntaxError::new(
            codes::UNKNOWN_KEYWORD,
            range,
            format!("`{w}` is a device property, not a zone property"),
            "not a zone property",
            "put it inside `device NAME { … }`",
        );
    }
    if block == Block::Device && ZONE_PROPS.contains(&w) {
        return SyntaxError::new(
            codes::UNKNOWN_KEYWORD,
            range,
            format!("`{w}` is a zone property, not a device property"),
            "not a device property",
            format!("close device `{}` with `}}` before it", name.name),
        );
    }
    let help = match did_you_mean(w, block.props().iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("a {what} property is one of {list}"),
    };
    SyntaxError::new(
        codes::UNKNOWN_KEYWORD,
        range,
        format!("unknown {what} property `{}`", show(w)),
        format!("not a {what} property"),
        help,
    )
}

fn zone(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (i, _) = keyword(i, "zone")?;
    let (i, name) = expect(i, "a zone name", ZONE_HELP, |i| ident(i, "a zone name"))?;
    let (mut i, open) = expect(i, "`{`", ZONE_HELP, |i| punct(i, "{"))?;
    let mut props = Vec::new();
    loop {
        if let Ok((rest, _)) = punct(i, "}") {
            i = rest;
            break;
        }
        let (rest, sups) = suppressions(i)?;
        let t = trivia(rest);
        let start = off(&t);
        let w = peek_word(t);
        if !sups.is_empty() && w != Some("device") {
            let first = sups.first().map_or(rng(start, start), |s| s.range);
            let (range, desc) = found(t);
            return fail(
                SyntaxError::new(
                    codes::DANGLING_SUPPRESSION,
                    range,
                    format!("expected a device after `@suppress`, found {desc}"),
                    "not a device",
                    "inside a zone, `@suppress` applies to the device that follows it; \
                     to suppress on the zone, put it before `zone`",
                )
                .with_secondary(first, "this suppression"),
            );
        }
        let Some(w) = w else {
            return fail(block_error(t, Block::Zone, &name, open));
        };
        let (rest, kind) = match w {
            "network" => {
                let (r, _) = keyword(t, w)?;
                let (r, a) = comma_list(
                    r,
                    "an IPv4 or IPv6 network (e.g. `10.20.110.0/24`)",
                    ZONE_HELP,
                    addr,
                )?;
                (r, ZonePropKind::Network(a))
            }
            "vlan" => {
                let (r, _) = keyword(t, w)?;
                let (r, n) = expect(r, "a VLAN number", "write `vlan 110`", number)?;
                (r, ZonePropKind::Vlan(n))
            }
            "trust" => {
                let (r, _) = keyword(t, w)?;
                let (r, n) = expect(
                    r,
                    "a trust level",
                    "write `trust untrusted`, `low`, `medium`, `high`, or an IEC 62443 level `sl1` … `sl4`",
                    |i| ident(i, "a trust level"),
                )?;
                (r, ZonePropKind::Trust(n))
            }
            "kind" => {
                let (r, _) = keyword(t, w)?;
                let (r, n) = expect(r, "a zone kind", "write e.g. `kind modality`", |i| {
                    label(i, "a zone kind")
                })?;
                (r, ZonePropKind::Kind(n))
            }
            "tags" => {
                let (r, _) = keyword(t, w)?;
                let (r, n) =
                    comma_list(r, "a tag", "write `tags wireless, custom:radiology`", |i| {
                        label(i, "a tag")
                    })?;
                (r, ZonePropKind::Tags(n))
            }
            "description" => {
                let (r, _) = keyword(t, w)?;
                let (r, s) = expect(r, "a string", "write `description \"…\"`", string)?;
                (r, ZonePropKind::Description(s))
            }
            "legacy" | "end-of-support" => (keyword(t, w)?.0, ZonePropKind::Legacy),
            "external" => (keyword(t, w)?.0, ZonePropKind::External),
            "within" => {
                let (r, _) = keyword(t, w)?;
                let (r, n) = expect(r, "a zone name", "write `within PARENT-ZONE`", |i| {
                    ident(i, "a zone name")
                })?;
                (r, ZonePropKind::Within(n))
            }
            "device" => {
                let (r, d) = device(t, sups)?;
                (r, ZonePropKind::Device(d))
            }
            _ => return fail(block_error(t, Block::Zone, &name, open)),
        };
        props.push(ZoneProp {
            kind,
            range: rng(start, off(&rest)),
        });
        i = rest;
    }
    Ok((i, ItemKind::Zone(ZoneDecl { name, props })))
}

fn device(i: Input<'_>, suppressions: Vec<Suppression>) -> PResult<'_, DeviceDecl> {
    let (i, _) = keyword(i, "device")?;
    let (i, name) = expect(i, "a device name", DEVICE_HELP, |i| {
        ident(i, "a device name")
    })?;
    let (mut i, open) = expect(i, "`{`", DEVICE_HELP, |i| punct(i, "{"))?;
    let mut props = Vec::new();
    loop {
        if let Ok((rest, _)) = punct(i, "}") {
            i = rest;
            break;
        }
        let t = trivia(i);
        let start = off(&t);
        let Some(w) = peek_word(t) else {
            return fail(block_error(t, Block::Device, &name, open));
        };
        let (rest, kind) = match w {
            "address" => {
                let (r, _) = keyword(t, w)?;
                let (r, a) = comma_list(
                    r,
                    "an IPv4 or IPv6 address (e.g. `10.20.110.11`)",
                    DEVICE_HELP,
                    addr,
                )?;
                (r, DevicePropKind::Address(a))
            }
            "kind" => {
                let (r, _) = keyword(t, w)?;
                let (r, n) = expect(r, "a device kind", "write e.g. `kind ct`", |i| {
                    label(i, "a device kind")
                })?;
                (r, DevicePropKind::Kind(n))
            }
            "vendor" | "model" | "os" | "description" => {
                let (r, _) = keyword(t, w)?;
                let (r, s) = expect(r, "a string", &format!("write `{w} \"…\"`"), string)?;
                let k = match w {
                    "vendor" => DevicePropKind::Vendor(s),
                    "model" => DevicePropKind::Model(s),
                    "os" => DevicePropKind::Os(s),
                    _ => DevicePropKind::Description(s),
                };
                (r, k)
            }
            "end-of-support" | "legacy" => (keyword(t, w)?.0, DevicePropKind::Legacy),
            "wireless" => (keyword(t, w)?.0, DevicePropKind::Wireless),
            "storage-commitment" => (keyword(t, w)?.0, DevicePropKind::StorageCommitment),
            "move-destination" => (keyword(t, w)?.0, DevicePropKind::MoveDestination),
            "ae" => {
                let (r, _) = keyword(t, w)?;
                let (r, a) = expect(
                    r,
                    "an AE title",
                    "write `ae CT1`, or quote unusual titles: `ae \"8x10 DVFB\"`",
                    ae_title,
                )?;
                (r, DevicePropKind::Ae(a))
            }
            "listens" => {
                let (r, _) = keyword(t, w)?;
                let (r, l) = comma_list(
                    r,
                    "a service name",
                    "write `listens dicom, https` or `listens dicom on 11112`",
                    listener,
                )?;
                (r, DevicePropKind::Listens(l))
            }
            _ => return fail(block_error(t, Block::Device, &name, open)),
        };
        props.push(DeviceProp {
            kind,
            range: rng(start, off(&rest)),
        });
        i = rest;
    }
    Ok((
        i,
        DeviceDecl {
            name,
            props,
            suppressions,
        },
    ))
}

fn listener(i: Input<'_>) -> PResult<'_, Listener> {
    let (i, service) = ident(i, "a service name")?;
    let start = service.range.start as usize;
    let (i, port) = match keyword(i, "on") {
        Ok((rest, _)) => {
            let (rest, n) = expect(
                rest,
                "a port number",
                "write `listens dicom on 11112`",
                number,
            )?;
            (rest, Some(n))
        }
        Err(_) => (i, None),
    };
    Ok((
        i,
        Listener {
            service,
            port,
            range: rng(start, off(&i)),
        },
    ))
}

fn endpoint(i: Input<'_>) -> PResult<'_, Endpoint> {
    if let Ok((rest, r)) = keyword(i, "any") {
        return Ok((rest, Endpoint::Any(r)));
    }
    let t = trivia(i);
    if peek_word(t).is_some_and(|w| RESERVED.contains(&w)) {
        return mismatch(t);
    }
    let (rest, n) = ident(t, "an endpoint")?;
    Ok((rest, Endpoint::Name(n)))
}

fn endpoints<'a>(i: Input<'a>, help: &str) -> PResult<'a, EndpointList> {
    let start = off(&trivia(i));
    let (i, items) = comma_list(i, ENDPOINT, help, endpoint)?;
    Ok((
        i,
        EndpointList {
            items,
            range: rng(start, off(&i)),
        },
    ))
}

fn terms<'a>(i: Input<'a>, help: &str) -> PResult<'a, Vec<ServiceTerm>> {
    comma_list(i, SERVICE, help, term)
}

fn term(i: Input<'_>) -> PResult<'_, ServiceTerm> {
    let t = trivia(i);
    let start = off(&t);
    let Some(w) = peek_word(t) else {
        return mismatch(t);
    };
    let (rest, kind) = match w {
        "tcp" | "udp" => {
            let proto = if w == "tcp" {
                PortProto::Tcp
            } else {
                PortProto::Udp
            };
            let (mut r, _) = keyword(t, w)?;
            let mut ports = Vec::new();
            if peek_digit(r) {
                let (r2, p) = port(r)?;
                ports.push(p);
                r = r2;
                // After a comma, a number continues the port list; anything
                // else is the next term.
                while let Ok((after, _)) = punct(r, ",") {
                    if !peek_digit(after) {
                        break;
                    }
                    let (r2, p) = port(after)?;
                    ports.push(p);
                    r = r2;
                }
            }
            (r, ServiceTermKind::Ports { proto, ports })
        }
        "icmp" | "icmpv6" => {
            let (mut r, _) = keyword(t, w)?;
            let mut types = Vec::new();
            if let Some((r2, ty)) = icmp_type(r)? {
                types.push(ty);
                r = r2;
                while let Ok((after, _)) = punct(r, ",") {
                    let Some((r2, ty)) = icmp_type(after)? else {
                        break;
                    };
                    types.push(ty);
                    r = r2;
                }
            }
            (
                r,
                ServiceTermKind::Icmp {
                    v6: w == "icmpv6",
                    types,
                },
            )
        }
        "proto" => {
            let (r, _) = keyword(t, w)?;
            let (r, n) = expect(
                r,
                "a protocol number",
                "write e.g. `proto 50` (ESP)",
                number,
            )?;
            (r, ServiceTermKind::Protocol(n))
        }
        "any" => (keyword(t, w)?.0, ServiceTermKind::Any),
        _ if RESERVED.contains(&w) => return mismatch(t),
        _ => {
            let (r, n) = ident(t, "a service name")?;
            (r, ServiceTermKind::Ref(n))
        }
    };
    Ok((
        rest,
        ServiceTerm {
            kind,
            range: rng(start, off(&rest)),
        },
    ))
}

/// An ICMP type if one follows (a number or a known name).
fn icmp_type(i: Input<'_>) -> Result<Option<(Input<'_>, IcmpType)>, nom::Err<SyntaxError>> {
    if peek_digit(i) {
        let (r, n) = number(i)?;
        return Ok(Some((r, IcmpType::Number(n))));
    }
    match peek_word(i) {
        Some(w) if ICMP_TYPE_NAMES.contains(&w) => {
            let (r, range) = keyword(i, w)?;
            Ok(Some((
                r,
                IcmpType::Named(Ident {
                    name: w.to_owned(),
                    range,
                }),
            )))
        }
        _ => Ok(None),
    }
}

/// `->` with a helpful error for the usual mistakes.
fn arrow<'a>(i: Input<'a>, help: &str, transitive_ok: bool) -> PResult<'a, Reach> {
    if let Ok((r, _)) = punct(i, "->") {
        return Ok((r, Reach::Direct));
    }
    if let Ok((r, range)) = punct(i, "~>") {
        if transitive_ok {
            return Ok((r, Reach::Transitive));
        }
        return fail(SyntaxError::new(
            codes::UNEXPECTED_TOKEN,
            range,
            "expected `->`, found `~>`",
            "`~>` is only used in `never`",
            help,
        ));
    }
    let what = if transitive_ok {
        "`->` or `~>`"
    } else {
        "`->`"
    };
    fail(expected(i, what, help))
}

fn flow(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (action, help) = if peek_word(i) == Some("allow") {
        (FlowAction::Allow, ALLOW_HELP)
    } else {
        (FlowAction::Deny, DENY_HELP)
    };
    let (i, _) = keyword(
        i,
        if action == FlowAction::Allow {
            "allow"
        } else {
            "deny"
        },
    )?;
    let (i, src) = endpoints(i, help)?;
    let (i, _) = arrow(i, help, false)?;
    let (i, dst) = endpoints(i, help)?;
    let (i, services) = match punct(i, ":") {
        Ok((r, _)) => {
            let (r, t) = terms(r, help)?;
            (r, Some(t))
        }
        Err(_) if action == FlowAction::Allow => {
            return fail(expected(
                i,
                "`:` and the allowed services",
                "write `allow SRC -> DST : SERVICE, …`; to allow every service write `: any`",
            ));
        }
        Err(_) => (i, None),
    };
    let (i, until) = opt_until(i)?;
    let (i, justification) = opt_string(i)?;
    Ok((
        i,
        ItemKind::Flow(FlowDecl {
            action,
            src,
            dst,
            services,
            until,
            justification,
        }),
    ))
}

fn workflow(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (kind, kw, help) = if peek_word(i) == Some("c-move") {
        (WorkflowKind::CMove, "c-move", CMOVE_HELP)
    } else {
        (
            WorkflowKind::StorageCommitment,
            "storage-commitment",
            SC_HELP,
        )
    };
    let (i, _) = keyword(i, kw)?;
    let (i, src) = endpoints(i, help)?;
    let (i, _) = arrow(i, help, false)?;
    let (i, dst) = endpoints(i, help)?;
    let (i, to) = match keyword(i, "to") {
        Ok((r, range)) => {
            if kind != WorkflowKind::CMove {
                return fail(SyntaxError::new(
                    codes::UNEXPECTED_TOKEN,
                    range,
                    "`to` is only allowed in `c-move`",
                    "not allowed in `storage-commitment`",
                    "the storage-commitment result always goes back to the modality itself: remove `to …`",
                ));
            }
            let (r, e) = endpoints(r, help)?;
            (r, Some(e))
        }
        Err(_) => (i, None),
    };
    let (i, services) = match punct(i, ":") {
        Ok((r, _)) => {
            let (r, t) = terms(r, help)?;
            (r, Some(t))
        }
        Err(_) => (i, None),
    };
    let (i, until) = opt_until(i)?;
    let (i, justification) = opt_string(i)?;
    Ok((
        i,
        ItemKind::Workflow(WorkflowDecl {
            kind,
            src,
            dst,
            to,
            services,
            until,
            justification,
        }),
    ))
}

fn never(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (i, _) = keyword(i, "never")?;
    let (i, src) = endpoints(i, NEVER_HELP)?;
    let (i, reach) = arrow(i, NEVER_HELP, true)?;
    let (i, dst) = endpoints(i, NEVER_HELP)?;
    let (i, services) = match punct(i, ":") {
        Ok((r, _)) => {
            let (r, t) = terms(r, NEVER_HELP)?;
            (r, Some(t))
        }
        Err(_) => (i, None),
    };
    let (i, justification) = opt_string(i)?;
    Ok((
        i,
        ItemKind::Never(NeverDecl {
            reach,
            src,
            dst,
            services,
            justification,
        }),
    ))
}

fn require(i: Input<'_>) -> PResult<'_, ItemKind> {
    let (i, _) = keyword(i, "require")?;
    let (i, src) = endpoints(i, REQUIRE_HELP)?;
    let (i, _) = arrow(i, REQUIRE_HELP, false)?;
    let (i, dst) = endpoints(i, REQUIRE_HELP)?;
    let (i, _) = expect(i, "`:` and the required services", REQUIRE_HELP, |i| {
        punct(i, ":")
    })?;
    let (i, services) = terms(i, REQUIRE_HELP)?;
    let (i, justification) = opt_string(i)?;
    Ok((
        i,
        ItemKind::Require(RequireDecl {
            src,
            dst,
            services,
            justification,
        }),
    ))
}
