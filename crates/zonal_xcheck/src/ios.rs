//! Cisco IOS / IOS-XE: object groups, named (and numbered) extended ACLs,
//! IPv6 ACLs, time ranges and interface bindings.
//!
//! Evaluation: the packet enters on the source zone's interface (its
//! inbound ACL for the packet's family), then leaves on the destination
//! zone's interface (its outbound ACL). Each ACL is first match with an
//! implicit deny at its end; an IPv6 ACL implicitly permits neighbour
//! discovery before that deny. An unbound or undefined ACL permits. The
//! device keeps no state: every packet, replies included, is judged by
//! the ACL entries alone (`established` matches ACK or RST).

use std::collections::BTreeMap;
use zonal_model::Date;

use crate::net::{self, Addrs, Ports};
use crate::{Decision, Device, Env, Packet, ProbeKind};

pub(crate) type Res<T> = Result<T, (usize, String)>;

/// A protocol with optional source ports, destination ports or ICMP type.
#[derive(Clone, Debug)]
pub(crate) struct Svc {
    /// `None` = any IP protocol.
    pub(crate) proto: Option<u8>,
    pub(crate) sports: Option<Ports>,
    pub(crate) dports: Option<Ports>,
    pub(crate) icmp_type: Option<u16>,
}

impl Svc {
    pub(crate) fn any() -> Self {
        Svc {
            proto: None,
            sports: None,
            dports: None,
            icmp_type: None,
        }
    }

    pub(crate) fn matches(&self, p: &Packet) -> bool {
        if let Some(proto) = self.proto
            && proto != p.proto
        {
            return false;
        }
        if let Some(sp) = &self.sports
            && !sp.contains(p.sport)
        {
            return false;
        }
        if let Some(dp) = &self.dports
            && !dp.contains(p.selector)
        {
            return false;
        }
        if let Some(t) = self.icmp_type
            && t != p.selector
        {
            return false;
        }
        true
    }
}

#[derive(Clone, Debug)]
struct Ace {
    line: usize,
    text: String,
    permit: bool,
    svcs: Vec<Svc>,
    src: Addrs,
    dst: Addrs,
    established: bool,
    /// TCP flag keywords (`ack`, `syn`, `rst`, `fin`), each required set.
    flags: Vec<String>,
    time_range: Option<String>,
    /// `reflect NAME`: a permitted packet opens a session in that
    /// reflexive list.
    reflect: Option<String>,
    /// `evaluate NAME`: the entry matches the replies of that list's open
    /// sessions (all other fields unused).
    evaluate: Option<String>,
}

/// An open reflexive session: the reply it admits (source, destination,
/// protocol, source port, destination port; ports 0 without ports).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Session {
    list: String,
    src: std::net::IpAddr,
    dst: std::net::IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
}

#[derive(Clone, Debug, Default)]
struct Acl {
    v6: bool,
    entries: Vec<Ace>,
}

#[derive(Clone, Debug, Default)]
struct Iface {
    name: String,
    description: String,
    v4_in: Option<String>,
    v4_out: Option<String>,
    v6_in: Option<String>,
    v6_out: Option<String>,
}

/// A time range as `(start, end)` in minutes since 1970 (UTC, device clock).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimeRange {
    pub(crate) start: Option<i64>,
    pub(crate) end: Option<i64>,
}

/// The IOS device model.
#[derive(Debug, Default)]
pub(crate) struct Ios {
    net_groups: BTreeMap<String, Addrs>,
    svc_groups: BTreeMap<String, Vec<Svc>>,
    acls: BTreeMap<String, Acl>,
    ifaces: Vec<Iface>,
    time_ranges: BTreeMap<String, TimeRange>,
    /// Reflexive sessions opened by the packet being judged and the one
    /// before it: a reply is judged against the sessions its own
    /// connection opened (every packet that is not a reply starts afresh).
    sessions: std::cell::RefCell<Vec<Session>>,
}

enum Block {
    None,
    NetGroup(String),
    SvcGroup(String),
    Acl(String),
    Iface(usize),
    TimeRange(String),
}

