//! Fortinet FortiOS CLI: `config … edit … set … next … end` blocks for
//! zones, addresses (IPv4 and IPv6), address groups, custom services,
//! service groups, one-time schedules and the unified firewall policy.
//!
//! Evaluation: between two interfaces of the same zone, `intrazone allow`
//! permits without a policy; otherwise the policy list is searched in
//! configuration order (after `move`), first match on source and
//! destination interface (zone name or `any`), the addresses of the
//! packet's family (`srcaddr`/`dstaddr` or `srcaddr6`/`dstaddr6`; an unset
//! side never matches), service, schedule and status; no match is the
//! implicit deny (policy 0).

use std::collections::BTreeMap;

use crate::ios::{self, Res};
use crate::net::{self, Addrs, Ports};
use crate::{Decision, Device, Env, Packet};

/// One `edit` entry: its settings, each with the line it was set on.
#[derive(Clone, Debug, Default)]
struct Entry {
    name: String,
    line: usize,
    set: BTreeMap<String, (usize, Vec<String>)>,
}

impl Entry {
    fn get(&self, key: &str) -> Option<&[String]> {
        self.set.get(key).map(|(_, v)| v.as_slice())
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.first()).map(String::as_str)
    }
}

#[derive(Clone, Debug)]
struct Svc {
    proto: Option<u8>, // None = every protocol.
    dports: Option<Ports>,
    sports: Option<Ports>,
    icmp_type: Option<u16>,
}

impl Svc {
    fn matches(&self, p: &Packet) -> bool {
        self.proto.is_none_or(|x| x == p.proto)
            && self.dports.as_ref().is_none_or(|d| d.contains(p.selector))
            && self.sports.as_ref().is_none_or(|s| s.contains(p.sport))
            && self.icmp_type.is_none_or(|t| t == p.selector)
    }
}

/// The FortiGate device model.
#[derive(Debug, Default)]
pub(crate) struct Forti {
    /// Section path (`firewall policy`) → entries in order.
    sections: BTreeMap<String, Vec<Entry>>,
    /// The policies, resolved at the end of reading.
    policies: Vec<Compiled>,
    /// Vendor zone / interface names with their descriptions.
    zone_names: Vec<(String, Option<String>)>,
}

/// A policy with every name resolved.
#[derive(Debug)]
struct Compiled {
    action_line: usize,
    text: String,
    allow: bool,
    enabled: bool,
    srcintf: Vec<String>,
    dstintf: Vec<String>,
    /// `None` = the family is not set on this side: never matches.
    src4: Option<Addrs>,
    dst4: Option<Addrs>,
    src6: Option<Addrs>,
    dst6: Option<Addrs>,
    src_negate4: bool,
    dst_negate4: bool,
    src_negate6: bool,
    dst_negate6: bool,
    svcs: Vec<Svc>,
    svc_negate: bool,
    /// `None` = always.
    sched: Option<(i64, i64)>,
}

