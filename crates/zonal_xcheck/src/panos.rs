//! Palo Alto PAN-OS `set` commands: addresses, address groups, services,
//! service groups, schedules, zones, custom applications, security rules
//! with `move`, and the overrides of the two default rules.
//!
//! Evaluation: the Panorama pre-rules, the firewall's own security
//! rulebase, then the Panorama post-rules, top-down, first match (from
//! zone, to zone, source, destination, application, service, schedule,
//! rule type, not disabled); then `intrazone-default` (allow unless
//! overridden) when the zones are the same, else `interzone-default` (deny
//! unless overridden). Panorama rules are written as the Panorama CLI
//! writes them (`set device-group DG pre-rulebase security rules …`).
//!
//! Candidate merge (the redeploy simulation): commands apply in order to
//! one candidate; `set` on an existing rule adds to its lists and keeps
//! its place, a new rule goes to the bottom of the local rulebase,
//! `delete` removes, `move` reorders. Before each of Zonal's files, the
//! documented clean-up deletes the local rules carrying the file's tag.
//!
//! Applications are approximated by their network identity: `ping` is
//! ICMP/ICMPv6 echo, `icmp`/`ipv6-icmp` the whole protocol, `ipsec-esp`
//! protocol 50, custom applications by their `default` (ports, IP
//! protocol or ICMP type).

use std::collections::BTreeMap;

use crate::ios::{self, Res};
use crate::net::{self, Addrs, Ports};
use crate::{Decision, Device, Env, Packet};

/// A network identity: protocol plus ports or ICMP type.
#[derive(Clone, Debug)]
struct Ident {
    proto: u8,
    ports: Option<Ports>,
    sports: Option<Ports>,
    icmp_type: Option<u16>,
}

impl Ident {
    fn matches(&self, p: &Packet, with_ports: bool) -> bool {
        self.proto == p.proto
            && (!with_ports || self.ports.as_ref().is_none_or(|x| x.contains(p.selector)))
            && (!with_ports || self.sports.as_ref().is_none_or(|x| x.contains(p.sport)))
            && self.icmp_type.is_none_or(|t| t == p.selector)
    }
}

/// Which rulebase a rule is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Base {
    /// Panorama pre-rules.
    Pre,
    /// The firewall's own rulebase.
    #[default]
    Local,
    /// Panorama post-rules.
    Post,
}

#[derive(Clone, Debug, Default)]
struct Rule {
    base: Base,
    tags: Vec<String>,
    /// `universal` (default), `intrazone` or `interzone`.
    rule_type: Option<String>,
    name: String,
    line: usize,
    from: Vec<String>,
    to: Vec<String>,
    source: Vec<String>,
    destination: Vec<String>,
    application: Vec<String>,
    service: Vec<String>,
    action: Option<String>,
    action_line: usize,
    negate_source: bool,
    negate_destination: bool,
    disabled: bool,
    schedule: Option<String>,
    /// The description (words joined by one space).
    description: String,
    text: String,
    /// Resolved at the end of reading.
    c_src: Addrs,
    c_dst: Addrs,
    /// `None` = any application.
    c_app: Option<Vec<Ident>>,
    /// `None` = no port restriction (`any` or `application-default`).
    c_svc: Option<Vec<Ident>>,
    app_default: bool,
    c_sched: Option<Vec<(i64, i64)>>,
}

/// The PAN-OS device model.
#[derive(Debug, Default)]
pub(crate) struct PanOs {
    addresses: BTreeMap<String, Addrs>,
    groups: BTreeMap<String, Vec<String>>,
    services: BTreeMap<String, Vec<Ident>>,
    service_groups: BTreeMap<String, Vec<String>>,
    apps: BTreeMap<String, Vec<Ident>>,
    schedules: BTreeMap<String, Vec<(i64, i64)>>,
    zones: Vec<String>,
    rules: Vec<Rule>,
    intrazone_allow: bool,
    interzone_allow: bool,
    /// Lines of the default-rule overrides, for the report.
    intrazone_line: Option<usize>,
    interzone_line: Option<usize>,
}