#[expect(
    clippy::too_many_lines,
    reason = "one match arm per configuration statement of the device grammar"
)]
pub(crate) fn read(text: &str) -> Res<Ios> {
    let mut dev = Ios::default();
    let mut block = Block::None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('!') {
            if t.starts_with('!') {
                block = Block::None;
            }
            continue;
        }
        let w: Vec<&str> = t.split_whitespace().collect();
        let indented = line.starts_with(' ');
        if !indented {
            block = Block::None;
            match w.as_slice() {
                ["object-group", "network" | "v6-network", name, ..] => {
                    dev.net_groups.insert((*name).to_string(), Addrs::none());
                    block = Block::NetGroup((*name).to_string());
                }
                ["object-group", "service", name, ..] => {
                    dev.svc_groups.insert((*name).to_string(), Vec::new());
                    block = Block::SvcGroup((*name).to_string());
                }
                ["ip", "access-list", "extended", name] => {
                    dev.acls.insert(
                        (*name).to_string(),
                        Acl {
                            v6: false,
                            entries: Vec::new(),
                        },
                    );
                    block = Block::Acl((*name).to_string());
                }
                ["ipv6", "access-list", name] => {
                    dev.acls.insert(
                        (*name).to_string(),
                        Acl {
                            v6: true,
                            entries: Vec::new(),
                        },
                    );
                    block = Block::Acl((*name).to_string());
                }
                ["no", "ip" | "ipv6", "access-list", ..]
                | ["no", "object-group", ..]
                | ["no", "time-range", ..] => {
                    // Removal before a rebuild: the rebuild follows.
                }
                ["ip", "access-list", kind, ..] => {
                    return Err((
                        n,
                        format!(
                            "unsupported ACL kind `{kind}` (only named extended ACLs are read)"
                        ),
                    ));
                }
                ["access-list", num, rest @ ..] => {
                    if rest.first() == Some(&"remark") {
                        continue;
                    }
                    let ace = parse_ace(&dev.net_groups, &dev.svc_groups, rest, false, n, t)?;
                    let acl = dev.acls.entry((*num).to_string()).or_default();
                    acl.entries.extend(ace);
                }
                ["interface", name, ..] => {
                    dev.ifaces.push(Iface {
                        name: (*name).to_string(),
                        ..Iface::default()
                    });
                    block = Block::Iface(dev.ifaces.len() - 1);
                }
                ["time-range", name] => {
                    dev.time_ranges
                        .insert((*name).to_string(), TimeRange::default());
                    block = Block::TimeRange((*name).to_string());
                }
                ["end"]
                | ["hostname", ..]
                | ["service", ..]
                | ["version", ..]
                | ["ip", "routing"]
                | ["ipv6", "unicast-routing"]
                | ["logging", ..]
                | ["banner", ..] => {}
                _ => return Err((n, format!("unexpected top-level line `{t}`"))),
            }
            continue;
        }
        match &block {
            Block::None => return Err((n, format!("indented line outside a block: `{t}`"))),
            Block::NetGroup(g) => {
                let set = parse_net_member(&dev.net_groups, &w, n)?;
                if let Some(s) = set
                    && let Some(grp) = dev.net_groups.get_mut(g)
                {
                    grp.extend(&s);
                }
            }
            Block::SvcGroup(g) => {
                let svcs = parse_svc_member(&dev.svc_groups, &w, n)?;
                if let Some(grp) = dev.svc_groups.get_mut(g) {
                    grp.extend(svcs);
                }
            }
            Block::Acl(name) => {
                let v6 = dev.acls.get(name).is_some_and(|a| a.v6);
                let mut words: &[&str] = &w;
                if let Some(first) = words.first() {
                    if first.parse::<u32>().is_ok() {
                        words = &words[1..];
                    } else if *first == "sequence" {
                        words = words.get(2..).unwrap_or(&[]);
                    }
                }
                if words.first() == Some(&"remark") {
                    continue;
                }
                if let ["evaluate", list] = words {
                    if let Some(acl) = dev.acls.get_mut(name) {
                        acl.entries.push(Ace {
                            line: n,
                            text: t.to_string(),
                            permit: true,
                            svcs: Vec::new(),
                            src: Addrs::none(),
                            dst: Addrs::none(),
                            established: false,
                            flags: Vec::new(),
                            time_range: None,
                            reflect: None,
                            evaluate: Some((*list).to_string()),
                        });
                    }
                    continue;
                }
                if let Some(ace) = parse_ace(&dev.net_groups, &dev.svc_groups, words, v6, n, t)?
                    && let Some(acl) = dev.acls.get_mut(name)
                {
                    acl.entries.push(ace);
                }
            }
            Block::Iface(idx) => {
                let Some(iface) = dev.ifaces.get_mut(*idx) else {
                    continue;
                };
                match w.as_slice() {
                    ["description", rest @ ..] => iface.description = rest.join(" "),
                    ["ip", "access-group", acl, "in"] => iface.v4_in = Some((*acl).to_string()),
                    ["ip", "access-group", acl, "out"] => iface.v4_out = Some((*acl).to_string()),
                    ["ipv6", "traffic-filter", acl, "in"] => iface.v6_in = Some((*acl).to_string()),
                    ["ipv6", "traffic-filter", acl, "out"] => {
                        iface.v6_out = Some((*acl).to_string())
                    }
                    ["ip", "access-group", ..] | ["ipv6", "traffic-filter", ..] => {
                        return Err((n, format!("unsupported ACL binding `{t}`")));
                    }
                    _ => {}
                }
            }
            Block::TimeRange(name) => {
                let tr = parse_time_range(&w, n)?;
                if let Some(r) = dev.time_ranges.get_mut(name) {
                    if tr.start.is_some() {
                        r.start = tr.start;
                    }
                    if tr.end.is_some() {
                        r.end = tr.end;
                    }
                }
            }
        }
    }
    for acl in dev.acls.values_mut() {
        for ace in &mut acl.entries {
            ace.src.normalize();
            ace.dst.normalize();
        }
    }
    Ok(dev)
}

fn parse_net_member(groups: &BTreeMap<String, Addrs>, w: &[&str], n: usize) -> Res<Option<Addrs>> {
    let mut s = Addrs::none();
    match w {
        ["description", ..] => return Ok(None),
        ["host", a] => s = Addrs::host(net::parse_ip(a).ok_or((n, format!("bad host `{a}`")))?),
        ["range", a, b] => net::add_range_text(&mut s, &format!("{a}-{b}")).map_err(|e| (n, e))?,
        ["group-object", g] => {
            s = groups
                .get(*g)
                .cloned()
                .ok_or((n, format!("unknown object-group `{g}`")))?
        }
        [a, m] if a.contains('.') => net::add_masked(&mut s, a, m).map_err(|e| (n, e))?,
        [p] if p.contains('/') => net::add_prefix_text(&mut s, p).map_err(|e| (n, e))?,
        _ => {
            return Err((
                n,
                format!("unexpected network object-group line `{}`", w.join(" ")),
            ));
        }
    }
    Ok(Some(s))
}