#[expect(
    clippy::too_many_lines,
    reason = "one match arm per configuration statement of the device grammar"
)]
pub(crate) fn read(text: &str) -> Res<Forti> {
    let mut dev = Forti::default();
    let mut path: Vec<String> = Vec::new();
    let mut entry: Option<Entry> = None;
    let mut depth_in_entry = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let w = net::words(t);
        let ws: Vec<&str> = w.iter().map(String::as_str).collect();
        match ws.as_slice() {
            ["config", rest @ ..] => {
                if entry.is_some() {
                    // A nested table inside an entry: not modelled.
                    depth_in_entry += 1;
                    if !matches!(rest, ["ip6-extra-addr", ..] | ["ipv6", ..]) {
                        return Err((
                            n,
                            format!("nested `config {}` is not modelled", rest.join(" ")),
                        ));
                    }
                    continue;
                }
                path = rest.iter().map(|s| (*s).to_string()).collect();
                dev.sections.entry(path.join(" ")).or_default();
            }
            ["edit", name] => {
                if depth_in_entry > 0 {
                    continue;
                }
                if path.is_empty() {
                    return Err((n, "`edit` outside a `config` block".into()));
                }
                entry = Some(Entry {
                    name: (*name).to_string(),
                    line: n,
                    set: BTreeMap::new(),
                });
            }
            ["set", key, vals @ ..] => {
                if depth_in_entry > 0 {
                    continue;
                }
                let vals: Vec<String> = vals.iter().map(|s| (*s).to_string()).collect();
                match entry.as_mut() {
                    Some(e) => {
                        e.set.insert((*key).to_string(), (n, vals));
                    }
                    None => {
                        // Settings directly in a section (`config system settings`).
                        let sec = dev.sections.entry(path.join(" ")).or_default();
                        if sec.is_empty() {
                            sec.push(Entry {
                                name: String::new(),
                                line: n,
                                set: BTreeMap::new(),
                            });
                        }
                        if let Some(e) = sec.first_mut() {
                            e.set.insert((*key).to_string(), (n, vals));
                        }
                    }
                }
            }
            ["append", key, vals @ ..] => {
                if let Some(e) = entry.as_mut() {
                    let slot = e.set.entry((*key).to_string()).or_insert((n, Vec::new()));
                    slot.1.extend(vals.iter().map(|s| (*s).to_string()));
                }
            }
            ["unset", key] => {
                if let Some(e) = entry.as_mut() {
                    e.set.remove(*key);
                }
            }
            ["next"] => {
                if depth_in_entry > 0 {
                    continue;
                }
                let mut e = entry
                    .take()
                    .ok_or((n, "`next` without `edit`".to_string()))?;
                let section = path.join(" ");
                let sec = dev.sections.entry(section.clone()).or_default();
                // `edit 0` in an id-keyed table creates an entry with the
                // next id after the highest.
                if e.name == "0" && section == "firewall policy" {
                    let max = sec
                        .iter()
                        .filter_map(|x| x.name.parse::<u64>().ok())
                        .max()
                        .unwrap_or(0);
                    e.name = (max + 1).to_string();
                }
                // `edit` of an existing entry keeps every field it does
                // not set; a new entry goes to the end of the table.
                let merged = match sec
                    .iter_mut()
                    .find(|x| x.name == e.name && !e.name.is_empty() && e.name != "0")
                {
                    Some(existing) => {
                        existing.set.extend(e.set);
                        existing.clone()
                    }
                    None => {
                        sec.push(e.clone());
                        e
                    }
                };
                // Policy names are unique in a VDOM: FortiOS refuses a
                // second policy with a name already used.
                if section == "firewall policy"
                    && let Some(name) = merged.one("name")
                    && let Some(other) = sec
                        .iter()
                        .find(|x| x.name != merged.name && x.one("name") == Some(name))
                {
                    return Err((
                        n,
                        format!(
                            "policy {}: name `{name}` is already used by policy {} (load would fail)",
                            merged.name, other.name
                        ),
                    ));
                }
            }
            ["end"] => {
                if depth_in_entry > 0 {
                    depth_in_entry -= 1;
                    continue;
                }
                if entry.is_some() {
                    return Err((n, "`end` inside an `edit` (missing `next`)".into()));
                }
                path.clear();
            }
            ["move", a, dir, b] => {
                let sec = dev.sections.entry(path.join(" ")).or_default();
                let from = sec
                    .iter()
                    .position(|e| e.name == *a)
                    .ok_or((n, format!("unknown entry `{a}`")))?;
                let item = sec.remove(from);
                let to = sec
                    .iter()
                    .position(|e| e.name == *b)
                    .ok_or((n, format!("unknown entry `{b}`")))?;
                match *dir {
                    "before" => sec.insert(to, item),
                    "after" => sec.insert(to + 1, item),
                    _ => return Err((n, format!("bad move `{t}`"))),
                }
            }
            ["delete", name] => {
                let sec = dev.sections.entry(path.join(" ")).or_default();
                let before = sec.len();
                sec.retain(|e| e.name != *name);
                if sec.len() == before {
                    return Err((
                        n,
                        format!("`delete {name}`: entry not found (load would fail)"),
                    ));
                }
            }
            ["execute", ..] => {}
            _ => return Err((n, format!("unexpected line `{t}`"))),
        }
    }
    if entry.is_some() || !path.is_empty() {
        return Err((text.lines().count(), "unterminated `config` block".into()));
    }
    for unsupported in [
        "firewall policy6",
        "firewall policy64",
        "firewall policy46",
        "firewall interface-policy",
    ] {
        if dev.sections.get(unsupported).is_some_and(|s| !s.is_empty()) {
            return Err((0, format!("`config {unsupported}` is not modelled")));
        }
    }
    dev.compile()?;
    Ok(dev)
}