fn list(w: &[String], i: &mut usize) -> Vec<String> {
    let mut out = Vec::new();
    match w.get(*i).map(String::as_str) {
        Some("[") => {
            *i += 1;
            while let Some(x) = w.get(*i) {
                *i += 1;
                if x == "]" {
                    break;
                }
                out.push(x.clone());
            }
        }
        Some(x) => {
            out.push(x.to_string());
            *i += 1;
        }
        None => {}
    }
    out
}

pub(crate) fn read(text: &str) -> Res<PanOs> {
    let mut dev = PanOs::empty();
    dev.apply(text)?;
    dev.compile()?;
    Ok(dev)
}

/// The redeploy simulation: `foreign` loaded and committed, then each of
/// `loads` pasted after the documented clean-up (every local rule with
/// the tag the file defines is deleted) and committed.
pub(crate) fn redeploy(foreign: &str, loads: &[&str]) -> Res<(PanOs, Vec<String>, Vec<String>)> {
    let mut dev = PanOs::empty();
    dev.apply(foreign)?;
    dev.compile()?;
    let before = dev.state();
    for text in loads {
        let tags: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("set tag "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect();
        dev.rules
            .retain(|r| r.base != Base::Local || !r.tags.iter().any(|t| tags.contains(t)));
        dev.apply(text)?;
        dev.compile()?;
    }
    let after = dev.state();
    Ok((dev, before, after))
}

impl PanOs {
    fn empty() -> Self {
        PanOs {
            intrazone_allow: true,
            ..PanOs::default()
        }
    }

    /// The configuration, one line per object and rule in the device's
    /// evaluation order (Panorama pre-rules, local rules, post-rules).
    pub(crate) fn state(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.addresses {
            out.push(format!("address {k} {v:?}"));
        }
        for (k, v) in &self.groups {
            out.push(format!("address-group {k} {v:?}"));
        }
        for (k, v) in &self.services {
            out.push(format!("service {k} {v:?}"));
        }
        for (k, v) in &self.apps {
            out.push(format!("application {k} {v:?}"));
        }
        let mut rules: Vec<&Rule> = self.rules.iter().collect();
        rules.sort_by_key(|r| r.base);
        for r in rules {
            out.push(format!(
                "{:?} rule {} from {:?} to {:?} source {:?} destination {:?} negate {}/{} application {:?} service {:?} action {:?} type {:?} schedule {:?} disabled {} tags {:?}",
                r.base,
                r.name,
                r.from,
                r.to,
                r.source,
                r.destination,
                r.negate_source,
                r.negate_destination,
                r.application,
                r.service,
                r.action,
                r.rule_type,
                r.schedule,
                r.disabled,
                r.tags
            ));
        }
        out.push(format!("intrazone-default allow {}", self.intrazone_allow));
        out.push(format!("interzone-default allow {}", self.interzone_allow));
        out
    }

    /// Applies `set`, `delete` and `move` commands to the candidate.
    #[expect(
        clippy::too_many_lines,
        reason = "one match arm per configuration statement of the device grammar"
    )]
    fn apply(&mut self, text: &str) -> Res<()> {
        let dev = self;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let mut w = net::words(t);
            // Strip a `vsys vsys1` scope.
            if w.get(1).map(String::as_str) == Some("vsys") && w.len() > 3 {
                w.drain(1..3);
            }
            let ws: Vec<&str> = w.iter().map(String::as_str).collect();
            match ws.as_slice() {
                ["set", "address", name, kind, value] => {
                    let mut s = Addrs::none();
                    match *kind {
                        "ip-netmask" => net::add_prefix_text(&mut s, value).map_err(|e| (n, e))?,
                        "ip-range" => net::add_range_text(&mut s, value).map_err(|e| (n, e))?,
                        "description" | "tag" => {
                            dev.addresses.entry((*name).to_string()).or_default();
                            continue;
                        }
                        other => {
                            return Err((n, format!("address kind `{other}` is not modelled")));
                        }
                    }
                    dev.addresses
                        .entry((*name).to_string())
                        .or_default()
                        .extend(&s);
                }
                ["set", "address-group", name, "static", ..] => {
                    let mut j = 4;
                    let members = list(&w, &mut j);
                    dev.groups
                        .entry((*name).to_string())
                        .or_default()
                        .extend(members);
                }
                ["set", "address-group", _, "description" | "tag", ..] => {}
                ["set", "address-group", _, "dynamic", ..] => {
                    return Err((n, "dynamic address groups are not modelled".into()));
                }
                ["set", "service", name, "protocol", proto, rest @ ..] => {
                    let proto = match *proto {
                        "tcp" => 6,
                        "udp" => 17,
                        "sctp" => 132,
                        other => {
                            return Err((n, format!("service protocol `{other}` is not modelled")));
                        }
                    };
                    let mut ident = Ident {
                        proto,
                        ports: None,
                        sports: None,
                        icmp_type: None,
                    };
                    let mut j = 0;
                    while let Some(k) = rest.get(j) {
                        let v = rest.get(j + 1).ok_or((n, format!("`{k}` needs a value")))?;
                        let ports = parse_ports(v, n)?;
                        match *k {
                            "port" => ident.ports = Some(ports),
                            "source-port" => ident.sports = Some(ports),
                            "override" => {}
                            other => {
                                return Err((
                                    n,
                                    format!("service attribute `{other}` is not modelled"),
                                ));
                            }
                        }
                        j += 2;
                    }
                    let entry = dev.services.entry((*name).to_string()).or_default();
                    // Attributes may come on separate lines: merge into one identity per protocol.
                    match entry.iter_mut().find(|x| x.proto == proto) {
                        Some(x) => {
                            if ident.ports.is_some() {
                                x.ports = ident.ports;
                            }
                            if ident.sports.is_some() {
                                x.sports = ident.sports;
                            }
                        }
                        None => entry.push(ident),
                    }
                }
                ["set", "service", _, "description" | "tag", ..] => {}
                ["set", "service-group", name, "members", ..] => {
                    let mut j = 4;
                    let members = list(&w, &mut j);
                    dev.service_groups
                        .entry((*name).to_string())
                        .or_default()
                        .extend(members);
                }
                ["set", "service-group", _, "tag", ..] => {}
                [
                    "set",
                    "schedule",
                    name,
                    "schedule-type",
                    "non-recurring",
                    ..,
                ] => {
                    let mut j = 5;
                    for r in list(&w, &mut j) {
                        let range = parse_schedule(&r, n)?;
                        dev.schedules
                            .entry((*name).to_string())
                            .or_default()
                            .push(range);
                    }
                }
                ["set", "schedule", _, "schedule-type", other, ..] => {
                    return Err((n, format!("schedule type `{other}` is not modelled")));
                }
                ["set", "zone", z, ..] => {
                    if !dev.zones.iter().any(|x| x == z) {
                        dev.zones.push((*z).to_string());
                    }
                }
                ["set", "tag", ..]
                | ["set", "deviceconfig", ..]
                | ["set", "network", ..]
                | ["set", "shared", ..] => {}
                ["set", "application", name, "default", rest @ ..] => {
                    let idents = parse_app_default(rest, n)?;
                    dev.apps
                        .entry((*name).to_string())
                        .or_default()
                        .extend(idents);
                }
                ["set", "application", name, ..] => {
                    dev.apps.entry((*name).to_string()).or_default();
                }
                ["set", "rulebase", "security", "rules", name, ..] => {
                    let rule = dev.rule_mut(Base::Local, name, n, t);
                    rule_attrs(rule, &w[5..], n, t)?;
                }
                [
                    "set",
                    "device-group",
                    _,
                    base @ ("pre-rulebase" | "post-rulebase"),
                    "security",
                    "rules",
                    name,
                    ..,
                ] => {
                    let base = if *base == "pre-rulebase" {
                        Base::Pre
                    } else {
                        Base::Post
                    };
                    let rule = dev.rule_mut(base, name, n, t);
                    rule_attrs(rule, &w[7..], n, t)?;
                }
                ["move", "rulebase", "security", "rules", name, rest @ ..] => {
                    let from = dev
                        .rules
                        .iter()
                        .position(|r| r.base == Base::Local && r.name == *name)
                        .ok_or((n, format!("unknown rule `{name}`")))?;
                    let rule = dev.rules.remove(from);
                    let local: Vec<usize> = (0..dev.rules.len())
                        .filter(|&i| dev.rules.get(i).is_some_and(|r| r.base == Base::Local))
                        .collect();
                    let at = match rest {
                        ["top"] => local.first().copied().unwrap_or(dev.rules.len()),
                        ["bottom"] => local.last().map_or(dev.rules.len(), |i| i + 1),
                        ["before", o] | ["after", o] => {
                            let p = dev
                                .rules
                                .iter()
                                .position(|r| r.base == Base::Local && r.name == *o)
                                .ok_or((n, format!("unknown rule `{o}`")))?;
                            if rest[0] == "before" { p } else { p + 1 }
                        }
                        _ => return Err((n, format!("bad move `{t}`"))),
                    };
                    dev.rules.insert(at, rule);
                }
                ["delete", "rulebase", "security", "rules", name] => dev
                    .rules
                    .retain(|r| r.base != Base::Local || r.name != *name),
                ["delete", "rulebase", "security"]
                | ["delete", "rulebase", "security", "rules"] => {
                    dev.rules.retain(|r| r.base != Base::Local);
                }
                [
                    "set",
                    "rulebase",
                    "default-security-rules",
                    "rules",
                    which,
                    "action",
                    action,
                ] => {
                    let allow = match *action {
                        "allow" => true,
                        "deny" | "drop" | "reset-client" | "reset-server" | "reset-both" => false,
                        other => return Err((n, format!("unknown action `{other}`"))),
                    };
                    match *which {
                        "intrazone-default" => {
                            dev.intrazone_allow = allow;
                            dev.intrazone_line = Some(n);
                        }
                        "interzone-default" => {
                            dev.interzone_allow = allow;
                            dev.interzone_line = Some(n);
                        }
                        other => return Err((n, format!("unknown default rule `{other}`"))),
                    }
                }
                ["set", "rulebase", "default-security-rules", ..] => {}
                _ => return Err((n, format!("unsupported command `{t}`"))),
            }
        }
        Ok(())
    }
}