fn parse_svc_member(groups: &BTreeMap<String, Vec<Svc>>, w: &[&str], n: usize) -> Res<Vec<Svc>> {
    match w {
        ["description", ..] => Ok(Vec::new()),
        ["group-object", g] => groups
            .get(*g)
            .cloned()
            .ok_or((n, format!("unknown object-group `{g}`"))),
        [proto, rest @ ..] => {
            let protos: Vec<u8> = match *proto {
                "tcp-udp" => vec![6, 17],
                "ip" => {
                    return if rest.is_empty() {
                        Ok(vec![Svc::any()])
                    } else {
                        Err((n, "`ip` takes no ports".into()))
                    };
                }
                p => vec![net::proto_by_name(p).ok_or((n, format!("unknown protocol `{p}`")))?],
            };
            let mut out = Vec::new();
            for p in protos {
                let mut svc = Svc {
                    proto: Some(p),
                    ..Svc::any()
                };
                let mut i = 0;
                if p == 6 || p == 17 {
                    if rest.first() == Some(&"source") {
                        let (ports, used) = parse_port_op(&rest[1..], n)?
                            .ok_or((n, "`source` needs a port".to_string()))?;
                        svc.sports = Some(ports);
                        i = 1 + used;
                    }
                    if let Some((ports, used)) = parse_port_op(&rest[i..], n)? {
                        svc.dports = Some(ports);
                        i += used;
                    }
                } else if (p == 1 || p == 58)
                    && let Some(name) = rest.first()
                {
                    svc.icmp_type = Some(
                        net::icmp_type_by_name(name, p == 58)
                            .ok_or((n, format!("unknown ICMP type `{name}`")))?,
                    );
                    i = 1;
                }
                if i != rest.len() {
                    return Err((
                        n,
                        format!("unexpected service object-group line `{}`", w.join(" ")),
                    ));
                }
                out.push(svc);
            }
            Ok(out)
        }
        [] => Ok(Vec::new()),
    }
}

/// `eq P [P…] | neq P | lt P | gt P | range A B` at the start of `w`.
pub(crate) fn parse_port_op(w: &[&str], n: usize) -> Res<Option<(Ports, usize)>> {
    let Some(op) = w.first() else { return Ok(None) };
    if !matches!(*op, "eq" | "neq" | "lt" | "gt" | "range") {
        return Ok(None);
    }
    let mut args = Vec::new();
    let max = match *op {
        "range" => 2,
        "eq" => 10,
        _ => 1,
    };
    for word in w.iter().skip(1).take(max) {
        match net::cisco_port_by_name(word) {
            Some(p) => args.push(p),
            None => break,
        }
    }
    if (*op == "range" && args.len() != 2) || args.is_empty() {
        return Err((n, format!("bad port operator `{}`", w.join(" "))));
    }
    if *op != "eq" && *op != "range" {
        args.truncate(1);
    }
    let used = 1 + args.len();
    let ports = net::cisco_port_op(op, &args).ok_or((n, format!("bad port operator `{op}`")))?;
    Ok(Some((ports, used)))
}

