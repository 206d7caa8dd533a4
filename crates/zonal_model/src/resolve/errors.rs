//! Every diagnostic of loading and resolution, in one place: the stable
//! codes (`E01xx` names and files, `E02xx` values; each has a page
//! `docs/diagnostics/<CODE>.md`) and one constructor per diagnostic, so
//! that a message, its labels and its help are written once.

use zonal_diagnostics::{Diagnostic, Span};
use zonal_syntax::ast;

use super::names::did_you_mean;
use crate::addr::Prefix;
use crate::ir::{Device, Zone};

/// A file, directory or include cannot be read, or there are too many.
pub(crate) const UNREADABLE: &str = "E0101";
/// Includes form a cycle.
pub(crate) const INCLUDE_CYCLE: &str = "E0102";
/// A zone, device, group or service name is defined twice.
pub(crate) const DEFINED_TWICE: &str = "E0103";
/// A name in the zone, device and group namespace is not defined.
pub(crate) const UNKNOWN_ENDPOINT: &str = "E0104";
/// A service name is not defined.
pub(crate) const UNKNOWN_SERVICE: &str = "E0105";
/// A prelude service is redefined without `override`, or `override` names
/// no prelude service.
pub(crate) const OVERRIDE: &str = "E0106";
/// The policy has no header.
pub(crate) const NO_HEADER: &str = "E0107";
/// The policy header is written twice.
pub(crate) const HEADER_TWICE: &str = "E0108";
/// A service is defined in terms of itself.
pub(crate) const SERVICE_CYCLE: &str = "E0109";
/// A directory holds several policies (headers with different names).
pub(crate) const SEVERAL_POLICIES: &str = "E0111";
/// Two rules share a `@name`.
pub(crate) const RULE_NAME_TWICE: &str = "E0112";
/// A `@name` some target cannot use.
pub(crate) const RULE_NAME_UNUSABLE: &str = "E0113";
/// A group contains itself.
pub(crate) const GROUP_CYCLE: &str = "E0110";
/// Not a valid IP address or prefix.
pub(crate) const INVALID_ADDRESS: &str = "E0201";
/// A prefix has host bits set.
pub(crate) const HOST_BITS: &str = "E0202";
/// A port is out of range.
pub(crate) const PORT_RANGE: &str = "E0203";
/// A port range is inverted.
pub(crate) const INVERTED_RANGE: &str = "E0204";
/// A device address lies outside its zone.
pub(crate) const OUTSIDE_ZONE: &str = "E0205";
/// Two zones overlap.
pub(crate) const ZONE_OVERLAP: &str = "E0206";
/// A VLAN id is out of range.
pub(crate) const VLAN_RANGE: &str = "E0207";
/// An unknown trust level.
pub(crate) const UNKNOWN_TRUST: &str = "E0208";
/// Not a valid date.
pub(crate) const INVALID_DATE: &str = "E0209";
/// An ICMP type is unknown or out of range.
pub(crate) const ICMP_TYPE: &str = "E0210";
/// An IP protocol number is out of range.
pub(crate) const PROTOCOL_RANGE: &str = "E0211";
/// A single-valued property is set twice.
pub(crate) const SET_TWICE: &str = "E0212";
/// An address belongs to two devices.
pub(crate) const SHARED_ADDRESS: &str = "E0213";
/// An invalid DICOM AE title.
pub(crate) const AE_TITLE: &str = "E0214";
/// `on PORT` names a service without TCP or UDP ports.
pub(crate) const NO_PORT_TO_MOVE: &str = "E0215";
/// An external zone is nested, or two external zones take every address.
pub(crate) const EXTERNAL_ZONE: &str = "E0216";
/// Invalid zone nesting (`within`).
pub(crate) const NESTING: &str = "E0217";
/// An internal zone has no network.
pub(crate) const NO_NETWORK: &str = "E0218";
/// A `kind` or tag outside the vocabulary.
pub(crate) const UNKNOWN_WORD: &str = "E0219";