fn parse_ports(v: &str, n: usize) -> Res<Ports> {
    let mut out = Vec::new();
    for part in v.split(',') {
        out.push(net::parse_port_range(part).ok_or((n, format!("bad port `{part}`")))?);
    }
    Ok(Ports(out))
}

/// `default port [ tcp/104 udp/5000-5010 ]`, `default ip-protocol 50`,
/// `default ident-by-icmp-type type 8`, `default ident-by-icmp6-type type 128`.
fn parse_app_default(w: &[&str], n: usize) -> Res<Vec<Ident>> {
    match w {
        ["ip-protocol" | "ident-by-ip-protocol", p] => {
            let proto = net::proto_by_name(p).ok_or((n, format!("bad protocol `{p}`")))?;
            Ok(vec![Ident {
                proto,
                ports: None,
                sports: None,
                icmp_type: None,
            }])
        }
        [
            "ident-by-icmp-type" | "ident-by-icmp6-type",
            "type",
            ty,
            rest @ ..,
        ] => {
            let v6 = w[0] == "ident-by-icmp6-type";
            if !rest.is_empty() {
                return Err((n, "ICMP codes are not modelled".into()));
            }
            let t = net::icmp_type_by_name(ty, v6).ok_or((n, format!("bad ICMP type `{ty}`")))?;
            Ok(vec![Ident {
                proto: if v6 { 58 } else { 1 },
                ports: None,
                sports: None,
                icmp_type: Some(t),
            }])
        }
        ["port", rest @ ..] => {
            let owned: Vec<String> = rest.iter().map(|s| (*s).to_string()).collect();
            let mut j = 0;
            let mut out = Vec::new();
            for item in list(&owned, &mut j) {
                let (proto, ports) = item
                    .split_once('/')
                    .ok_or((n, format!("bad default port `{item}`")))?;
                let proto =
                    net::proto_by_name(proto).ok_or((n, format!("bad protocol `{proto}`")))?;
                let ports = if ports == "dynamic" {
                    None
                } else {
                    Some(parse_ports(ports, n)?)
                };
                out.push(Ident {
                    proto,
                    ports,
                    sports: None,
                    icmp_type: None,
                });
            }
            Ok(out)
        }
        _ => Err((
            n,
            format!("application default `{}` is not modelled", w.join(" ")),
        )),
    }
}

