//! Cisco ASA: objects, object groups, time ranges, extended access lists,
//! `access-group` bindings, interfaces with security levels and the
//! same-security settings.
//!
//! Evaluation of a packet entering interface I (the source zone's) and
//! leaving interface O (the destination zone's):
//! - I == O (hairpin) is dropped unless `same-security-traffic permit
//!   intra-interface`;
//! - with an inbound ACL on I: its entries first match, then the global
//!   ACL, then the implicit deny;
//! - without one: the global ACL if any (then implicit deny), else the
//!   security levels (higher to lower permitted, equal levels only with
//!   `same-security-traffic permit inter-interface`);
//! - then the outbound ACL on O, if any.
//!
//! A packet to a zone the binding does not list leaves by an interface the
//! config does not name: its inbound ACL alone decides (it must hold every
//! flow leaving its zone); packets from unlisted zones enter on interfaces
//! Zonal does not own and are not judged.
//!
//! `any` matches both families (`any4`/`any6` one). TCP and UDP are
//! stateful; ICMP is stateful only with `inspect icmp`.

use std::collections::BTreeMap;

use crate::ios::{self, Res, Svc, TimeRange};
use crate::net::{self, Addrs, Ports};
use crate::{Decision, Device, Env, Packet};

#[derive(Clone, Debug)]
struct Ace {
    line: usize,
    text: String,
    permit: bool,
    svcs: Vec<Svc>,
    src: Addrs,
    dst: Addrs,
    time_range: Option<String>,
    inactive: bool,
}

#[derive(Clone, Debug, Default)]
struct Iface {
    nameif: String,
    level: u8,
}

/// The ASA device model.
#[derive(Debug, Default)]
pub(crate) struct Asa {
    nets: BTreeMap<String, Addrs>,
    svcs: BTreeMap<String, Vec<Svc>>,
    /// Port groups (`object-group service NAME tcp` with `port-object`).
    port_groups: BTreeMap<String, Ports>,
    icmp_groups: BTreeMap<String, Vec<u16>>,
    acls: BTreeMap<String, Vec<Ace>>,
    bind_in: BTreeMap<String, String>,
    bind_out: BTreeMap<String, String>,
    global: Option<String>,
    ifaces: Vec<Iface>,
    /// Zone → nameif, from the renderer's `! Zone Z: traffic entering interface I` comments.
    zone_hint: BTreeMap<String, String>,
    same_inter: bool,
    same_intra: bool,
    inspect_icmp: bool,
    time_ranges: BTreeMap<String, TimeRange>,
}

enum Block {
    None,
    Net(String),
    Svc(String),
    PortGroup(String),
    Proto(String),
    Icmp(String),
    Iface(usize),
    TimeRange(String),
    Policy,
}