fn forti_range(s: &str) -> Option<(u16, u16)> {
    net::parse_port_range(s)
}

impl Forti {
    fn section(&self, name: &str) -> &[Entry] {
        self.sections.get(name).map_or(&[], Vec::as_slice)
    }

    fn find(&self, section: &str, name: &str) -> Option<&Entry> {
        self.section(section).iter().find(|e| e.name == name)
    }

    fn zone_for(&self, zone: Option<&str>) -> Option<String> {
        let zone = zone?;
        let want = format!("zone {zone}");
        self.zone_names
            .iter()
            .find(|(_, d)| d.as_deref() == Some(want.as_str()))
            .or_else(|| {
                self.zone_names
                    .iter()
                    .find(|(n, _)| net::names_zone(n, zone))
            })
            .map(|(n, _)| n.clone())
    }

    fn resolve_addr(&self, name: &str, v6: bool, depth: usize) -> Result<Addrs, String> {
        if depth > 16 {
            return Err("address groups nest too deeply".into());
        }
        let (sec, grp) = if v6 {
            ("firewall address6", "firewall addrgrp6")
        } else {
            ("firewall address", "firewall addrgrp")
        };
        if let Some(e) = self.find(sec, name) {
            let mut s = Addrs::none();
            match e
                .one("type")
                .unwrap_or(if v6 { "ipprefix" } else { "ipmask" })
            {
                "ipmask" | "ipprefix" if !v6 => match e.get("subnet") {
                    Some([a, m]) => net::add_masked(&mut s, a, m)?,
                    Some([p]) => net::add_prefix_text(&mut s, p)?,
                    None => s = Addrs::any_v4(),
                    Some(other) => return Err(format!("bad subnet `{}`", other.join(" "))),
                },
                "ipprefix" => match e.one("ip6") {
                    Some(p) => net::add_prefix_text(&mut s, p)?,
                    None => s = Addrs::any_v6(),
                },
                "iprange" => {
                    let a = e.one("start-ip").ok_or("iprange without start-ip")?;
                    let b = e.one("end-ip").unwrap_or(a);
                    net::add_range_text(&mut s, &format!("{a}-{b}"))?;
                }
                other => return Err(format!("address type `{other}` is not modelled")),
            }
            return Ok(s);
        }
        if let Some(g) = self.find(grp, name) {
            let mut out = Addrs::none();
            for m in g.get("member").unwrap_or(&[]) {
                out.extend(&self.resolve_addr(m, v6, depth + 1)?);
            }
            return Ok(out);
        }
        match name {
            "all" => Ok(if v6 { Addrs::any_v6() } else { Addrs::any_v4() }),
            "none" => Ok(Addrs::none()),
            _ => Err(format!("unknown address `{name}`")),
        }
    }

    fn services(&self, name: &str, depth: usize) -> Result<Vec<Svc>, String> {
        if depth > 16 {
            return Err("service groups nest too deeply".into());
        }
        if let Some(e) = self.find("firewall service custom", name) {
            return custom_service(e);
        }
        if let Some(g) = self.find("firewall service group", name) {
            let mut out = Vec::new();
            for m in g.get("member").unwrap_or(&[]) {
                out.extend(self.services(m, depth + 1)?);
            }
            return Ok(out);
        }
        predefined_service(name).ok_or_else(|| format!("unknown service `{name}`"))
    }

    /// `None` for `always`.
    fn schedule_range(&self, name: &str) -> Result<Option<(i64, i64)>, String> {
        if name == "always" && self.find("firewall schedule onetime", name).is_none() {
            return Ok(None);
        }
        let e = self
            .find("firewall schedule onetime", name)
            .ok_or_else(|| format!("unknown schedule `{name}`"))?;
        let start = match e.one("start") {
            Some(s) => forti_time(s)?,
            None => i64::MIN,
        };
        let end = match e.one("end") {
            Some(s) => forti_time(s)? + 1,
            None => i64::MAX,
        };
        Ok(Some((start, end)))
    }