/// An address at the start of `w`: `any`, `host A`, `object-group G`,
/// `A WILDCARD` (IPv4), `P/len` (IPv6).
fn parse_addr(
    groups: &BTreeMap<String, Addrs>,
    w: &[&str],
    v6: bool,
    n: usize,
) -> Res<(Addrs, usize)> {
    match w {
        ["any", ..] => Ok((if v6 { Addrs::any_v6() } else { Addrs::any_v4() }, 1)),
        ["host", a, ..] => {
            let ip = net::parse_ip(a).ok_or((n, format!("bad host `{a}`")))?;
            if ip.is_ipv6() != v6 {
                return Err((n, format!("address `{a}` of the wrong family for this ACL")));
            }
            Ok((Addrs::host(ip), 2))
        }
        ["object-group" | "addrgroup", g, ..] => Ok((
            groups
                .get(*g)
                .cloned()
                .ok_or((n, format!("unknown object-group `{g}`")))?,
            2,
        )),
        [p, ..] if v6 && p.contains('/') => {
            let mut s = Addrs::none();
            net::add_prefix_text(&mut s, p).map_err(|e| (n, e))?;
            Ok((s, 1))
        }
        [a, m, ..] if !v6 && a.contains('.') => {
            let addr = net::parse_v4(a).ok_or((n, format!("bad address `{a}`")))?;
            let wild = net::parse_v4(m).ok_or((n, format!("bad wildcard `{m}`")))?;
            let mut s = Addrs::none();
            s.add_wildcard(addr, wild);
            Ok((s, 2))
        }
        _ => Err((n, format!("expected an address at `{}`", w.join(" ")))),
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "one branch per field of the ACE grammar, in device order"
)]
fn parse_ace(
    nets: &BTreeMap<String, Addrs>,
    svcs: &BTreeMap<String, Vec<Svc>>,
    w: &[&str],
    v6: bool,
    n: usize,
    text: &str,
) -> Res<Option<Ace>> {
    let permit = match w.first() {
        Some(&"permit") => true,
        Some(&"deny") => false,
        Some(&"remark") | None => return Ok(None),
        Some(other) => {
            return Err((
                n,
                format!(
                    "unsupported ACL entry `{other}` (reflexive or dynamic entries are not read)"
                ),
            ));
        }
    };
    let mut i = 1;
    // Protocol or service object-group.
    let (mut list, proto) = match w.get(i..) {
        Some(["object-group", g, ..]) => {
            i += 2;
            (
                svcs.get(*g)
                    .cloned()
                    .ok_or((n, format!("unknown service object-group `{g}`")))?,
                None,
            )
        }
        Some([p, ..]) => {
            i += 1;
            if (*p == "ip" && !v6) || (*p == "ipv6" && v6) {
                (vec![Svc::any()], None)
            } else {
                let proto = net::proto_by_name(p).ok_or((n, format!("unknown protocol `{p}`")))?;
                let proto = if v6 && proto == 1 { 58 } else { proto };
                (
                    vec![Svc {
                        proto: Some(proto),
                        ..Svc::any()
                    }],
                    Some(proto),
                )
            }
        }
        _ => return Err((n, "missing protocol".into())),
    };
    let ported = matches!(proto, Some(6 | 17));
    let (src, used) = parse_addr(nets, w.get(i..).unwrap_or(&[]), v6, n)?;
    i += used;
    let mut sports = None;
    if ported && let Some((p, used)) = parse_port_op(w.get(i..).unwrap_or(&[]), n)? {
        sports = Some(p);
        i += used;
    }
    let (dst, used) = parse_addr(nets, w.get(i..).unwrap_or(&[]), v6, n)?;
    i += used;
    let mut dports = None;
    if ported && let Some((p, used)) = parse_port_op(w.get(i..).unwrap_or(&[]), n)? {
        dports = Some(p);
        i += used;
    }
    let mut established = false;
    let mut flags = Vec::new();
    let mut time_range = None;
    let mut reflect = None;
    let mut icmp_type = None;
    while let Some(word) = w.get(i) {
        i += 1;
        match *word {
            "established" if proto == Some(6) => established = true,
            "ack" | "syn" | "rst" | "fin" if proto == Some(6) => flags.push((*word).to_string()),
            "log" | "log-input" => {}
            "time-range" => {
                let name = w
                    .get(i)
                    .ok_or((n, "`time-range` needs a name".to_string()))?;
                time_range = Some((*name).to_string());
                i += 1;
            }
            "sequence" => i += 1,
            "reflect" if permit => {
                let name = w.get(i).ok_or((n, "`reflect` needs a name".to_string()))?;
                reflect = Some((*name).to_string());
                i += 1;
                if w.get(i) == Some(&"timeout") {
                    i += 2;
                }
            }
            "dscp" | "precedence" | "tos" => {
                return Err((n, format!("`{word}` matching is not modelled")));
            }
            "fragments" => return Err((n, "`fragments` matching is not modelled".into())),
            "reflect" | "evaluate" => {
                return Err((n, format!("`{word}` is not valid here")));
            }
            t if matches!(proto, Some(1 | 58)) && icmp_type.is_none() => {
                icmp_type = Some(
                    net::icmp_type_by_name(t, proto == Some(58))
                        .ok_or((n, format!("unknown ICMP type `{t}`")))?,
                );
                // An optional numeric code follows a numeric type.
                if let Some(code) = w.get(i)
                    && code.parse::<u8>().is_ok()
                {
                    if *code != "0" {
                        return Err((n, "ICMP codes other than 0 are not modelled".into()));
                    }
                    i += 1;
                }
            }
            other => return Err((n, format!("unexpected word `{other}` in ACL entry"))),
        }
    }
    if proto.is_some() {
        for s in &mut list {
            s.sports.clone_from(&sports);
            s.dports.clone_from(&dports);
            s.icmp_type = icmp_type;
        }
    } else if sports.is_some() || dports.is_some() || icmp_type.is_some() {
        return Err((n, "ports given with a protocol that has none".into()));
    }
    Ok(Some(Ace {
        line: n,
        text: text.to_string(),
        permit,
        svcs: list,
        src,
        dst,
        established,
        flags,
        time_range,
        reflect,
        evaluate: None,
    }))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Minutes since 1970 of noon on `today`: a rule is judged in the middle
/// of the day the policy is checked on.
pub(crate) fn today_minutes(today: Date) -> i64 {
    days_from_civil(
        i64::from(today.year),
        i64::from(today.month),
        i64::from(today.day),
    ) * 1440
        + 12 * 60
}

/// `absolute [start HH:MM D Month YYYY] [end HH:MM D Month YYYY]`.
pub(crate) fn parse_time_range(w: &[&str], n: usize) -> Res<TimeRange> {
    let mut tr = TimeRange::default();
    match w {
        ["absolute", rest @ ..] => {
            let mut i = 0;
            while i < rest.len() {
                let (Some(which), Some(hm), Some(d), Some(mon), Some(y)) = (
                    rest.get(i),
                    rest.get(i + 1),
                    rest.get(i + 2),
                    rest.get(i + 3),
                    rest.get(i + 4),
                ) else {
                    return Err((n, format!("bad absolute time `{}`", w.join(" "))));
                };
                let (h, m) = hm.split_once(':').ok_or((n, format!("bad time `{hm}`")))?;
                let h: i64 = h.parse().map_err(|_| (n, format!("bad time `{hm}`")))?;
                let m: i64 = m.parse().map_err(|_| (n, format!("bad time `{hm}`")))?;
                let d: i64 = d.parse().map_err(|_| (n, format!("bad day `{d}`")))?;
                let y: i64 = y.parse().map_err(|_| (n, format!("bad year `{y}`")))?;
                let mi = MONTHS
                    .iter()
                    .position(|x| x.starts_with(&mon.to_ascii_lowercase()) && mon.len() >= 3)
                    .ok_or((n, format!("bad month `{mon}`")))?;
                let mins =
                    days_from_civil(y, i64::try_from(mi).unwrap_or(0) + 1, d) * 1440 + h * 60 + m;
                match *which {
                    "start" => tr.start = Some(mins),
                    "end" => tr.end = Some(mins),
                    _ => return Err((n, format!("expected `start` or `end`, found `{which}`"))),
                }
                i += 5;
            }
            Ok(tr)
        }
        ["periodic", ..] => Err((n, "periodic time ranges are not modelled".into())),
        _ => Err((n, format!("unexpected time-range line `{}`", w.join(" ")))),
    }
}

impl Ios {
    fn iface_for(&self, zone: Option<&str>) -> Option<&Iface> {
        let zone = zone?;
        self.ifaces
            .iter()
            .find(|i| net::names_zone(&i.name, zone))
            .or_else(|| {
                self.ifaces.iter().find(|i| {
                    i.description
                        .split_whitespace()
                        .any(|w| net::names_zone(w, zone))
                })
            })
    }

    fn time_active(&self, name: &str, env: &Env<'_>) -> bool {
        let Some(tr) = self.time_ranges.get(name) else {
            // IOS treats an undefined time range as always active.
            return true;
        };
        let now = today_minutes(env.today);
        tr.start.is_none_or(|s| s <= now) && tr.end.is_none_or(|e| now < e)
    }

    /// Opens the reflexive session of a permitted packet: the reply with
    /// addresses and ports swapped.
    fn open_session(&self, list: &str, p: &Packet) {
        let ported = matches!(p.proto, 6 | 17);
        let s = Session {
            list: list.to_string(),
            src: p.dst,
            dst: p.src,
            proto: p.proto,
            sport: if ported { p.selector } else { 0 },
            dport: if ported { p.sport } else { 0 },
        };
        let mut open = self.sessions.borrow_mut();
        if !open.contains(&s) {
            open.push(s);
        }
    }

    /// Whether `p` belongs to an open session of the reflexive list.
    fn in_session(&self, list: &str, p: &Packet) -> bool {
        let ported = matches!(p.proto, 6 | 17);
        self.sessions.borrow().iter().any(|s| {
            s.list == list
                && s.src == p.src
                && s.dst == p.dst
                && s.proto == p.proto
                && (!ported || (s.sport == p.sport && s.dport == p.selector))
        })
    }

    fn eval_acl(&self, name: &str, p: &Packet, env: &Env<'_>, dir: &str) -> Decision {
        let Some(acl) = self.acls.get(name) else {
            return Decision::implicit(
                true,
                format!("ACL `{name}` ({dir}) is not defined, so it permits"),
            );
        };
        let v6 = p.src.is_ipv6();
        if acl.v6 != v6 {
            return Decision::implicit(true, format!("ACL `{name}` is of the other family"));
        }
        for ace in &acl.entries {
            if let Some(list) = &ace.evaluate {
                if self.in_session(list, p) {
                    return Decision::at(true, ace.line, &ace.text);
                }
                continue;
            }
            if !ace.src.contains(p.src) || !ace.dst.contains(p.dst) {
                continue;
            }
            if !ace.svcs.iter().any(|s| s.matches(p)) {
                continue;
            }
            if (ace.established || !ace.flags.is_empty()) && p.proto != 6 {
                continue;
            }
            if ace.established && !p.ack {
                continue;
            }
            if ace.flags.iter().any(|f| match f.as_str() {
                "ack" => !p.ack,
                "syn" => p.ack,
                _ => true,
            }) {
                continue;
            }
            if let Some(tr) = &ace.time_range
                && !self.time_active(tr, env)
            {
                continue;
            }
            if let Some(list) = &ace.reflect {
                self.open_session(list, p);
            }
            return Decision::at(ace.permit, ace.line, &ace.text);
        }
        if v6 && p.proto == 58 && (p.selector == 135 || p.selector == 136) {
            return Decision::implicit(
                true,
                format!("implicit neighbour-discovery permit of ACL `{name}`"),
            );
        }
        Decision::implicit(false, format!("implicit deny at the end of ACL `{name}`"))
    }
}

/// The verdict of the inbound ACL bound on `interface` (for the packet's
/// family) for one packet entering there, whatever its destination: the
/// switch's own traffic included.
pub(crate) fn inbound(dev: &Ios, interface: &str, p: &Packet, today: Date) -> Option<Decision> {
    let iface = dev.ifaces.iter().find(|i| i.name == interface)?;
    let acl = if p.src.is_ipv6() {
        iface.v6_in.as_ref()
    } else {
        iface.v4_in.as_ref()
    }?;
    let env = Env {
        src_zone: None,
        dst_zone: None,
        today,
        src_side: None,
        dst_side: None,
        sides_known: true,
    };
    Some(dev.eval_acl(acl, p, &env, "in"))
}

impl Device for Ios {
    fn side(&self, zone: &str) -> Option<String> {
        self.iface_for(Some(zone)).map(|i| i.name.clone())
    }

    fn decide(&self, p: &Packet, env: &Env<'_>) -> Option<Decision> {
        if p.kind != ProbeKind::Reply {
            self.sessions.borrow_mut().clear();
        }
        let any_binding = self.ifaces.iter().any(|i| {
            i.v4_in.is_some() || i.v4_out.is_some() || i.v6_in.is_some() || i.v6_out.is_some()
        });
        let v6 = p.src.is_ipv6();
        if !any_binding {
            // No interface binding: the single ACL of the family filters
            // by address on every path.
            let mut names = self.acls.iter().filter(|(_, a)| a.v6 == v6).map(|(n, _)| n);
            let first = names.next();
            if names.next().is_some() {
                return None;
            }
            return Some(match first {
                Some(name) => self.eval_acl(name, p, env, "by address"),
                None => Decision::implicit(true, "no ACL of this family at all"),
            });
        }
        // A side without an interface (a zone the binding does not list)
        // has no ACL of Zonal's: only the other side's ACL judges.
        let find = |name: Option<String>| -> Option<Option<&Iface>> {
            match name {
                None => Some(None),
                Some(n) => self.ifaces.iter().find(|i| i.name == n).map(Some),
            }
        };
        let ingress = find(env.src(self))?;
        let egress = find(env.dst(self))?;
        if ingress.is_none() && egress.is_none() {
            return None;
        }
        let (acl_in, acl_out) = if v6 {
            (
                ingress.and_then(|i| i.v6_in.as_ref()),
                egress.and_then(|i| i.v6_out.as_ref()),
            )
        } else {
            (
                ingress.and_then(|i| i.v4_in.as_ref()),
                egress.and_then(|i| i.v4_out.as_ref()),
            )
        };
        let name = |i: Option<&Iface>| i.map_or("-", |i| i.name.as_str()).to_string();
        let mut last = Decision::implicit(
            true,
            format!("no ACL bound on `{}` or `{}`", name(ingress), name(egress)),
        );
        if let Some(a) = acl_in {
            let d = self.eval_acl(a, p, env, "in");
            if !d.allow {
                return Some(d);
            }
            last = d;
        }
        if let Some(a) = acl_out {
            let d = self.eval_acl(a, p, env, "out");
            if !d.allow {
                return Some(d);
            }
            if acl_in.is_none() {
                last = d;
            }
        }
        Some(last)
    }

    fn strict_replies(&self) -> bool {
        true
    }

    fn filters_by_ingress(&self) -> bool {
        true
    }

    fn stateless_for(&self, _proto: u8) -> bool {
        true
    }
}

/// A running configuration under IOS's merge semantics, for the redeploy
/// simulation: configuration text is applied on top of what is there, as
/// a paste into `configure terminal` would be.
///
/// - `object-group network X` creates X or re-enters it: members are
///   added to the ones it has (never replaced);
/// - `ip access-list extended X` / `ipv6 access-list X` create or re-enter
///   the ACL: entries are appended after the ones it has;
/// - `no object-group network X`, `no ip access-list …`, `no time-range X`
///   remove X (nothing when it does not exist) and fail when it is in use (an ACL entry, an interface
///   or a line uses it); on a real device removing a bound ACL or a used
///   time range is accepted but leaves the interface permitting
///   everything or the entry always active, so the simulation refuses it;
/// - `interface X` / `ip access-group A in|out` and `ipv6 traffic-filter A
///   in|out` replace that direction's binding (A must exist);
/// - `time-range X` / `absolute …` replaces the absolute period;
/// - every other block (hostname, `line vty`, …) is kept as it is written
///   and re-entering it adds lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Running {
    groups: BTreeMap<String, RGroup>,
    acls: BTreeMap<String, RAcl>,
    time_ranges: BTreeMap<String, Vec<String>>,
    ifaces: BTreeMap<String, RIface>,
    other: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RGroup {
    description: Option<String>,
    members: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RAcl {
    v6: bool,
    entries: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RIface {
    lines: Vec<String>,
    /// `[v4 in, v4 out, v6 in, v6 out]`.
    bound: [Option<String>; 4],
}

enum RBlock {
    None,
    Group(String),
    Acl(String),
    TimeRange(String),
    Iface(String),
    Other(String),
}

impl Running {
    /// Applies configuration text; the first line a device would refuse
    /// is an error (nothing after it is applied).
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per configuration command of the merge model"
    )]
    pub(crate) fn apply(&mut self, text: &str) -> Res<()> {
        let mut block = RBlock::None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim_end();
            let t = line.trim_start();
            if t.is_empty() {
                continue;
            }
            if t.starts_with('!') {
                block = RBlock::None;
                continue;
            }
            let w: Vec<&str> = t.split_whitespace().collect();
            if !line.starts_with(' ') {
                block = RBlock::None;
                match w.as_slice() {
                    ["configure", "terminal"] | ["end"] => {}
                    ["object-group", "network", name] => {
                        self.groups.entry((*name).to_string()).or_default();
                        block = RBlock::Group((*name).to_string());
                    }
                    ["no", "object-group", "network", name] => {
                        if let Some(user) = self.group_user(name) {
                            return Err((
                                n,
                                format!("object-group `{name}` is in use by ACL `{user}`"),
                            ));
                        }
                        self.groups.remove(*name);
                    }
                    ["ip", "access-list", "extended", name] | ["ipv6", "access-list", name] => {
                        let v6 = w[0] == "ipv6";
                        let acl = self.acls.entry((*name).to_string()).or_insert(RAcl {
                            v6,
                            entries: Vec::new(),
                        });
                        if acl.v6 != v6 {
                            return Err((n, format!("ACL `{name}` exists in the other family")));
                        }
                        block = RBlock::Acl((*name).to_string());
                    }
                    ["no", "ip", "access-list", "extended", name]
                    | ["no", "ipv6", "access-list", name] => {
                        if let Some(user) = self.acl_user(name) {
                            return Err((n, format!("ACL `{name}` is in use on `{user}`")));
                        }
                        self.acls.remove(*name);
                    }
                    ["time-range", name] => {
                        self.time_ranges.entry((*name).to_string()).or_default();
                        block = RBlock::TimeRange((*name).to_string());
                    }
                    ["no", "time-range", name] => {
                        if let Some(user) = self.word_user("time-range", name) {
                            return Err((
                                n,
                                format!("time-range `{name}` is in use by ACL `{user}`"),
                            ));
                        }
                        self.time_ranges.remove(*name);
                    }
                    ["interface", name] => {
                        self.ifaces.entry((*name).to_string()).or_default();
                        block = RBlock::Iface((*name).to_string());
                    }
                    ["no", ..] => return Err((n, format!("unmodelled removal `{t}`"))),
                    _ => {
                        self.other.entry(t.to_string()).or_default();
                        block = RBlock::Other(t.to_string());
                    }
                }
                continue;
            }
            match &block {
                RBlock::None => return Err((n, format!("indented line outside a block: `{t}`"))),
                RBlock::Group(g) => {
                    let Some(grp) = self.groups.get_mut(g) else {
                        continue;
                    };
                    match w.as_slice() {
                        ["description", ..] => grp.description = Some(t.to_string()),
                        ["group-object", other] if !self.groups.contains_key(*other) => {
                            return Err((n, format!("object-group `{other}` does not exist")));
                        }
                        _ => {
                            if let Some(grp) = self.groups.get_mut(g)
                                && !grp.members.iter().any(|m| m == t)
                            {
                                grp.members.push(t.to_string());
                            }
                        }
                    }
                }
                RBlock::Acl(a) => {
                    for (k, word) in w.iter().enumerate() {
                        if *word == "object-group"
                            && let Some(g) = w.get(k + 1)
                            && !self.groups.contains_key(*g)
                        {
                            return Err((n, format!("object-group `{g}` does not exist")));
                        }
                    }
                    if let Some(first) = w.first()
                        && first.parse::<u32>().is_ok()
                    {
                        return Err((n, "sequence numbers are not modelled".to_string()));
                    }
                    if let Some(acl) = self.acls.get_mut(a) {
                        acl.entries.push(t.to_string());
                    }
                }
                RBlock::TimeRange(tr) => {
                    if let Some(lines) = self.time_ranges.get_mut(tr) {
                        if w.first() == Some(&"absolute") {
                            lines.retain(|l| !l.starts_with("absolute"));
                        }
                        lines.push(t.to_string());
                    }
                }
                RBlock::Iface(name) => {
                    let slot = match w.as_slice() {
                        ["ip", "access-group", acl, dir] => Some((0, Some(*acl), *dir)),
                        ["ipv6", "traffic-filter", acl, dir] => Some((2, Some(*acl), *dir)),
                        ["no", "ip", "access-group", .., dir] => Some((0, None, *dir)),
                        ["no", "ipv6", "traffic-filter", .., dir] => Some((2, None, *dir)),
                        _ => None,
                    };
                    match slot {
                        Some((base, acl, dir)) => {
                            let k = base + usize::from(dir == "out");
                            if !matches!(dir, "in" | "out") {
                                return Err((n, format!("bad direction in `{t}`")));
                            }
                            if let Some(a) = acl {
                                match self.acls.get(a) {
                                    None => {
                                        return Err((
                                            n,
                                            format!(
                                                "ACL `{a}` does not exist: the interface would permit everything"
                                            ),
                                        ));
                                    }
                                    Some(x) if x.v6 != (base == 2) => {
                                        return Err((
                                            n,
                                            format!("ACL `{a}` is of the other family"),
                                        ));
                                    }
                                    Some(_) => {}
                                }
                            }
                            if let Some(iface) = self.ifaces.get_mut(name) {
                                iface.bound[k] = acl.map(str::to_string);
                            }
                        }
                        None => {
                            if let Some(iface) = self.ifaces.get_mut(name)
                                && !iface.lines.iter().any(|l| l == t)
                            {
                                iface.lines.push(t.to_string());
                            }
                        }
                    }
                }
                RBlock::Other(top) => {
                    if let Some(lines) = self.other.get_mut(top) {
                        lines.push(t.to_string());
                    }
                }
            }
        }
        Ok(())
    }

    /// An ACL whose entries use object group `name`.
    fn group_user(&self, name: &str) -> Option<String> {
        self.word_user("object-group", name).or_else(|| {
            self.groups
                .iter()
                .find(|(_, g)| {
                    g.members
                        .iter()
                        .any(|m| m == &format!("group-object {name}"))
                })
                .map(|(n, _)| n.clone())
        })
    }

    /// An ACL with an entry that has `keyword name`.
    fn word_user(&self, keyword: &str, name: &str) -> Option<String> {
        self.acls
            .iter()
            .find(|(_, a)| {
                a.entries.iter().any(|e| {
                    e.split_whitespace()
                        .collect::<Vec<_>>()
                        .windows(2)
                        .any(|p| p[0] == keyword && p[1] == name)
                })
            })
            .map(|(n, _)| n.clone())
    }

    /// An interface or another block (a `line vty` with `access-class`)
    /// that uses ACL `name`.
    fn acl_user(&self, name: &str) -> Option<String> {
        self.ifaces
            .iter()
            .find(|(_, i)| i.bound.iter().flatten().any(|a| a == name))
            .map(|(n, _)| n.clone())
            .or_else(|| {
                self.other
                    .iter()
                    .find(|(_, lines)| {
                        lines
                            .iter()
                            .any(|l| l.split_whitespace().any(|w| w == name))
                    })
                    .map(|(n, _)| n.clone())
            })
    }

    /// The configuration the readers evaluate: object groups, time
    /// ranges, ACLs and interfaces (other blocks are not filtering).
    pub(crate) fn show(&self) -> String {
        let mut out = String::new();
        for (name, g) in &self.groups {
            out.push_str(&format!("object-group network {name}\n"));
            if let Some(d) = &g.description {
                out.push_str(&format!(" {d}\n"));
            }
            for m in &g.members {
                out.push_str(&format!(" {m}\n"));
            }
            out.push_str("!\n");
        }
        for (name, lines) in &self.time_ranges {
            out.push_str(&format!("time-range {name}\n"));
            for l in lines {
                out.push_str(&format!(" {l}\n"));
            }
            out.push_str("!\n");
        }
        for (name, a) in &self.acls {
            if a.v6 {
                out.push_str(&format!("ipv6 access-list {name}\n"));
            } else {
                out.push_str(&format!("ip access-list extended {name}\n"));
            }
            for e in &a.entries {
                out.push_str(&format!(" {e}\n"));
            }
            out.push_str("!\n");
        }
        for (name, i) in &self.ifaces {
            out.push_str(&format!("interface {name}\n"));
            for l in &i.lines {
                out.push_str(&format!(" {l}\n"));
            }
            let kw = [
                "ip access-group",
                "ip access-group",
                "ipv6 traffic-filter",
                "ipv6 traffic-filter",
            ];
            for (k, b) in i.bound.iter().enumerate() {
                if let (Some(a), Some(kw)) = (b, kw.get(k)) {
                    let dir = if k % 2 == 0 { "in" } else { "out" };
                    out.push_str(&format!(" {kw} {a} {dir}\n"));
                }
            }
            out.push_str("!\n");
        }
        out
    }

    /// Everything, other blocks included.
    pub(crate) fn dump(&self) -> String {
        let mut out = self.show();
        for (top, lines) in &self.other {
            out.push_str(top);
            out.push('\n');
            for l in lines {
                out.push_str(&format!(" {l}\n"));
            }
            out.push_str("!\n");
        }
        out
    }

    /// A copy without the named objects (ACLs, object groups, time
    /// ranges) and without the bindings of the named interfaces.
    pub(crate) fn without(&self, objects: &[String], interfaces: &[String]) -> Running {
        let mut r = self.clone();
        for o in objects {
            r.acls.remove(o);
            r.groups.remove(o);
            r.time_ranges.remove(o);
        }
        for i in interfaces {
            if let Some(iface) = r.ifaces.get_mut(i) {
                iface.bound = [None, None, None, None];
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::ProbeKind;

    fn pkt(src: &str, dst: &str, proto: u8, sport: u16, sel: u16, ack: bool) -> Packet {
        Packet {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto,
            sport,
            selector: sel,
            ack,
            kind: ProbeKind::New,
        }
    }

    const SAMPLE: &str = "\
object-group network OG_IMAGING_V4
 description zone imaging
 10.20.0.0 255.255.255.0
 host 10.20.1.10
 range 10.20.2.1 10.20.2.50
object-group network OG_PACS_V4
 host 10.30.0.5
object-group service OG_R1_DICOM
 tcp eq 104
 tcp eq 11112
 udp range 5000 5010
!
ip access-list extended ACL4_IMAGING_IN
 remark R1 DICOM imaging to pacs
 permit object-group OG_R1_DICOM object-group OG_IMAGING_V4 object-group OG_PACS_V4
 permit icmp object-group OG_IMAGING_V4 object-group OG_PACS_V4 echo
 deny ip any any log
ip access-list extended ACL4_PACS_IN
 permit tcp host 10.30.0.5 eq 104 object-group OG_IMAGING_V4 established
 permit tcp host 10.30.0.5 eq 11112 any
 deny ip any any log
!
interface Vlan20
 description zone imaging
 ip access-group ACL4_IMAGING_IN in
interface Vlan30
 description zone pacs
 ip access-group ACL4_PACS_IN in
";

    #[test]
    fn first_match_groups_and_established() {
        let dev = read(SAMPLE).unwrap();
        let env = Env {
            src_zone: Some("imaging"),
            dst_zone: Some("pacs"),
            today: Date::new(2026, 11, 28).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        let d = dev
            .decide(
                &pkt("10.20.2.50", "10.30.0.5", 6, 40000, 11112, false),
                &env,
            )
            .unwrap();
        assert!(d.allow, "{d}");
        assert_eq!(d.line, Some(15));
        let d = dev
            .decide(
                &pkt("10.20.2.51", "10.30.0.5", 6, 40000, 11112, false),
                &env,
            )
            .unwrap();
        assert!(!d.allow);
        let d = dev
            .decide(&pkt("10.20.0.9", "10.30.0.5", 1, 0, 8, false), &env)
            .unwrap();
        assert!(d.allow);
        let back = Env {
            src_zone: Some("pacs"),
            dst_zone: Some("imaging"),
            today: env.today,
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        // A reply with ACK passes the established entry; a SYN does not.
        assert!(
            dev.decide(&pkt("10.30.0.5", "10.20.0.9", 6, 104, 40000, true), &back)
                .unwrap()
                .allow
        );
        assert!(
            !dev.decide(&pkt("10.30.0.5", "10.20.0.9", 6, 104, 40000, false), &back)
                .unwrap()
                .allow
        );
        // The source-port hole: a SYN from port 11112 to any port passes.
        let d = dev
            .decide(&pkt("10.30.0.5", "10.20.0.9", 6, 11112, 22, false), &back)
            .unwrap();
        assert!(d.allow);
        assert_eq!(d.line, Some(20));
    }

    #[test]
    fn unknown_syntax_is_an_error() {
        let err = read("ip access-list extended X\n permit tcp any any dscp ef\n").unwrap_err();
        assert_eq!(err.0, 2);
    }

    #[test]
    fn running_config_merges_like_ios() {
        let mut run = Running::default();
        run.apply("object-group network G\n host 10.0.0.1\n host 10.0.0.2\n!\nip access-list extended A\n permit ip object-group G any\n!\ninterface Vlan1\n description users\n ip access-group A in\n!\n").unwrap();
        // Re-entering a group adds members; it never replaces them.
        run.apply("object-group network G\n host 10.0.0.3\n!\n")
            .unwrap();
        assert!(
            run.show()
                .contains(" host 10.0.0.1\n host 10.0.0.2\n host 10.0.0.3\n")
        );
        // Re-entering an ACL appends entries after the ones it has.
        run.apply("ip access-list extended A\n deny ip any any\n!\n")
            .unwrap();
        assert!(
            run.show()
                .contains(" permit ip object-group G any\n deny ip any any\n")
        );
        // Removing what is in use fails, at its line.
        assert_eq!(
            run.apply("!\nno object-group network G\n").unwrap_err().0,
            2
        );
        assert_eq!(
            run.apply("no ip access-list extended A\n").unwrap_err().0,
            1
        );
        // Binding an ACL that does not exist would permit everything.
        assert!(
            run.apply("interface Vlan1\n ip access-group B in\n")
                .is_err()
        );
        // A binding is replaced; then the old ACL and group can go.
        run.apply("ip access-list extended B\n permit ip any any\n!\ninterface Vlan1\n ip access-group B in\n!\nno ip access-list extended A\nno object-group network G\n").unwrap();
        let shown = run.show();
        assert!(
            shown.contains(" description users\n ip access-group B in\n"),
            "{shown}"
        );
        assert!(!shown.contains("object-group network G"), "{shown}");
    }

    #[test]
    fn reflexive_sessions_admit_only_their_replies() {
        let dev = read("ip access-list extended IN\n evaluate R\n permit udp 10.1.0.0 0.0.0.255 host 10.2.0.5 eq 53 reflect R\n deny ip any any\n").unwrap();
        let env = Env {
            src_zone: None,
            dst_zone: None,
            today: Date::new(2026, 11, 28).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        let q = pkt("10.1.0.7", "10.2.0.5", 17, 40000, 53, false);
        assert!(dev.decide(&q, &env).unwrap().allow);
        let mut reply = pkt("10.2.0.5", "10.1.0.7", 17, 53, 40000, false);
        reply.kind = ProbeKind::Reply;
        assert!(dev.decide(&reply, &env).unwrap().allow);
        // Another port, or a packet that is not a reply, does not pass.
        let mut other = reply.clone();
        other.selector = 40001;
        assert!(!dev.decide(&other, &env).unwrap().allow);
        let unsolicited = pkt("10.2.0.5", "10.1.0.7", 17, 53, 40000, false);
        assert!(!dev.decide(&unsolicited, &env).unwrap().allow);
    }
}