fn did_you_mean_help(suggestion: &str) -> String {
    format!("did you mean `{suggestion}`?")
}

// E0101, E0102: files, directories and includes.

/// `at`: the directory itself (an empty file of that name in the source
/// database), never the prelude.
pub(crate) fn empty_directory(shown: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        UNREADABLE,
        format!("directory `{shown}` holds no `.zonal` file"),
        at,
        "this directory",
    )
    .with_help("a policy directory holds `*.zonal` files (hidden files are ignored)")
}

pub(crate) fn unreadable_directory(shown: &str, error: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        UNREADABLE,
        format!("cannot read directory `{shown}`: {error}"),
        at,
        "this directory",
    )
    .with_help("check the path and its permissions")
}

pub(crate) fn too_many_files(
    shown: &str,
    at: Span,
    max_files: usize,
    max_depth: usize,
) -> Diagnostic {
    Diagnostic::error(
        UNREADABLE,
        format!("too many files or includes nested too deeply at `{shown}`"),
        at,
        "limit reached here",
    )
    .with_help(format!(
        "a policy may have at most {max_files} files and includes nested {max_depth} deep"
    ))
}

/// `at`: the include that names the file, or the file itself (an empty
/// file of that name in the source database) when it was named on the
/// command line or found in a directory. Never the prelude, and never the
/// file's bytes: a file that cannot be read as Zonal source is not echoed.
pub(crate) fn unreadable_file(shown: &str, error: &str, at: Span, included: bool) -> Diagnostic {
    let d = Diagnostic::error(
        UNREADABLE,
        format!("cannot read `{shown}`: {error}"),
        at,
        if included {
            "included here"
        } else {
            "this file"
        },
    );
    if included {
        d.with_help("check the path; includes are relative to the including file's directory")
    } else {
        d.with_help("a policy is read from regular `*.zonal` files that are valid UTF-8")
    }
}

pub(crate) fn include_not_zonal(shown: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        UNREADABLE,
        format!("`{shown}` is not a `.zonal` file"),
        at,
        "included here",
    )
    .with_help("an include names another policy file, ending in `.zonal`")
}

pub(crate) fn include_cycle(chain: &[String], at: Span) -> Diagnostic {
    Diagnostic::error(
        INCLUDE_CYCLE,
        format!("include cycle: `{}`", chain.join("` → `")),
        at,
        "this include closes the cycle",
    )
    .with_help("remove this include; a file may be included once, from one place")
}

// E0103-E0110: names and the header.

/// `kind` is what the first definition is: `zone`, `device` or `group`.
pub(super) fn defined_twice(name: &str, at: Span, first: Span, kind: &str) -> Diagnostic {
    Diagnostic::error(
        DEFINED_TWICE,
        format!("`{name}` is defined twice"),
        at,
        "defined again here",
    )
    .with_secondary(first, format!("first defined here as a {kind}"))
    .with_note(
        "zones, devices and groups share one namespace, so that a flow's endpoints are unambiguous",
    )
    .with_help("rename one of them")
}

pub(super) fn service_defined_twice(name: &str, at: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        DEFINED_TWICE,
        format!("service `{name}` is defined twice"),
        at,
        "defined again here",
    )
    .with_secondary(first, "first defined here")
    .with_help("rename one of them or merge their ports")
}

pub(super) fn unknown_parent_zone(name: &str, at: Span, candidates: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(
        UNKNOWN_ENDPOINT,
        format!("unknown zone `{name}`"),
        at,
        "no zone has this name",
    );
    match did_you_mean(name, candidates.iter().copied()) {
        Some(s) => d.with_help(did_you_mean_help(&s)),
        None => d.with_help("`within` names the zone whose networks enclose this zone's networks"),
    }
}