/// `2026/01/01@00:00-2026/12/31@23:59`; the end minute is included.
fn parse_schedule(s: &str, n: usize) -> Res<(i64, i64)> {
    let bad = || (n, format!("bad schedule `{s}`"));
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let one = |x: &str| -> Res<i64> {
        let (d, t) = x.split_once('@').ok_or_else(bad)?;
        let parts: Vec<i64> = d
            .split('/')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Res<_>>()?;
        let [y, m, dd] = parts.as_slice() else {
            return Err(bad());
        };
        let (h, mi) = t.split_once(':').ok_or_else(bad)?;
        let h: i64 = h.parse().map_err(|_| bad())?;
        let mi: i64 = mi.parse().map_err(|_| bad())?;
        Ok(ios::days_from_civil(*y, *m, *dd) * 1440 + h * 60 + mi)
    };
    Ok((one(a)?, one(b)? + 1))
}

fn rule_attrs(rule: &mut Rule, w: &[String], n: usize, text: &str) -> Res<()> {
    let mut i = 0;
    while let Some(key) = w.get(i).cloned() {
        i += 1;
        let vals = list(w, &mut i);
        if vals.is_empty() {
            return Err((n, format!("`{key}` needs a value")));
        }
        let yes = vals.first().map(String::as_str) == Some("yes");
        match key.as_str() {
            "from" => rule.from.extend(vals),
            "to" => rule.to.extend(vals),
            "source" => rule.source.extend(vals),
            "destination" => rule.destination.extend(vals),
            "application" => rule.application.extend(vals),
            "service" => rule.service.extend(vals),
            "action" => {
                rule.action = vals.into_iter().next();
                rule.action_line = n;
                rule.text = text.to_string();
            }
            "negate-source" => rule.negate_source = yes,
            "negate-destination" => rule.negate_destination = yes,
            "disabled" => rule.disabled = yes,
            "schedule" => rule.schedule = vals.into_iter().next(),
            "source-user" | "category" | "source-hip" | "destination-hip" => {
                if vals != ["any"] {
                    return Err((n, format!("`{key}` other than `any` is not modelled")));
                }
            }
            "tag" => rule.tags.extend(vals),
            "rule-type" => {
                let v = vals.into_iter().next().unwrap_or_default();
                if !matches!(v.as_str(), "universal" | "intrazone" | "interzone") {
                    return Err((n, format!("unknown rule type `{v}`")));
                }
                rule.rule_type = Some(v);
            }
            "description" => rule.description = vals.join(" "),
            "log-start" | "log-end" | "log-setting" | "group-tag" => {}
            "profile-setting" => {
                // `profile-setting group NAME` or `profiles …`: no effect on allow/deny.
                while i < w.len() {
                    i += 1;
                }
            }
            other => return Err((n, format!("rule attribute `{other}` is not modelled"))),
        }
    }
    Ok(())
}