    /// Resolves every policy's names once.
    fn compile(&mut self) -> Res<()> {
        let mut out = Vec::new();
        for e in self.section("firewall policy") {
            let err = |m: String| (e.line, format!("policy {}: {m} (load would fail)", e.name));
            let side = |key: &str, v6: bool| -> Res<Option<Addrs>> {
                let names = e.get(key).unwrap_or(&[]);
                if names.is_empty() {
                    return Ok(None);
                }
                let mut s = Addrs::none();
                for n in names {
                    s.extend(&self.resolve_addr(n, v6, 0).map_err(err)?);
                }
                s.normalize();
                Ok(Some(s))
            };
            let mut svcs = Vec::new();
            for s in e.get("service").unwrap_or(&[]) {
                svcs.extend(self.services(s, 0).map_err(err)?);
            }
            let sched = self
                .schedule_range(e.one("schedule").ok_or_else(|| err("no schedule".into()))?)
                .map_err(err)?;
            let (action_line, action) = match e.set.get("action") {
                Some((l, v)) => (*l, v.first().map_or("", String::as_str)),
                None => (e.line, "deny"),
            };
            let name = e.one("name").unwrap_or(&e.name);
            out.push(Compiled {
                action_line,
                text: format!("policy {} `{name}`: set action {action}", e.name),
                allow: action == "accept",
                enabled: e.one("status") != Some("disable"),
                srcintf: e.get("srcintf").unwrap_or(&[]).to_vec(),
                dstintf: e.get("dstintf").unwrap_or(&[]).to_vec(),
                src4: side("srcaddr", false)?,
                dst4: side("dstaddr", false)?,
                src6: side("srcaddr6", true)?,
                dst6: side("dstaddr6", true)?,
                src_negate4: e.one("srcaddr-negate") == Some("enable"),
                dst_negate4: e.one("dstaddr-negate") == Some("enable"),
                src_negate6: e.one("srcaddr6-negate") == Some("enable"),
                dst_negate6: e.one("dstaddr6-negate") == Some("enable"),
                svcs,
                svc_negate: e.one("service-negate") == Some("enable"),
                sched,
            });
        }
        let mut names: Vec<(String, Option<String>)> = self
            .section("system zone")
            .iter()
            .map(|z| (z.name.clone(), z.one("description").map(str::to_string)))
            .collect();
        names.extend(
            self.section("system interface")
                .iter()
                .map(|e| (e.name.clone(), None)),
        );
        for p in &out {
            for n in p.srcintf.iter().chain(p.dstintf.iter()) {
                if n != "any" && !names.iter().any(|(x, _)| x == n) {
                    names.push((n.clone(), None));
                }
            }
        }
        self.policies = out;
        self.zone_names = names;
        Ok(())
    }
}

fn custom_service(e: &Entry) -> Result<Vec<Svc>, String> {
    for k in ["iprange", "fqdn"] {
        if e.one(k).is_some_and(|v| v != "0.0.0.0" && !v.is_empty()) {
            return Err(format!("service `{}` with `{k}` is not modelled", e.name));
        }
    }
    let proto = e.one("protocol").unwrap_or("TCP/UDP/SCTP");
    let mut out = Vec::new();
    match proto {
        "TCP/UDP/SCTP" | "TCP/UDP/UDP-Lite/SCTP" => {
            for (key, p) in [
                ("tcp-portrange", 6u8),
                ("udp-portrange", 17),
                ("sctp-portrange", 132),
            ] {
                for r in e.get(key).unwrap_or(&[]) {
                    let (dst, src) = match r.split_once(':') {
                        Some((d, s)) => (d, Some(s)),
                        None => (r.as_str(), None),
                    };
                    let d = forti_range(dst).ok_or_else(|| format!("bad port range `{r}`"))?;
                    let s = match src {
                        Some(s) => Some(Ports(vec![
                            forti_range(s).ok_or_else(|| format!("bad port range `{r}`"))?,
                        ])),
                        None => None,
                    };
                    out.push(Svc {
                        proto: Some(p),
                        dports: Some(Ports(vec![d])),
                        sports: s,
                        icmp_type: None,
                    });
                }
            }
        }
        "ICMP" | "ICMP6" => {
            let p = if proto == "ICMP" { 1 } else { 58 };
            if e.one("icmpcode").is_some() {
                return Err("ICMP codes are not modelled".into());
            }
            let t = match e.one("icmptype") {
                Some(t) => Some(
                    t.parse::<u16>()
                        .map_err(|_| format!("bad icmptype `{t}`"))?,
                ),
                None => None,
            };
            out.push(Svc {
                proto: Some(p),
                dports: None,
                sports: None,
                icmp_type: t,
            });
        }
        "IP" => {
            let num: u8 = e
                .one("protocol-number")
                .unwrap_or("0")
                .parse()
                .map_err(|_| "bad protocol-number".to_string())?;
            out.push(Svc {
                proto: (num != 0).then_some(num),
                dports: None,
                sports: None,
                icmp_type: None,
            });
        }
        "ALL" => out.push(Svc {
            proto: None,
            dports: None,
            sports: None,
            icmp_type: None,
        }),
        other => return Err(format!("service protocol `{other}` is not modelled")),
    }
    Ok(out)
}