/// `is_service`: the name is a service's, written where an endpoint goes.
pub(super) fn unknown_endpoint(
    name: &str,
    at: Span,
    candidates: &[&str],
    is_service: bool,
) -> Diagnostic {
    let mut d = Diagnostic::error(
        UNKNOWN_ENDPOINT,
        format!("unknown zone, device or group `{name}`"),
        at,
        "not defined",
    );
    d = match did_you_mean(name, candidates.iter().copied()) {
        Some(s) => d.with_help(did_you_mean_help(&s)),
        None => d.with_help(
            "define it with `zone NAME { … }`, `device NAME { … }` inside a zone, or `group NAME = …`",
        ),
    };
    if is_service {
        d = d.with_note(format!("`{name}` is a service; services go after `:`"));
    }
    d
}

/// An unknown service among a flow's or a service's terms.
pub(super) fn unknown_service(name: &str, at: Span, candidates: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(
        UNKNOWN_SERVICE,
        format!("unknown service `{name}`"),
        at,
        "not defined",
    );
    match did_you_mean(name, candidates.iter().copied()) {
        Some(s) => d.with_help(did_you_mean_help(&s)),
        None => d.with_help(format!(
            "define it with `service {name} = tcp PORT`, or write the ports inline, e.g. `tcp 8443`"
        )),
    }
}

/// An unknown service after `listens`.
pub(super) fn unknown_listened_service(name: &str, at: Span, candidates: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(
        UNKNOWN_SERVICE,
        format!("unknown service `{name}`"),
        at,
        "not defined",
    );
    match did_you_mean(name, candidates.iter().copied()) {
        Some(s) => d.with_help(did_you_mean_help(&s)),
        None => d.with_help(format!("define it first: `service {name} = tcp PORT`")),
    }
}

pub(super) fn prelude_service_redefined(name: &str, at: Span, prelude_def: Span) -> Diagnostic {
    Diagnostic::error(
        OVERRIDE,
        format!("service `{name}` is already defined by the prelude"),
        at,
        "redefined here",
    )
    .with_secondary(prelude_def, "prelude definition")
    .with_help(format!(
        "write `override service {name} = …` to replace it, or choose another name"
    ))
}

pub(super) fn nothing_to_override(name: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        OVERRIDE,
        format!("`override` names service `{name}`, which the prelude does not define"),
        at,
        "nothing to override",
    )
    .with_help(format!("remove `override`: `service {name} = …`"))
}

pub(super) fn no_header(at: Span) -> Diagnostic {
    Diagnostic::error(NO_HEADER, "the policy has no header", at, "expected here")
        .with_help("start the policy with `policy NAME { owner \"…\" }`")
}

pub(super) fn header_twice(at: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        HEADER_TWICE,
        "the policy header is written twice",
        at,
        "second header",
    )
    .with_secondary(first, "first header")
    .with_help("keep one `policy NAME { … }` header for the whole policy")
}

/// `headers`: every policy header of the directory's files (name, where),
/// in load order; at least two names differ.
pub(crate) fn several_policies(dir: &str, headers: &[(String, Span)]) -> Diagnostic {
    let mut names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let listed = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let (first_name, first) = &headers[0];
    let (second_name, second) = headers
        .iter()
        .find(|(n, _)| n != first_name)
        .unwrap_or(&headers[0]);
    Diagnostic::error(
        SEVERAL_POLICIES,
        format!(
            "the directory `{dir}` holds {} policies: {listed}",
            names.len()
        ),
        *second,
        format!("policy `{second_name}`"),
    )
    .with_secondary(*first, format!("policy `{first_name}`"))
    .with_note("every `*.zonal` file of a directory belongs to one policy")
    .with_help("check each policy on its own (name its file, or keep one policy per directory)")
}

pub(super) fn rule_name_twice(name: &str, at: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        RULE_NAME_TWICE,
        format!("the rule name `{name}` is used twice"),
        at,
        "second rule with this name",
    )
    .with_secondary(first, "first rule with this name")
    .with_help("give every rule its own `@name` (a ticket or change id): it names the firewall rules on every target")
}