/// Predefined applications, by network identity.
fn predefined_app(name: &str) -> Option<Vec<Ident>> {
    let i = |proto: u8, t: Option<u16>| Ident {
        proto,
        ports: None,
        sports: None,
        icmp_type: t,
    };
    let tcp = |p: u16| Ident {
        proto: 6,
        ports: Some(Ports::one(p)),
        sports: None,
        icmp_type: None,
    };
    Some(match name {
        "ping" => vec![i(1, Some(8)), i(58, Some(128))],
        "icmp" => vec![i(1, None)],
        "ipv6-icmp" => vec![i(58, None)],
        "ipsec-esp" => vec![i(50, None)],
        "ipsec-ah" => vec![i(51, None)],
        "gre" => vec![i(47, None)],
        "ssl" => vec![tcp(443)],
        "web-browsing" => vec![tcp(80)],
        "ssh" => vec![tcp(22)],
        _ => return None,
    })
}

fn predefined_service(name: &str) -> Option<Vec<Ident>> {
    let tcp = |ports: Vec<(u16, u16)>| Ident {
        proto: 6,
        ports: Some(Ports(ports)),
        sports: None,
        icmp_type: None,
    };
    Some(match name {
        "service-http" => vec![tcp(vec![(80, 80), (8080, 8080)])],
        "service-https" => vec![tcp(vec![(443, 443)])],
        _ => return None,
    })
}