#[expect(
    clippy::too_many_lines,
    reason = "one match arm per configuration statement of the device grammar"
)]
pub(crate) fn read(text: &str) -> Res<Asa> {
    let mut dev = Asa::default();
    let mut block = Block::None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        let t = line.trim_start();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('!') || t.starts_with(':') {
            // `! Zone imaging: traffic entering interface inside`
            if let Some(rest) = t.trim_start_matches('!').trim().strip_prefix("Zone ")
                && let Some((zone, tail)) = rest.split_once(':')
                && let Some(iface) = tail.trim().strip_prefix("traffic entering interface ")
            {
                dev.zone_hint
                    .insert(zone.trim().to_string(), iface.trim().to_string());
            }
            if !line.starts_with(' ') {
                block = Block::None;
            }
            continue;
        }
        let w: Vec<&str> = t.split_whitespace().collect();
        if !line.starts_with(' ') {
            block = Block::None;
            match w.as_slice() {
                // Re-entering an object group adds to its members.
                ["object", "network", name] | ["object-group", "network", name] => {
                    dev.nets
                        .entry((*name).to_string())
                        .or_insert_with(Addrs::none);
                    block = Block::Net((*name).to_string());
                }
                ["object", "service", name] | ["object-group", "service", name] => {
                    dev.svcs.entry((*name).to_string()).or_default();
                    block = Block::Svc((*name).to_string());
                }
                ["object-group", "service", name, kind] => {
                    if !matches!(*kind, "tcp" | "udp" | "tcp-udp") {
                        return Err((n, format!("unknown service group kind `{kind}`")));
                    }
                    dev.port_groups
                        .insert((*name).to_string(), Ports::default());
                    block = Block::PortGroup((*name).to_string());
                }
                ["object-group", "protocol", name] => {
                    dev.svcs.insert((*name).to_string(), Vec::new());
                    block = Block::Proto((*name).to_string());
                }
                ["object-group", "icmp-type", name] => {
                    dev.icmp_groups.insert((*name).to_string(), Vec::new());
                    block = Block::Icmp((*name).to_string());
                }
                ["time-range", name] => {
                    dev.time_ranges
                        .insert((*name).to_string(), TimeRange::default());
                    block = Block::TimeRange((*name).to_string());
                }
                ["interface", ..] => {
                    dev.ifaces.push(Iface::default());
                    block = Block::Iface(dev.ifaces.len() - 1);
                }
                ["same-security-traffic", "permit", which] => match *which {
                    "inter-interface" => dev.same_inter = true,
                    "intra-interface" => dev.same_intra = true,
                    _ => return Err((n, format!("unknown same-security-traffic `{which}`"))),
                },
                ["no", "same-security-traffic", "permit", which] => match *which {
                    "inter-interface" => dev.same_inter = false,
                    "intra-interface" => dev.same_intra = false,
                    _ => return Err((n, format!("unknown same-security-traffic `{which}`"))),
                },
                ["access-list", name, "remark", ..] => {
                    dev.acls.entry((*name).to_string()).or_default();
                }
                ["access-list", name, rest @ ..] => {
                    let mut rest = rest;
                    if rest.first() == Some(&"line") {
                        return Err((n, "`access-list … line N` insertion is not modelled".into()));
                    }
                    if rest.first() == Some(&"extended") {
                        rest = &rest[1..];
                    } else {
                        return Err((n, format!("unsupported access-list form `{t}`")));
                    }
                    let ace = parse_ace(&dev, rest, n, t)?;
                    let acl = dev.acls.entry((*name).to_string()).or_default();
                    // Lines append; the ASA refuses a duplicate ACE.
                    if !acl.iter().any(|a| a.text == ace.text) {
                        acl.push(ace);
                    }
                }
                ["clear", "configure", "access-list", name] => {
                    dev.acls.remove(*name);
                }
                ["no", "access-list", name, ..] if w.len() == 3 => {
                    dev.acls.remove(*name);
                }
                ["access-group", acl, "in", "interface", iface] => {
                    dev.bind_in.insert((*iface).to_string(), (*acl).to_string());
                }
                ["access-group", acl, "out", "interface", iface] => {
                    dev.bind_out
                        .insert((*iface).to_string(), (*acl).to_string());
                }
                ["access-group", acl, "global"] => dev.global = Some((*acl).to_string()),
                ["policy-map", ..] => block = Block::Policy,
                ["exit"]
                | ["end"]
                | ["hostname", ..]
                | ["write", ..]
                | ["configure", ..]
                | ["commit"] => {}
                _ => return Err((n, format!("unexpected top-level line `{t}`"))),
            }
            continue;
        }
        match &block {
            Block::None => return Err((n, format!("indented line outside a block: `{t}`"))),
            Block::Policy => {
                if w.as_slice() == ["inspect", "icmp"] {
                    dev.inspect_icmp = true;
                }
            }
            Block::Net(name) => {
                let add = net_member(&dev, &w, n)?;
                if let Some(s) = dev.nets.get_mut(name) {
                    s.extend(&add);
                }
            }
            Block::Svc(name) => {
                let add = svc_member(&dev, &w, n)?;
                if let Some(s) = dev.svcs.get_mut(name) {
                    s.extend(add);
                }
            }
            Block::PortGroup(name) => {
                let add = match w.as_slice() {
                    ["description", ..] => Ports::default(),
                    ["port-object", rest @ ..] => {
                        let (p, used) = ios::parse_port_op(rest, n)?
                            .ok_or((n, format!("bad port-object `{t}`")))?;
                        if used != rest.len() {
                            return Err((n, format!("bad port-object `{t}`")));
                        }
                        p
                    }
                    ["group-object", g] => dev
                        .port_groups
                        .get(*g)
                        .cloned()
                        .ok_or((n, format!("unknown group `{g}`")))?,
                    _ => return Err((n, format!("unexpected port group line `{t}`"))),
                };
                if let Some(s) = dev.port_groups.get_mut(name) {
                    s.0.extend(add.0);
                }
            }
            Block::Proto(name) => {
                let add = match w.as_slice() {
                    ["description", ..] => Vec::new(),
                    ["protocol-object", "ip"] => vec![Svc::any()],
                    ["protocol-object", p] => {
                        vec![Svc {
                            proto: Some(
                                net::proto_by_name(p)
                                    .ok_or((n, format!("unknown protocol `{p}`")))?,
                            ),
                            ..Svc::any()
                        }]
                    }
                    ["group-object", g] => dev
                        .svcs
                        .get(*g)
                        .cloned()
                        .ok_or((n, format!("unknown group `{g}`")))?,
                    _ => return Err((n, format!("unexpected protocol group line `{t}`"))),
                };
                if let Some(s) = dev.svcs.get_mut(name) {
                    s.extend(add);
                }
            }
            Block::Icmp(name) => {
                let add = match w.as_slice() {
                    ["description", ..] => Vec::new(),
                    ["icmp-object", ty] => {
                        vec![
                            net::icmp_type_by_name(ty, false)
                                .ok_or((n, format!("unknown ICMP type `{ty}`")))?,
                        ]
                    }
                    ["group-object", g] => dev
                        .icmp_groups
                        .get(*g)
                        .cloned()
                        .ok_or((n, format!("unknown group `{g}`")))?,
                    _ => return Err((n, format!("unexpected icmp-type group line `{t}`"))),
                };
                if let Some(s) = dev.icmp_groups.get_mut(name) {
                    s.extend(add);
                }
            }
            Block::Iface(idx) => {
                if let Some(iface) = dev.ifaces.get_mut(*idx) {
                    match w.as_slice() {
                        ["nameif", name] => iface.nameif = (*name).to_string(),
                        ["security-level", l] => {
                            iface.level = l.parse().map_err(|_| (n, format!("bad level `{l}`")))?
                        }
                        _ => {}
                    }
                }
            }
            Block::TimeRange(name) => {
                let tr = ios::parse_time_range(&w, n)?;
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
        for ace in acl.iter_mut() {
            ace.src.normalize();
            ace.dst.normalize();
        }
    }
    Ok(dev)
}

fn net_member(dev: &Asa, w: &[&str], n: usize) -> Res<Addrs> {
    let mut s = Addrs::none();
    let w = match w {
        ["network-object", rest @ ..] => rest,
        ["description", ..] => return Ok(s),
        ["group-object", g] => {
            return dev
                .nets
                .get(*g)
                .cloned()
                .ok_or((n, format!("unknown object-group `{g}`")));
        }
        other => other,
    };
    match w {
        ["host", a] => s = Addrs::host(net::parse_ip(a).ok_or((n, format!("bad host `{a}`")))?),
        ["object", o] => {
            s = dev
                .nets
                .get(*o)
                .cloned()
                .ok_or((n, format!("unknown object `{o}`")))?
        }
        ["subnet", a, m] | [a, m] if a.contains('.') => {
            net::add_masked(&mut s, a, m).map_err(|e| (n, e))?
        }
        ["subnet", p] | [p] if p.contains('/') => {
            net::add_prefix_text(&mut s, p).map_err(|e| (n, e))?
        }
        ["range", a, b] => net::add_range_text(&mut s, &format!("{a}-{b}")).map_err(|e| (n, e))?,
        _ => {
            return Err((
                n,
                format!("unexpected network object line `{}`", w.join(" ")),
            ));
        }
    }
    Ok(s)
}

/// `service-object PROTO [source OP…] [destination OP…]`, ICMP types,
/// `service-object object O`, `group-object G`, and an `object service`'s
/// `service …` line.
fn svc_member(dev: &Asa, w: &[&str], n: usize) -> Res<Vec<Svc>> {
    let w = match w {
        ["description", ..] => return Ok(Vec::new()),
        ["group-object", g] | ["service-object", "object", g] => {
            return dev
                .svcs
                .get(*g)
                .cloned()
                .ok_or((n, format!("unknown service group `{g}`")));
        }
        ["service-object", rest @ ..] | ["service", rest @ ..] => rest,
        _ => return Err((n, format!("unexpected service line `{}`", w.join(" ")))),
    };
    let Some((proto, rest)) = w.split_first() else {
        return Err((n, "empty service-object".into()));
    };
    let protos: Vec<Option<u8>> = match *proto {
        "ip" => vec![None],
        "tcp-udp" => vec![Some(6), Some(17)],
        p => vec![Some(
            net::proto_by_name(p).ok_or((n, format!("unknown protocol `{p}`")))?,
        )],
    };
    let mut out = Vec::new();
    for p in protos {
        let mut svc = Svc {
            proto: p,
            ..Svc::any()
        };
        let mut i = 0;
        match p {
            Some(6 | 17) => {
                while i < rest.len() {
                    let which = rest.get(i).copied();
                    let (ports, used) = ios::parse_port_op(rest.get(i + 1..).unwrap_or(&[]), n)?
                        .ok_or((n, format!("bad port spec in `{}`", w.join(" "))))?;
                    match which {
                        Some("source") => svc.sports = Some(ports),
                        Some("destination") => svc.dports = Some(ports),
                        _ => {
                            return Err((
                                n,
                                format!("expected `source` or `destination` in `{}`", w.join(" ")),
                            ));
                        }
                    }
                    i += 1 + used;
                }
            }
            Some(pr @ (1 | 58)) => {
                if let Some(ty) = rest.first() {
                    svc.icmp_type = Some(
                        net::icmp_type_by_name(ty, pr == 58)
                            .ok_or((n, format!("unknown ICMP type `{ty}`")))?,
                    );
                    i = 1;
                }
                if rest.len() > i {
                    return Err((n, "ICMP codes are not modelled".into()));
                }
            }
            _ => {}
        }
        if i < rest.len() {
            return Err((n, format!("unexpected words in `{}`", w.join(" "))));
        }
        out.push(svc);
    }
    Ok(out)
}

fn parse_addr(dev: &Asa, w: &[&str], n: usize) -> Res<(Addrs, usize)> {
    match w {
        ["any", ..] => Ok((Addrs::any(), 1)),
        ["any4", ..] => Ok((Addrs::any_v4(), 1)),
        ["any6", ..] => Ok((Addrs::any_v6(), 1)),
        ["host", a, ..] => Ok((
            Addrs::host(net::parse_ip(a).ok_or((n, format!("bad host `{a}`")))?),
            2,
        )),
        ["object" | "object-group", g, ..] => Ok((
            dev.nets
                .get(*g)
                .cloned()
                .ok_or((n, format!("unknown network object `{g}`")))?,
            2,
        )),
        ["interface", ..] => Err((n, "`interface` addresses are not modelled".into())),
        [p, ..] if p.contains('/') => {
            let mut s = Addrs::none();
            net::add_prefix_text(&mut s, p).map_err(|e| (n, e))?;
            Ok((s, 1))
        }
        [a, m, ..] if a.contains('.') => {
            let mut s = Addrs::none();
            net::add_masked(&mut s, a, m).map_err(|e| (n, e))?;
            Ok((s, 2))
        }
        _ => Err((n, format!("expected an address at `{}`", w.join(" ")))),
    }
}

fn parse_ports(dev: &Asa, w: &[&str], n: usize) -> Res<Option<(Ports, usize)>> {
    if let ["object-group", g, ..] = w
        && let Some(p) = dev.port_groups.get(*g)
    {
        return Ok(Some((p.clone(), 2)));
    }
    ios::parse_port_op(w, n)
}

#[expect(
    clippy::too_many_lines,
    reason = "one branch per field of the ACE grammar, in device order"
)]
fn parse_ace(dev: &Asa, w: &[&str], n: usize, text: &str) -> Res<Ace> {
    let permit = match w.first() {
        Some(&"permit") => true,
        Some(&"deny") => false,
        other => {
            return Err((
                n,
                format!("expected permit or deny, found `{}`", other.unwrap_or(&"")),
            ));
        }
    };
    let mut i = 1;
    let (mut svcs, proto) = match w.get(i..) {
        Some(["object-group" | "object", g, ..]) if dev.svcs.contains_key(*g) => {
            i += 2;
            (dev.svcs.get(*g).cloned().unwrap_or_default(), None)
        }
        Some(["ip", ..]) => {
            i += 1;
            (vec![Svc::any()], None)
        }
        Some([p, ..]) => {
            i += 1;
            let proto = net::proto_by_name(p).ok_or((n, format!("unknown protocol `{p}`")))?;
            (
                vec![Svc {
                    proto: Some(proto),
                    ..Svc::any()
                }],
                Some(proto),
            )
        }
        _ => return Err((n, "missing protocol".into())),
    };
    let ported = matches!(proto, Some(6 | 17));
    let (src, used) = parse_addr(dev, w.get(i..).unwrap_or(&[]), n)?;
    i += used;
    let mut sports = None;
    if ported && let Some((p, used)) = parse_ports(dev, w.get(i..).unwrap_or(&[]), n)? {
        sports = Some(p);
        i += used;
    }
    let (dst, used) = parse_addr(dev, w.get(i..).unwrap_or(&[]), n)?;
    i += used;
    let mut dports = None;
    if ported && let Some((p, used)) = parse_ports(dev, w.get(i..).unwrap_or(&[]), n)? {
        dports = Some(p);
        i += used;
    }
    let mut icmp_types: Option<Vec<u16>> = None;
    let mut time_range = None;
    let mut inactive = false;
    while let Some(word) = w.get(i) {
        i += 1;
        match *word {
            "log" => {
                // `log [level] [interval N] | log disable`.
                while let Some(x) = w.get(i) {
                    if x.parse::<u32>().is_ok()
                        || matches!(
                            *x,
                            "interval"
                                | "disable"
                                | "default"
                                | "emergencies"
                                | "alerts"
                                | "critical"
                                | "errors"
                                | "warnings"
                                | "notifications"
                                | "informational"
                                | "debugging"
                        )
                    {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            "time-range" => {
                time_range = Some(
                    (*w.get(i)
                        .ok_or((n, "`time-range` needs a name".to_string()))?)
                    .to_string(),
                );
                i += 1;
            }
            "inactive" => inactive = true,
            "object-group" if matches!(proto, Some(1 | 58)) && icmp_types.is_none() => {
                let g = w
                    .get(i)
                    .ok_or((n, "`object-group` needs a name".to_string()))?;
                icmp_types = Some(
                    dev.icmp_groups
                        .get(*g)
                        .cloned()
                        .ok_or((n, format!("unknown icmp-type group `{g}`")))?,
                );
                i += 1;
            }
            t if matches!(proto, Some(1 | 58)) && icmp_types.is_none() => {
                icmp_types = Some(vec![
                    net::icmp_type_by_name(t, proto == Some(58))
                        .ok_or((n, format!("unknown ICMP type `{t}`")))?,
                ]);
                if let Some(code) = w.get(i)
                    && code.parse::<u8>().is_ok()
                {
                    return Err((n, "ICMP codes are not modelled".into()));
                }
            }
            other => return Err((n, format!("unexpected word `{other}` in access-list entry"))),
        }
    }
    if proto.is_some() {
        let base = svcs.pop().unwrap_or_else(Svc::any);
        svcs = match icmp_types {
            Some(types) => types
                .into_iter()
                .map(|t| Svc {
                    icmp_type: Some(t),
                    ..base.clone()
                })
                .collect(),
            None => vec![Svc {
                sports,
                dports,
                ..base
            }],
        };
    } else if sports.is_some() || dports.is_some() || icmp_types.is_some() {
        return Err((n, "ports given with a protocol that has none".into()));
    }
    Ok(Ace {
        line: n,
        text: text.to_string(),
        permit,
        svcs,
        src,
        dst,
        time_range,
        inactive,
    })
}

impl Asa {
    fn nameif_for(&self, zone: Option<&str>) -> Option<String> {
        let zone = zone?;
        if let Some(i) = self.zone_hint.get(zone) {
            return Some(i.clone());
        }
        let names = self
            .ifaces
            .iter()
            .map(|i| i.nameif.as_str())
            .chain(self.bind_in.keys().map(String::as_str));
        let found = names.into_iter().find(|n| net::names_zone(n, zone));
        found.map(str::to_string)
    }

    fn level(&self, nameif: &str) -> u8 {
        self.ifaces
            .iter()
            .find(|i| i.nameif == nameif)
            .map_or(0, |i| i.level)
    }

    fn time_active(&self, name: &str, env: &Env<'_>) -> bool {
        let Some(tr) = self.time_ranges.get(name) else {
            return false;
        };
        let now = ios::today_minutes(env.today);
        tr.start.is_none_or(|s| s <= now) && tr.end.is_none_or(|e| now < e)
    }

    fn eval(&self, acl: &str, p: &Packet, env: &Env<'_>) -> Option<Decision> {
        for ace in self.acls.get(acl)? {
            if ace.inactive || !ace.src.contains(p.src) || !ace.dst.contains(p.dst) {
                continue;
            }
            if !ace.svcs.iter().any(|s| s.matches(p)) {
                continue;
            }
            if let Some(tr) = &ace.time_range
                && !self.time_active(tr, env)
            {
                continue;
            }
            return Some(Decision::at(ace.permit, ace.line, &ace.text));
        }
        None
    }

    /// ICMP replies need an ACE unless `inspect icmp` is on.
    pub(crate) fn icmp_stateless(&self) -> bool {
        !self.inspect_icmp
    }
}

impl Device for Asa {
    fn state(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, set) in &self.nets {
            out.push(format!("object-group network {name}: {set:?}"));
        }
        for (name, svcs) in &self.svcs {
            out.push(format!("object-group service {name}: {svcs:?}"));
        }
        for (name, aces) in &self.acls {
            out.push(format!("access-list {name}"));
            for a in aces {
                out.push(format!("access-list {name}: {}", a.text));
            }
        }
        for (iface, acl) in &self.bind_in {
            out.push(format!("access-group {acl} in interface {iface}"));
        }
        for (iface, acl) in &self.bind_out {
            out.push(format!("access-group {acl} out interface {iface}"));
        }
        if let Some(g) = &self.global {
            out.push(format!("access-group {g} global"));
        }
        out
    }

    fn decide(&self, p: &Packet, env: &Env<'_>) -> Option<Decision> {
        let ingress = env.src(self)?;
        // A destination in a zone the binding does not list (or in no zone)
        // leaves by an interface the config does not name: only the
        // inbound ACL of the source's interface can be judged.
        let Some(egress) = env.dst(self) else {
            let acl = self.bind_in.get(&ingress)?;
            let d = self
                .eval(acl, p, env)
                .or_else(|| self.global.as_deref().and_then(|g| self.eval(g, p, env)));
            return Some(d.unwrap_or_else(|| {
                Decision::implicit(false, format!("implicit deny of ACL `{acl}`"))
            }));
        };
        if ingress == egress && !self.same_intra {
            return Some(Decision::implicit(
                false,
                format!(
                    "hairpin on `{ingress}` without `same-security-traffic permit intra-interface`"
                ),
            ));
        }
        let inbound = match self.bind_in.get(&ingress) {
            Some(acl) => {
                let d = self
                    .eval(acl, p, env)
                    .or_else(|| self.global.as_deref().and_then(|g| self.eval(g, p, env)));
                d.unwrap_or_else(|| {
                    Decision::implicit(false, format!("implicit deny of ACL `{acl}`"))
                })
            }
            None => match &self.global {
                Some(g) => self.eval(g, p, env).unwrap_or_else(|| {
                    Decision::implicit(false, "implicit deny of the global ACL")
                }),
                None => {
                    let (li, lo) = (self.level(&ingress), self.level(&egress));
                    if li > lo || (li == lo && self.same_inter && ingress != egress) {
                        Decision::implicit(
                            true,
                            format!("security level {li} of `{ingress}` over {lo} of `{egress}`"),
                        )
                    } else {
                        Decision::implicit(
                            false,
                            format!("no ACL on `{ingress}`; security level {li} vs {lo}"),
                        )
                    }
                }
            },
        };
        if !inbound.allow {
            return Some(inbound);
        }
        if let Some(acl) = self.bind_out.get(&egress) {
            let d = self.eval(acl, p, env).unwrap_or_else(|| {
                Decision::implicit(false, format!("implicit deny of ACL `{acl}`"))
            });
            if !d.allow {
                return Some(d);
            }
        }
        Some(inbound)
    }

    fn side(&self, zone: &str) -> Option<String> {
        self.nameif_for(Some(zone))
    }

    fn stateless_for(&self, proto: u8) -> bool {
        matches!(proto, 1 | 58) && self.icmp_stateless()
    }

    /// An inbound interface ACL sees every packet entering from its zone,
    /// whatever the destination (a zone the binding does not list, an
    /// address in no zone).
    fn filters_by_ingress(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::pkt;
    use zonal_model::Date;

    const SAMPLE: &str = "\
no same-security-traffic permit inter-interface
no same-security-traffic permit intra-interface
object-group network OG_IMAGING
 description zone imaging
 network-object 10.20.0.0 255.255.255.0
 network-object host 10.20.1.10
 network-object 2001:db8:20::/64
object-group network OG_PACS
 network-object host 10.30.0.5
 network-object host 2001:db8:30::5
object-group service OG_R1_DICOM
 service-object tcp destination eq 104
 service-object tcp destination eq 11112
 service-object udp destination range 5000 5010
object-group service OG_R2R3
 service-object icmp echo
 service-object icmp6 echo
 service-object esp
time-range TR_R4
 absolute end 00:00 31 December 2026
!
! Zone imaging: traffic entering interface inside
access-list ACL_IMAGING_IN remark R1 DICOM imaging to pacs
access-list ACL_IMAGING_IN extended permit object-group OG_R1_DICOM object-group OG_IMAGING object-group OG_PACS
access-list ACL_IMAGING_IN extended permit object-group OG_R2R3 object-group OG_IMAGING object-group OG_PACS
access-list ACL_IMAGING_IN extended permit tcp object-group OG_IMAGING object-group OG_PACS eq https time-range TR_R4
access-list ACL_IMAGING_IN extended deny ip any any log
access-group ACL_IMAGING_IN in interface inside
! Zone pacs: traffic entering interface pacs
access-list ACL_PACS_IN extended deny ip any any log
access-group ACL_PACS_IN in interface pacs
";

    #[test]
    fn acl_groups_time_ranges_and_hairpin() {
        let dev = read(SAMPLE).unwrap();
        let mut env = Env {
            src_zone: Some("imaging"),
            dst_zone: Some("pacs"),
            today: Date::new(2026, 11, 28).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        assert!(
            dev.decide(&pkt("10.20.0.7", "10.30.0.5", 6, 11112), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("2001:db8:20::9", "2001:db8:30::5", 58, 128), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("10.20.0.7", "10.30.0.5", 50, 0), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("10.20.0.7", "10.30.0.5", 6, 443), &env)
                .unwrap()
                .allow
        );
        env.today = Date::new(2026, 12, 31).unwrap();
        let d = dev
            .decide(&pkt("10.20.0.7", "10.30.0.5", 6, 443), &env)
            .unwrap();
        assert!(!d.allow);
        assert_eq!(d.line, Some(27));
        env.dst_zone = Some("imaging");
        assert!(
            !dev.decide(&pkt("10.20.0.7", "10.20.0.8", 6, 104), &env)
                .unwrap()
                .allow
        );
        assert!(dev.icmp_stateless());
    }
}