pub(super) fn rule_name_unusable(name: &str, at: Span, max: usize) -> Diagnostic {
    Diagnostic::error(
        RULE_NAME_UNUSABLE,
        format!("the rule name `{name}` cannot be used on every target"),
        at,
        "not a usable rule name",
    )
    .with_help(format!(
        "use at most {max} ASCII letters, digits and `-`, starting with a letter and not ending with `-`, such as `RAD-0042`"
    ))
}

/// `stack`: the services being resolved, outermost first.
pub(super) fn service_cycle(name: &str, at: Span, stack: &[String]) -> Diagnostic {
    Diagnostic::error(
        SERVICE_CYCLE,
        format!("service `{name}` is defined in terms of itself"),
        at,
        "this definition is part of a cycle",
    )
    .with_note(format!("cycle: `{}` → `{name}`", stack.join("` → `")))
    .with_help("define the service with ports, not with a reference back to itself")
}

pub(super) fn group_cycle(name: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        GROUP_CYCLE,
        format!("group `{name}` contains itself"),
        at,
        "part of a cycle",
    )
    .with_help("a group may not include itself, directly or through other groups")
}

// E0201-E0219: values.

pub(super) fn invalid_address(text: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        INVALID_ADDRESS,
        format!("`{text}` is not a valid IP address or prefix"),
        at,
        "invalid address",
    )
    .with_help(
        "write an IPv4 or IPv6 address, optionally with a prefix length: `10.20.110.0/24`, `fd00:110::/64`",
    )
}

/// `what`: `network` or `address`.
pub(super) fn host_bits(what: &str, text: &str, fixed: Prefix, at: Span) -> Diagnostic {
    Diagnostic::error(
        HOST_BITS,
        format!("{what} `{text}` has host bits set"),
        at,
        "bits after the prefix length are not zero",
    )
    .with_help(format!("write `{fixed}`"))
}

pub(super) fn port_out_of_range(value: u64, at: Span) -> Diagnostic {
    Diagnostic::error(
        PORT_RANGE,
        format!("port `{value}` is out of range"),
        at,
        "must be 0 to 65535",
    )
    .with_help("TCP and UDP ports are 0-65535")
}

pub(super) fn inverted_port_range(lo: u16, hi: u16, at: Span) -> Diagnostic {
    Diagnostic::error(
        INVERTED_RANGE,
        format!("port range `{lo}-{hi}` is inverted"),
        at,
        "first port is greater than the last",
    )
    .with_help(format!("write `{hi}-{lo}`"))
}

pub(super) fn address_outside_zone(text: &str, device: &str, zone: &Zone, at: Span) -> Diagnostic {
    let nets: Vec<String> = zone.networks.iter().map(ToString::to_string).collect();
    Diagnostic::error(
        OUTSIDE_ZONE,
        format!(
            "address `{text}` of device `{device}` is outside its zone `{}`",
            zone.name
        ),
        at,
        "not in the zone's networks",
    )
    .with_secondary(zone.span, format!("zone `{}` is declared here", zone.name))
    .with_note(if nets.is_empty() {
        format!("zone `{}` has no network of its own", zone.name)
    } else {
        format!("zone `{}` has {}", zone.name, nets.join(", "))
    })
    .with_help("correct the address, or declare the device in the zone whose network holds it")
}

/// `inner_prefix` of zone `inner` lies inside `outer_prefix` of `outer`.
pub(super) fn zones_overlap(
    inner: &Zone,
    inner_prefix: Prefix,
    outer: &Zone,
    outer_prefix: Prefix,
) -> Diagnostic {
    Diagnostic::error(
        ZONE_OVERLAP,
        format!("zone `{}` overlaps zone `{}`", inner.name, outer.name),
        inner.span,
        format!("`{inner_prefix}` is inside `{outer_prefix}`"),
    )
    .with_secondary(outer.span, format!("`{}` is declared here", outer.name))
    .with_note(
        "an address must belong to exactly one zone, or address-based rules become ambiguous",
    )
    .with_help(if inner.external || outer.external {
        "external zones may not overlap internal ones; correct the prefix".to_string()
    } else {
        format!(
            "if `{}` is a sub-zone, declare it: `within {}`; otherwise correct the prefix",
            inner.name, outer.name
        )
    })
}