impl PanOs {
    /// The rule `name` of `base`, created at the bottom of its rulebase.
    fn rule_mut(&mut self, base: Base, name: &str, n: usize, t: &str) -> &mut Rule {
        let idx = match self
            .rules
            .iter()
            .position(|r| r.base == base && r.name == name)
        {
            Some(i) => i,
            None => {
                let at = self
                    .rules
                    .iter()
                    .rposition(|r| r.base <= base)
                    .map_or(0, |i| i + 1);
                self.rules.insert(
                    at,
                    Rule {
                        base,
                        name: name.to_string(),
                        line: n,
                        text: t.to_string(),
                        ..Rule::default()
                    },
                );
                at
            }
        };
        &mut self.rules[idx]
    }

    fn zone_for(&self, zone: Option<&str>) -> Option<String> {
        let zone = zone?;
        self.zones
            .iter()
            .find(|z| net::names_zone(z, zone))
            .cloned()
    }

    fn resolve_addr(&self, name: &str, depth: usize) -> Result<Addrs, String> {
        if depth > 16 {
            return Err("address groups nest too deeply".into());
        }
        if name == "any" {
            return Ok(Addrs::any());
        }
        if let Some(a) = self.addresses.get(name) {
            return Ok(a.clone());
        }
        if let Some(m) = self.groups.get(name) {
            let mut out = Addrs::none();
            for x in m {
                out.extend(&self.resolve_addr(x, depth + 1)?);
            }
            return Ok(out);
        }
        // A literal address, prefix or range.
        let mut s = Addrs::none();
        if net::add_prefix_text(&mut s, name).is_ok() || net::add_range_text(&mut s, name).is_ok() {
            return Ok(s);
        }
        Err(format!("unknown address `{name}`"))
    }

    fn service_idents(&self, name: &str, depth: usize) -> Result<Vec<Ident>, String> {
        if depth > 16 {
            return Err("service groups nest too deeply".into());
        }
        if let Some(s) = self.services.get(name) {
            return Ok(s.clone());
        }
        if let Some(m) = self.service_groups.get(name) {
            let mut out = Vec::new();
            for x in m {
                out.extend(self.service_idents(x, depth + 1)?);
            }
            return Ok(out);
        }
        predefined_service(name).ok_or_else(|| format!("unknown service `{name}`"))
    }

    fn app_idents(&self, name: &str) -> Result<Vec<Ident>, String> {
        if let Some(a) = self.apps.get(name) {
            return Ok(a.clone());
        }
        predefined_app(name).ok_or_else(|| format!("unknown application `{name}`"))
    }