fn predefined_service(name: &str) -> Option<Vec<Svc>> {
    let tcp = |p: u16| Svc {
        proto: Some(6),
        dports: Some(Ports::one(p)),
        sports: None,
        icmp_type: None,
    };
    let udp = |p: u16| Svc {
        proto: Some(17),
        dports: Some(Ports::one(p)),
        sports: None,
        icmp_type: None,
    };
    let whole = |p: Option<u8>| Svc {
        proto: p,
        dports: None,
        sports: None,
        icmp_type: None,
    };
    Some(match name {
        "ALL" => vec![whole(None)],
        "ALL_TCP" => vec![Svc {
            proto: Some(6),
            dports: Some(Ports(vec![(1, u16::MAX)])),
            sports: None,
            icmp_type: None,
        }],
        "ALL_UDP" => vec![Svc {
            proto: Some(17),
            dports: Some(Ports(vec![(1, u16::MAX)])),
            sports: None,
            icmp_type: None,
        }],
        "ALL_ICMP" => vec![whole(Some(1))],
        "ALL_ICMP6" => vec![whole(Some(58))],
        "PING" => vec![Svc {
            proto: Some(1),
            dports: None,
            sports: None,
            icmp_type: Some(8),
        }],
        "HTTP" => vec![tcp(80)],
        "HTTPS" => vec![tcp(443)],
        "SSH" => vec![tcp(22)],
        "TELNET" => vec![tcp(23)],
        "DNS" => vec![tcp(53), udp(53)],
        "NTP" => vec![tcp(123), udp(123)],
        "SMB" => vec![tcp(445)],
        "SAMBA" => vec![tcp(139)],
        "RDP" => vec![tcp(3389)],
        "VNC" => vec![tcp(5900)],
        "SYSLOG" => vec![udp(514)],
        "ESP" => vec![whole(Some(50))],
        _ => return None,
    })
}

/// `"hh:mm yyyy/mm/dd"` in minutes since 1970.
fn forti_time(s: &str) -> Result<i64, String> {
    let bad = || format!("bad schedule time `{s}`");
    let (hm, date) = s.split_once(' ').ok_or_else(bad)?;
    let (h, m) = hm.split_once(':').ok_or_else(bad)?;
    let parts: Vec<i64> = date
        .split('/')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [y, mo, d] = parts.as_slice() else {
        return Err(bad());
    };
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    Ok(ios::days_from_civil(*y, *mo, *d) * 1440 + h * 60 + m)
}

impl Device for Forti {
    fn state(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (section, entries) in &self.sections {
            for e in entries {
                let fields: Vec<String> = e
                    .set
                    .iter()
                    .map(|(k, (_, v))| format!("{k}={}", v.join(",")))
                    .collect();
                out.push(format!("{section} {}: {}", e.name, fields.join(" ")));
            }
        }
        out
    }

    fn side(&self, zone: &str) -> Option<String> {
        self.zone_for(Some(zone))
    }