pub(super) fn vlan_out_of_range(value: u64, at: Span) -> Diagnostic {
    Diagnostic::error(
        VLAN_RANGE,
        format!("VLAN id `{value}` is out of range"),
        at,
        "must be 1 to 4094",
    )
    .with_help("802.1Q VLAN ids are 1-4094")
}

pub(super) fn unknown_trust(name: &str, at: Span) -> Diagnostic {
    const LEVELS: [&str; 8] = [
        "untrusted",
        "low",
        "medium",
        "high",
        "sl1",
        "sl2",
        "sl3",
        "sl4",
    ];
    Diagnostic::error(
        UNKNOWN_TRUST,
        format!("unknown trust level `{name}`"),
        at,
        "not a trust level",
    )
    .with_help(match did_you_mean(name, LEVELS) {
        Some(s) => did_you_mean_help(&s),
        None => {
            "use `untrusted`, `low`, `medium`, `high`, or an IEC 62443 level `sl1`-`sl4`".into()
        }
    })
}

pub(super) fn invalid_date(d: &ast::DateLit, at: Span) -> Diagnostic {
    Diagnostic::error(
        INVALID_DATE,
        format!(
            "`{:04}-{:02}-{:02}` is not a valid date",
            d.year, d.month, d.day
        ),
        at,
        "no such day",
    )
    .with_help("write dates as YYYY-MM-DD, e.g. `2027-01-31`")
}

pub(super) fn icmp_type_out_of_range(value: u64, at: Span) -> Diagnostic {
    Diagnostic::error(
        ICMP_TYPE,
        format!("ICMP type `{value}` is out of range"),
        at,
        "must be 0 to 255",
    )
    .with_help("ICMP types are 0-255, or a name such as `echo-request`")
}

pub(super) fn unknown_icmp_type(name: &str, v6: bool, at: Span) -> Diagnostic {
    let fam = if v6 { "icmpv6" } else { "icmp" };
    Diagnostic::error(
        ICMP_TYPE,
        format!("`{name}` is not an {fam} type"),
        at,
        "unknown type",
    )
    .with_help(format!(
        "use a number or a type that {fam} has, e.g. `echo-request`"
    ))
}

pub(super) fn protocol_out_of_range(value: u64, at: Span) -> Diagnostic {
    Diagnostic::error(
        PROTOCOL_RANGE,
        format!("IP protocol number `{value}` is out of range"),
        at,
        "must be 0 to 255",
    )
    .with_help("IP protocol numbers are 0-255, e.g. `proto 50` for ESP")
}

pub(super) fn set_twice(prop: &str, at: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        SET_TWICE,
        format!("`{prop}` is set twice"),
        at,
        "set again here",
    )
    .with_secondary(first, "first set here")
    .with_help(format!("keep one `{prop}`"))
}

/// `second` is given `p`, which `first` has already.
pub(super) fn address_shared(p: Prefix, first: &Device, second: &Device) -> Diagnostic {
    Diagnostic::error(
        SHARED_ADDRESS,
        format!(
            "address `{p}` is given to both `{}` and `{}`",
            first.name, second.name
        ),
        second.span,
        format!("`{}` uses `{p}`", second.name),
    )
    .with_secondary(first.span, format!("`{}` uses it too", first.name))
    .with_help("each address belongs to one device; correct one of them")
}