    /// Resolves every rule's names once; the zones named by rules count
    /// as zones.
    fn compile(&mut self) -> Res<()> {
        let mut out = Vec::new();
        for r in &self.rules {
            let err = |e: String| (r.line, format!("{e} (commit would fail)"));
            if r.from.is_empty()
                || r.to.is_empty()
                || r.source.is_empty()
                || r.destination.is_empty()
            {
                return Err((
                    r.line,
                    format!("rule `{}` is incomplete (commit would fail)", r.name),
                ));
            }
            let mut src = Addrs::none();
            for a in &r.source {
                src.extend(&self.resolve_addr(a, 0).map_err(err)?);
            }
            let mut dst = Addrs::none();
            for a in &r.destination {
                dst.extend(&self.resolve_addr(a, 0).map_err(err)?);
            }
            let app = if r.application.iter().any(|a| a == "any") {
                None
            } else {
                let mut v = Vec::new();
                for a in &r.application {
                    v.extend(self.app_idents(a).map_err(err)?);
                }
                Some(v)
            };
            let app_default = r.service.iter().any(|s| s == "application-default");
            let svc = if r.service.is_empty() {
                return Err((
                    r.line,
                    format!("rule `{}` has no service (commit would fail)", r.name),
                ));
            } else if app_default || r.service.iter().any(|s| s == "any") {
                None
            } else {
                let mut v = Vec::new();
                for s in &r.service {
                    v.extend(self.service_idents(s, 0).map_err(err)?);
                }
                Some(v)
            };
            let sched = match &r.schedule {
                Some(s) => Some(
                    self.schedules
                        .get(s)
                        .cloned()
                        .ok_or_else(|| err(format!("unknown schedule `{s}`")))?,
                ),
                None => None,
            };
            out.push((src, dst, app, svc, app_default, sched));
        }
        for (r, (src, dst, app, svc, app_default, sched)) in self.rules.iter_mut().zip(out) {
            r.c_src = src;
            r.c_dst = dst;
            r.c_src.normalize();
            r.c_dst.normalize();
            r.c_app = app;
            r.c_svc = svc;
            r.app_default = app_default;
            r.c_sched = sched;
        }
        let mut zones = self.zones.clone();
        for r in &self.rules {
            for z in r.from.iter().chain(r.to.iter()) {
                if z != "any" && !zones.contains(z) {
                    zones.push(z.clone());
                }
            }
        }
        self.zones = zones;
        Ok(())
    }

    fn rule_matches(&self, r: &Rule, from: &str, to: &str, p: &Packet, env: &Env<'_>) -> bool {
        if r.disabled {
            return false;
        }
        match r.rule_type.as_deref() {
            Some("intrazone") if from != to => return false,
            Some("interzone") if from == to => return false,
            _ => {}
        }
        if !r.from.iter().any(|z| z == "any" || z == from)
            || !r.to.iter().any(|z| z == "any" || z == to)
        {
            return false;
        }
        if r.c_src.contains(p.src) == r.negate_source
            || r.c_dst.contains(p.dst) == r.negate_destination
        {
            return false;
        }
        if let Some(ranges) = &r.c_sched {
            let now = ios::today_minutes(env.today);
            if !ranges.iter().any(|&(a, b)| a <= now && now < b) {
                return false;
            }
        }
        // With `application-default` an application's own ports count.
        if let Some(app) = &r.c_app
            && !app.iter().any(|x| x.matches(p, r.app_default))
        {
            return false;
        }
        r.c_svc
            .as_ref()
            .is_none_or(|svc| svc.iter().any(|x| x.matches(p, true)))
    }
}

impl Device for PanOs {
    fn side(&self, zone: &str) -> Option<String> {
        self.zone_for(Some(zone))
    }