    fn decide(&self, p: &Packet, env: &Env<'_>) -> Option<Decision> {
        let from = env.src(self)?;
        let to = env.dst(self)?;
        if from == to
            && let Some(z) = self.find("system zone", &from)
            && z.one("intrazone") == Some("allow")
        {
            let line = z.set.get("intrazone").map_or(z.line, |x| x.0);
            return Some(Decision::at(
                true,
                line,
                &format!("zone `{from}` set intrazone allow"),
            ));
        }
        let now = ios::today_minutes(env.today);
        let v6 = p.src.is_ipv6();
        for c in &self.policies {
            if !c.enabled
                || !c.srcintf.iter().any(|x| x == "any" || *x == from)
                || !c.dstintf.iter().any(|x| x == "any" || *x == to)
            {
                continue;
            }
            // FortiOS 7.4+: each family has its own negation flags.
            let (src, dst, src_negate, dst_negate) = if v6 {
                (&c.src6, &c.dst6, c.src_negate6, c.dst_negate6)
            } else {
                (&c.src4, &c.dst4, c.src_negate4, c.dst_negate4)
            };
            let (Some(src), Some(dst)) = (src, dst) else {
                continue;
            };
            if src.contains(p.src) == src_negate || dst.contains(p.dst) == dst_negate {
                continue;
            }
            if c.svcs.iter().any(|x| x.matches(p)) == c.svc_negate {
                continue;
            }
            if c.sched.is_some_and(|(a, b)| !(a <= now && now < b)) {
                continue;
            }
            return Some(Decision::at(c.allow, c.action_line, &c.text));
        }
        Some(Decision::implicit(false, "implicit deny (policy 0)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::pkt;
    use zonal_model::Date;

    const SAMPLE: &str = r#"config system zone
    edit "imaging"
        set interface "port2"
        set intrazone deny
    next
    edit "pacs"
        set interface "port3"
        set intrazone allow
    next
end
config firewall address
    edit "a_img_net4"
        set subnet 10.20.0.0 255.255.255.0
    next
    edit "a_img_range"
        set type iprange
        set start-ip 10.20.2.1
        set end-ip 10.20.2.50
    next
    edit "a_pacs4"
        set subnet 10.30.0.5 255.255.255.255
    next
end
config firewall address6
    edit "a_img_net6"
        set ip6 2001:db8:20::/64
    next
    edit "a_pacs6"
        set ip6 2001:db8:30::5/128
    next
end
config firewall addrgrp
    edit "g_imaging4"
        set member "a_img_net4" "a_img_range"
    next
end
config firewall service custom
    edit "s_dicom"
        set tcp-portrange 104 11112
        set udp-portrange 5000-5010
    next
    edit "s_ping6"
        set protocol ICMP6
        set icmptype 128
    next
end
config firewall service group
    edit "sg_r1"
        set member "s_dicom" "s_ping6"
    next
end
config firewall schedule onetime
    edit "sch_r4"
        set start "00:00 2026/01/01"
        set end "23:59 2026/12/31"
    next
end
config firewall policy
    edit 0
        set name "r1"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr "g_imaging4"
        set dstaddr "a_pacs4"
        set srcaddr6 "a_img_net6"
        set dstaddr6 "a_pacs6"
        set action accept
        set schedule "always"
        set service "sg_r1"
    next
    edit 0
        set name "r4"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr "g_imaging4"
        set dstaddr "a_pacs4"
        set action accept
        set schedule "sch_r4"
        set service "HTTPS"
    next
    edit 0
        set name "zonal_deny"
        set srcintf "any"
        set dstintf "any"
        set srcaddr "all"
        set dstaddr "all"
        set srcaddr6 "all"
        set dstaddr6 "all"
        set action deny
        set schedule "always"
        set service "ALL"
    next
end
"#;

    #[test]
    fn policies_families_schedules_and_intrazone() {
        let dev = read(SAMPLE).unwrap();
        let mut env = Env {
            src_zone: Some("imaging"),
            dst_zone: Some("pacs"),
            today: Date::new(2026, 12, 31).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        assert!(
            dev.decide(&pkt("10.20.2.50", "10.30.0.5", 6, 11112), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("2001:db8:20::1", "2001:db8:30::5", 58, 128), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("2001:db8:20::1", "2001:db8:30::5", 17, 5005), &env)
                .unwrap()
                .allow
        );
        assert!(
            !dev.decide(&pkt("2001:db8:20::1", "2001:db8:30::5", 6, 443), &env)
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
        assert!(!d.allow);
        assert_eq!(d.line, Some(89));
        env.src_zone = Some("pacs");
        env.dst_zone = Some("pacs");
        assert!(
            dev.decide(&pkt("10.30.0.5", "10.30.0.6", 6, 1), &env)
                .unwrap()
                .allow
        );
    }
}