pub(super) fn device_addresses_overlap(
    a: Prefix,
    first: &Device,
    b: Prefix,
    second: &Device,
) -> Diagnostic {
    Diagnostic::error(
        SHARED_ADDRESS,
        format!(
            "addresses of `{}` and `{}` overlap",
            first.name, second.name
        ),
        second.span,
        format!("`{b}`"),
    )
    .with_secondary(first.span, format!("`{a}`"))
    .with_help("each address belongs to one device; correct one of them")
}

pub(super) fn invalid_ae_title(value: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        AE_TITLE,
        format!("`{value}` is not a valid DICOM AE title"),
        at,
        "invalid AE title",
    )
    .with_note(
        "an AE title is 1 to 16 printable ASCII characters without backslash (DICOM PS3.5 AE value representation)",
    )
    .with_help("shorten it to at most 16 characters")
}

pub(super) fn no_port_to_move(service: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        NO_PORT_TO_MOVE,
        format!("service `{service}` has no TCP or UDP port to move"),
        at,
        "`on` needs a TCP or UDP service",
    )
    .with_help("remove `on PORT`")
}

pub(super) fn external_within(zone: &Zone) -> Diagnostic {
    Diagnostic::error(
        EXTERNAL_ZONE,
        format!(
            "external zone `{}` cannot be `within` another zone",
            zone.name
        ),
        zone.span,
        "external zone",
    )
    .with_help("remove `within`, or remove `external` if the zone is inside your network")
}

pub(super) fn second_catch_all(first: &Zone, other: &Zone) -> Diagnostic {
    Diagnostic::error(
        EXTERNAL_ZONE,
        format!(
            "zones `{}` and `{}` both stand for every external address",
            first.name, other.name
        ),
        other.span,
        "second catch-all external zone",
    )
    .with_secondary(first.span, "first one")
    .with_help("give the other external zones explicit networks (`network 192.0.2.0/24`)")
}

pub(super) fn zone_within_itself(name: &str, at: Span) -> Diagnostic {
    Diagnostic::error(
        NESTING,
        format!("zone `{name}` is declared within itself"),
        at,
        "here",
    )
    .with_help("name the enclosing zone")
}

pub(super) fn within_cycle(zone: &Zone) -> Diagnostic {
    Diagnostic::error(
        NESTING,
        format!(
            "zone `{}` is nested within itself through `within`",
            zone.name
        ),
        zone.span,
        "part of a cycle",
    )
    .with_help("`within` must form a tree: remove one of the `within` properties")
}

pub(super) fn outside_parent(zone: &Zone, parent: &Zone) -> Diagnostic {
    Diagnostic::error(
        NESTING,
        format!(
            "zone `{}` is declared within `{}` but its networks are not inside it",
            zone.name, parent.name
        ),
        zone.span,
        "networks outside the parent",
    )
    .with_secondary(parent.span, "parent zone")
    .with_help("correct the prefix, or remove `within`")
}

pub(super) fn no_network(zone: &Zone) -> Diagnostic {
    Diagnostic::error(
        NO_NETWORK,
        format!("zone `{}` has no network", zone.name),
        zone.span,
        "internal zone without addresses",
    )
    .with_help(
        "add `network 10.x.y.0/24`, or mark the zone `external` if it stands for addresses outside the hospital",
    )
}

/// A `kind` or tag that is not in the vocabulary (`what`: "zone kind",
/// "device kind" or "tag").
pub(super) fn unknown_word(word: &str, what: &str, at: Span, vocabulary: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(
        UNKNOWN_WORD,
        format!("unknown {what} `{word}`"),
        at,
        "not in the vocabulary",
    )
    .with_note(format!(
        "the lints understand these: {}",
        vocabulary.join(", ")
    ));
    match did_you_mean(word, vocabulary.iter().copied()) {
        Some(s) => d.with_help(format!(
            "{} (or write `custom:{word}` for a label of your own, which no lint interprets)",
            did_you_mean_help(&s)
        )),
        None => d.with_help(format!(
            "write `custom:{word}` for a label of your own (no lint interprets it), or pick a word from the list"
        )),
    }
}