    fn leaves(&self, _pkt: &Packet, _env: &Env<'_>, got: &Decision) -> Option<&'static str> {
        // docs/targets/panos.md, "The firewall's own traffic": with
        // `default-deny`, the binding's `device:` block is rendered as
        // rules for traffic to the firewall itself (management, routing,
        // FHRP, DHCP relay, IPsec, ICMP errors), which the policy does not
        // describe.
        if got.allow
            && let Some(line) = got.line
            && self.rules.iter().any(|r| {
                r.action_line.max(r.line) == line
                    && r.description.starts_with("traffic to the firewall itself")
            })
        {
            return Some("traffic to the firewall itself (the binding's device block)");
        }
        // docs/targets/panos.md: without `default-deny`, same-zone traffic
        // that no rule matches is the device's (traffic to the firewall
        // itself is same-zone traffic on PAN-OS).
        (got.line.is_none() && got.why.starts_with("intrazone-default") && self.intrazone_allow)
            .then_some("same-zone traffic no rule matches is left to intrazone-default")
    }

    fn decide(&self, p: &Packet, env: &Env<'_>) -> Option<Decision> {
        let from = env.src(self)?;
        let to = env.dst(self)?;
        for r in &self.rules {
            if self.rule_matches(r, &from, &to, p, env) {
                let allow = r.action.as_deref() == Some("allow");
                return Some(Decision::at(allow, r.action_line.max(r.line), &r.text));
            }
        }
        Some(if from == to {
            let why = format!(
                "intrazone-default ({})",
                if self.intrazone_allow {
                    "allow"
                } else {
                    "deny"
                }
            );
            match self.intrazone_line {
                Some(l) => Decision {
                    allow: self.intrazone_allow,
                    line: Some(l),
                    why,
                },
                None => Decision::implicit(self.intrazone_allow, why),
            }
        } else {
            let why = format!(
                "interzone-default ({})",
                if self.interzone_allow {
                    "allow"
                } else {
                    "deny"
                }
            );
            match self.interzone_line {
                Some(l) => Decision {
                    allow: self.interzone_allow,
                    line: Some(l),
                    why,
                },
                None => Decision::implicit(self.interzone_allow, why),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::pkt;
    use zonal_model::Date;

    const SAMPLE: &str = "\
set zone imaging network layer3 [ ethernet1/1 ]
set zone pacs network layer3 [ ethernet1/2 ]
set address a_img_net4 ip-netmask 10.20.0.0/24
set address a_img_range ip-range 10.20.2.1-10.20.2.50
set address a_img_net6 ip-netmask 2001:db8:20::/64
set address a_pacs4 ip-netmask 10.30.0.5/32
set address-group g_imaging static [ a_img_net4 a_img_range a_img_net6 ]
set service s_dicom_tcp protocol tcp port 104,11112
set service-group sg_r1 members [ s_dicom_tcp ]
set schedule sch_r4 schedule-type non-recurring 2026/01/01@00:00-2026/12/31@23:59
set rulebase security rules zonal_deny from any to any source any destination any application any service any action deny
set rulebase security rules r1 from imaging to pacs source g_imaging destination a_pacs4 application any service sg_r1 action allow
set rulebase security rules r2 from imaging to pacs source g_imaging destination a_pacs4 application [ ping ipv6-icmp ] service application-default action allow
set rulebase security rules r4 from imaging to pacs source g_imaging destination a_pacs4 application any service service-https action allow schedule sch_r4
move rulebase security rules zonal_deny bottom
set rulebase default-security-rules rules intrazone-default action deny
";

    #[test]
    fn rulebase_move_apps_schedules_and_defaults() {
        let dev = read(SAMPLE).unwrap();
        let mut env = Env {
            src_zone: Some("imaging"),
            dst_zone: Some("pacs"),
            today: Date::new(2026, 12, 31).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        let d = dev
            .decide(&pkt("10.20.2.50", "10.30.0.5", 6, 11112), &env)
            .unwrap();
        assert!(d.allow, "{d}");
        assert_eq!(d.line, Some(12));
        assert!(
            dev.decide(&pkt("10.20.0.1", "10.30.0.5", 1, 8), &env)
                .unwrap()
                .allow
        );
        assert!(
            !dev.decide(&pkt("10.20.0.1", "10.30.0.5", 1, 13), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("10.20.0.1", "10.30.0.5", 6, 443), &env)
                .unwrap()
                .allow
        );
        env.today = Date::new(2027, 1, 1).unwrap();
        let d = dev
            .decide(&pkt("10.20.0.1", "10.30.0.5", 6, 443), &env)
            .unwrap();
        assert_eq!((d.allow, d.line), (false, Some(11)));
        env.dst_zone = Some("imaging");
        let d = dev
            .decide(&pkt("10.20.0.1", "10.20.0.2", 6, 443), &env)
            .unwrap();
        assert!(!d.allow);
        // Without the override, intrazone traffic is allowed by default.
        let open = read("set zone imaging network layer3 [ ethernet1/1 ]\n").unwrap();
        assert!(
            open.decide(&pkt("10.20.0.1", "10.20.0.2", 6, 443), &env)
                .unwrap()
                .allow
        );
    }
}
