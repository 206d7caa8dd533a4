//! Juniper SRX in `set` form: zones, global and zone address books,
//! applications and application sets, schedulers, zone-pair and global
//! security policies, the default policy and the IPv6 forwarding mode.
//!
//! Configuration merge (what `load set` and `commit` do): the device keeps
//! a configuration tree ([`Junos`]); `set` adds a statement (an existing
//! statement keeps its place), `delete` removes a statement and everything
//! under it. `groups NAME …` statements are inherited where `apply-groups
//! NAME` is set at the top: the inherited statements come after the
//! device's own (so an inherited policy is evaluated after the local
//! policies of its context, and local statements win). The evaluation
//! reads the configuration with inheritance applied.
//!
//! Evaluation: IPv6 is dropped unless `family inet6 mode flow-based`
//! (`packet-based` forwards it with no policy at all). Otherwise the
//! from-zone/to-zone context is searched first match (intra-zone traffic
//! uses the `from-zone Z to-zone Z` context), then the global policies,
//! then `default-policy` (deny-all unless set otherwise).

use std::collections::BTreeMap;

use crate::ios::{self, Res};
use crate::net::{self, Addrs, Ports};
use crate::{Decision, Device, Env, Packet};

#[derive(Clone, Debug, Default)]
struct Term {
    proto: Option<u8>,
    dports: Option<Ports>,
    sports: Option<Ports>,
    icmp_type: Option<u16>,
}

impl Term {
    fn matches(&self, p: &Packet) -> bool {
        let Some(proto) = self.proto else {
            return false;
        };
        if proto != p.proto {
            return false;
        }
        if self
            .dports
            .as_ref()
            .is_some_and(|d| !d.contains(p.selector))
        {
            return false;
        }
        if self.sports.as_ref().is_some_and(|s| !s.contains(p.sport)) {
            return false;
        }
        if self.icmp_type.is_some_and(|t| t != p.selector) {
            return false;
        }
        true
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Context {
    Pair(String, String),
    Global,
}

#[derive(Clone, Debug, Default)]
struct Policy {
    line: usize,
    text: String,
    src: Vec<String>,
    dst: Vec<String>,
    apps: Vec<String>,
    from_zones: Vec<String>,
    to_zones: Vec<String>,
    action: Option<String>,
    action_line: usize,
    scheduler: Option<String>,
    inactive: bool,
    src_excluded: bool,
    dst_excluded: bool,
    /// Resolved at the end of reading.
    c_src: Addrs,
    c_dst: Addrs,
    /// `None` = `any`.
    c_apps: Option<Vec<Term>>,
    c_sched: Option<Vec<(i64, i64)>>,
}

/// The SRX device model.
#[derive(Debug, Default)]
pub(crate) struct Srx {
    v6_mode: Option<String>,
    /// Vendor zone → description.
    zones: BTreeMap<String, String>,
    /// (zone or "" for global, name) → addresses.
    addresses: BTreeMap<(String, String), Addrs>,
    address_sets: BTreeMap<(String, String), Vec<String>>,
    /// application → term name → term.
    apps: BTreeMap<String, BTreeMap<String, Term>>,
    app_sets: BTreeMap<String, Vec<String>>,
    schedulers: BTreeMap<String, Vec<(i64, i64)>>,
    contexts: BTreeMap<Context, Vec<(String, Policy)>>,
    default_permit: bool,
}

/// Reads words, expanding `[ a b ]` lists.
fn values(w: &[String], i: &mut usize) -> Vec<String> {
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
        Some(_) => {
            out.push(w[*i].clone());
            *i += 1;
        }
        None => {}
    }
    out
}

/// One configuration statement: its line in the text it came from, its
/// text, and its words (without `set`; `insert` and `deactivate` keep
/// their verb).
type Stmt = (usize, String, Vec<String>);

/// A Junos configuration tree in `set` form, as `load set` merges into it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Junos {
    stmts: Vec<Stmt>,
}

impl Junos {
    /// Merges `text` (`set`, `delete`, `insert`, `deactivate` lines) into
    /// the configuration, as `load set` does in the candidate.
    pub(crate) fn apply(&mut self, text: &str) -> Res<()> {
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let w = net::words(t);
            match w.first().map(String::as_str) {
                Some("set") => {
                    let path = w[1..].to_vec();
                    if !self.stmts.iter().any(|(_, _, l)| *l == path) {
                        self.stmts.push((n, t.to_string(), path));
                    }
                }
                Some("delete") => {
                    let path = &w[1..];
                    self.stmts.retain(|(_, _, l)| !l.starts_with(path));
                }
                Some("insert" | "deactivate" | "activate") => {
                    self.stmts.push((n, t.to_string(), w.clone()));
                }
                _ => {
                    return Err((
                        n,
                        format!("expected a `set` or `delete` command, found `{t}`"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every statement, as `show | display set` would list it.
    pub(crate) fn statements(&self) -> Vec<String> {
        self.stmts
            .iter()
            .map(|(_, _, w)| match w.first().map(String::as_str) {
                Some("insert" | "deactivate" | "activate") => w.join(" "),
                _ => format!("set {}", w.join(" ")),
            })
            .collect()
    }

    /// The configuration with the groups of the top-level `apply-groups`
    /// inherited: the device's own statements, then each applied group's
    /// statements (in `apply-groups` order) that the device does not set.
    fn effective(&self) -> Vec<Stmt> {
        let applied: Vec<&str> = self
            .stmts
            .iter()
            .filter_map(|(_, _, w)| match w.as_slice() {
                [a, g] if a == "apply-groups" => Some(g.as_str()),
                _ => None,
            })
            .collect();
        let mut out: Vec<Stmt> = self
            .stmts
            .iter()
            .filter(|(_, _, w)| w.first().map(String::as_str) != Some("groups"))
            .cloned()
            .collect();
        for g in applied {
            for (n, text, w) in &self.stmts {
                if let [head, name, rest @ ..] = w.as_slice()
                    && head == "groups"
                    && name == g
                    && !rest.is_empty()
                {
                    let path = rest.to_vec();
                    if !out.iter().any(|(_, _, l)| *l == path) {
                        out.push((*n, text.clone(), path));
                    }
                }
            }
        }
        out
    }
}

/// The redeploy simulation: `foreign` loaded and committed, then each of
/// `loads` merged with `load set` and committed. Returns the device model
/// of the final configuration and the statements before the first load of
/// Zonal's files and after the last.
pub(crate) fn redeploy(foreign: &str, loads: &[&str]) -> Res<(Srx, Vec<String>, Vec<String>)> {
    let mut cfg = Junos::default();
    cfg.apply(foreign)?;
    // The foreign configuration must commit on its own.
    compile(&cfg)?;
    let before = cfg.statements();
    for text in loads {
        cfg.apply(text)?;
        compile(&cfg)?;
    }
    Ok((compile(&cfg)?, before, cfg.statements()))
}

/// Reads a configuration loaded onto an empty device.
pub(crate) fn read(text: &str) -> Res<Srx> {
    let mut cfg = Junos::default();
    cfg.apply(text)?;
    compile(&cfg)
}

/// The device model of a configuration tree.
#[expect(
    clippy::too_many_lines,
    reason = "one match arm per configuration statement of the device grammar"
)]
pub(crate) fn compile(cfg: &Junos) -> Res<Srx> {
    let lines = cfg.effective();
    let mut dev = Srx::default();
    for (n, text, w) in &lines {
        let n = *n;
        let ws: Vec<&str> = w.iter().map(String::as_str).collect();
        match ws.as_slice() {
            [
                "security",
                "forwarding-options",
                "family",
                "inet6",
                "mode",
                m,
            ] => dev.v6_mode = Some((*m).to_string()),
            ["security", "zones", "security-zone", z, "description", d] => {
                dev.zones.insert((*z).to_string(), (*d).to_string());
            }
            [
                "security",
                "zones",
                "security-zone",
                z,
                "address-book",
                "address",
                name,
                rest @ ..,
            ] => {
                let s = parse_address(rest, n)?;
                if let Some(s) = s {
                    dev.addresses
                        .entry(((*z).to_string(), (*name).to_string()))
                        .or_default()
                        .extend(&s);
                }
            }
            [
                "security",
                "zones",
                "security-zone",
                z,
                "address-book",
                "address-set",
                name,
                kind,
                m,
            ] => {
                if *kind != "address" && *kind != "address-set" {
                    return Err((n, format!("unexpected address-set member kind `{kind}`")));
                }
                dev.address_sets
                    .entry(((*z).to_string(), (*name).to_string()))
                    .or_default()
                    .push((*m).to_string());
            }
            ["security", "zones", "security-zone", z, ..] => {
                dev.zones.entry((*z).to_string()).or_default();
            }
            [
                "security",
                "address-book",
                "global",
                "address",
                name,
                rest @ ..,
            ] => {
                if let Some(s) = parse_address(rest, n)? {
                    dev.addresses
                        .entry((String::new(), (*name).to_string()))
                        .or_default()
                        .extend(&s);
                }
            }
            [
                "security",
                "address-book",
                "global",
                "address-set",
                name,
                kind,
                m,
            ] => {
                if *kind != "address" && *kind != "address-set" {
                    if *kind == "description" {
                        continue;
                    }
                    return Err((n, format!("unexpected address-set member kind `{kind}`")));
                }
                dev.address_sets
                    .entry((String::new(), (*name).to_string()))
                    .or_default()
                    .push((*m).to_string());
            }
            ["applications", "application", name, "term", term, rest @ ..] => {
                let t = dev
                    .apps
                    .entry((*name).to_string())
                    .or_default()
                    .entry((*term).to_string())
                    .or_default();
                parse_term(t, rest, n)?;
            }
            ["applications", "application", name, "description", ..] => {
                dev.apps.entry((*name).to_string()).or_default();
            }
            ["applications", "application", name, rest @ ..] => {
                let t = dev
                    .apps
                    .entry((*name).to_string())
                    .or_default()
                    .entry(String::new())
                    .or_default();
                parse_term(t, rest, n)?;
            }
            [
                "applications",
                "application-set",
                name,
                "application" | "application-set",
                m,
            ] => {
                dev.app_sets
                    .entry((*name).to_string())
                    .or_default()
                    .push((*m).to_string());
            }
            ["applications", "application-set", _, "description", ..] => {}
            ["schedulers", "scheduler", name, rest @ ..] => {
                let ranges = parse_scheduler(rest, n)?;
                dev.schedulers
                    .entry((*name).to_string())
                    .or_default()
                    .extend(ranges);
            }
            ["security", "policies", "default-policy", p] => {
                dev.default_permit = match *p {
                    "permit-all" => true,
                    "deny-all" => false,
                    other => return Err((n, format!("unknown default policy `{other}`"))),
                };
            }
            [
                "security",
                "policies",
                "from-zone",
                from,
                "to-zone",
                to,
                "policy",
                name,
                rest @ ..,
            ] => {
                let ctx = Context::Pair((*from).to_string(), (*to).to_string());
                policy_attr(&mut dev, ctx, name, rest, n, text)?;
            }
            ["security", "policies", "global", "policy", name, rest @ ..] => {
                policy_attr(&mut dev, Context::Global, name, rest, n, text)?;
            }
            ["insert", "security", "policies", rest @ ..] => insert(&mut dev, rest, n)?,
            ["deactivate", "security", "policies", rest @ ..] => {
                let (ctx, name) = policy_path(rest, n)?;
                if let Some(p) = dev
                    .contexts
                    .get_mut(&ctx)
                    .and_then(|v| v.iter_mut().find(|(k, _)| k == &name))
                {
                    p.1.inactive = true;
                }
            }
            ["system", ..] | ["interfaces", ..] | ["routing-options", ..] | ["apply-groups", _] => {
            }
            _ => return Err((n, format!("unsupported statement `{text}`"))),
        }
    }
    dev.compile()?;
    Ok(dev)
}

fn policy_path(w: &[&str], n: usize) -> Res<(Context, String)> {
    match w {
        ["from-zone", f, "to-zone", t, "policy", p, ..] => Ok((
            Context::Pair((*f).to_string(), (*t).to_string()),
            (*p).to_string(),
        )),
        ["global", "policy", p, ..] => Ok((Context::Global, (*p).to_string())),
        _ => Err((n, format!("bad policy path `{}`", w.join(" ")))),
    }
}

fn insert(dev: &mut Srx, w: &[&str], n: usize) -> Res<()> {
    let (ctx, name) = policy_path(w, n)?;
    let rest = match w {
        ["from-zone", _, "to-zone", _, "policy", _, rest @ ..]
        | ["global", "policy", _, rest @ ..] => rest,
        _ => &[],
    };
    let (before, other) = match rest {
        ["before", "policy", o] => (true, *o),
        ["after", "policy", o] => (false, *o),
        _ => return Err((n, format!("bad insert `{}`", w.join(" ")))),
    };
    let list = dev
        .contexts
        .get_mut(&ctx)
        .ok_or((n, "insert into an empty context".to_string()))?;
    let from = list
        .iter()
        .position(|(k, _)| *k == name)
        .ok_or((n, format!("unknown policy `{name}`")))?;
    let item = list.remove(from);
    let to = list
        .iter()
        .position(|(k, _)| k == other)
        .ok_or((n, format!("unknown policy `{other}`")))?;
    list.insert(if before { to } else { to + 1 }, item);
    Ok(())
}

fn policy_attr(
    dev: &mut Srx,
    ctx: Context,
    name: &str,
    rest: &[&str],
    n: usize,
    text: &str,
) -> Res<()> {
    let list = dev.contexts.entry(ctx).or_default();
    let idx = match list.iter().position(|(k, _)| k == name) {
        Some(i) => i,
        None => {
            list.push((
                name.to_string(),
                Policy {
                    line: n,
                    text: text.to_string(),
                    ..Policy::default()
                },
            ));
            list.len() - 1
        }
    };
    let Some((_, p)) = list.get_mut(idx) else {
        return Ok(());
    };
    let owned: Vec<String> = rest.iter().map(|s| (*s).to_string()).collect();
    match rest {
        ["description", ..] => {}
        ["match", ..] => {
            let mut i = 1;
            while let Some(key) = owned.get(i).cloned() {
                i += 1;
                match key.as_str() {
                    "source-address-excluded" => {
                        p.src_excluded = true;
                        continue;
                    }
                    "destination-address-excluded" => {
                        p.dst_excluded = true;
                        continue;
                    }
                    _ => {}
                }
                let vals = values(&owned, &mut i);
                if vals.is_empty() {
                    return Err((n, format!("`{key}` needs a value")));
                }
                match key.as_str() {
                    "source-address" => p.src.extend(vals),
                    "destination-address" => p.dst.extend(vals),
                    "application" => p.apps.extend(vals),
                    "from-zone" => p.from_zones.extend(vals),
                    "to-zone" => p.to_zones.extend(vals),
                    "source-identity" | "dynamic-application" if vals == ["any"] => {}
                    other => return Err((n, format!("policy match `{other}` is not modelled"))),
                }
            }
        }
        ["then", action, ..] if matches!(*action, "permit" | "deny" | "reject") => {
            p.action = Some((*action).to_string());
            p.action_line = n;
            p.text = text.to_string();
        }
        ["then", "log" | "count", ..] => {}
        ["then", other, ..] => return Err((n, format!("policy action `{other}` is not modelled"))),
        ["scheduler-name", s] => p.scheduler = Some((*s).to_string()),
        _ => return Err((n, format!("unsupported policy statement `{text}`"))),
    }
    Ok(())
}

fn parse_address(w: &[&str], n: usize) -> Res<Option<Addrs>> {
    let mut s = Addrs::none();
    match w {
        ["description", ..] => return Ok(None),
        ["range-address", a, "to", b] => {
            net::add_range_text(&mut s, &format!("{a}-{b}")).map_err(|e| (n, e))?
        }
        ["ip-prefix", p] | [p] => net::add_prefix_text(&mut s, p).map_err(|e| (n, e))?,
        _ => return Err((n, format!("unsupported address `{}`", w.join(" ")))),
    }
    Ok(Some(s))
}

fn junos_port(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let lo = net::cisco_port_by_name(a)?;
            let hi = net::cisco_port_by_name(b)?;
            (lo <= hi).then_some((lo, hi))
        }
        None => net::cisco_port_by_name(s).map(|p| (p, p)),
    }
}

fn parse_term(t: &mut Term, w: &[&str], n: usize) -> Res<()> {
    let mut i = 0;
    while let Some(key) = w.get(i) {
        let val = w.get(i + 1).ok_or((n, format!("`{key}` needs a value")))?;
        match *key {
            "protocol" => {
                t.proto =
                    Some(net::proto_by_name(val).ok_or((n, format!("unknown protocol `{val}`")))?);
            }
            "destination-port" => {
                let r = junos_port(val).ok_or((n, format!("bad port `{val}`")))?;
                t.dports = Some(Ports(vec![r]));
            }
            "source-port" => {
                let r = junos_port(val).ok_or((n, format!("bad port `{val}`")))?;
                t.sports = Some(Ports(vec![r]));
            }
            "icmp-type" | "icmp6-type" => {
                let v6 = *key == "icmp6-type";
                t.icmp_type = Some(
                    net::icmp_type_by_name(val, v6)
                        .ok_or((n, format!("unknown ICMP type `{val}`")))?,
                );
            }
            "icmp-code" | "icmp6-code" => {
                if *val != "0" {
                    return Err((n, "ICMP codes are not modelled".into()));
                }
            }
            "inactivity-timeout" | "alg" | "application-protocol" => {}
            "description" => {}
            other => {
                return Err((
                    n,
                    format!("application attribute `{other}` is not modelled"),
                ));
            }
        }
        i += 2;
    }
    Ok(())
}

/// `start-date [YYYY-]MM-DD.hh:mm stop-date …` pairs.
fn parse_scheduler(w: &[&str], n: usize) -> Res<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < w.len() {
        match (w.get(i), w.get(i + 1), w.get(i + 2), w.get(i + 3)) {
            (Some(&"start-date"), Some(a), Some(&"stop-date"), Some(b)) => {
                out.push((junos_time(a, n)?, junos_time(b, n)?));
                i += 4;
            }
            (Some(&"description"), ..) => return Ok(out),
            _ => {
                return Err((
                    n,
                    format!("scheduler form `{}` is not modelled", w.join(" ")),
                ));
            }
        }
    }
    Ok(out)
}

fn junos_time(s: &str, n: usize) -> Res<i64> {
    let bad = || (n, format!("bad scheduler date `{s}`"));
    let (date, time) = s.split_once('.').ok_or_else(bad)?;
    let parts: Vec<&str> = date.split('-').collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] => (
            y.parse::<i64>().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            d.parse().map_err(|_| bad())?,
        ),
        _ => {
            return Err((
                n,
                format!("scheduler date `{s}` without a year is not modelled"),
            ));
        }
    };
    let (h, mi) = time.split_once(':').ok_or_else(bad)?;
    let h: i64 = h.parse().map_err(|_| bad())?;
    let mi: i64 = mi.parse().map_err(|_| bad())?;
    Ok(ios::days_from_civil(y, m, d) * 1440 + h * 60 + mi)
}

impl Srx {
    fn zone_for(&self, zone: Option<&str>) -> Option<&str> {
        let zone = zone?;
        let want = format!("zone {zone}");
        if let Some((z, _)) = self.zones.iter().find(|(_, d)| **d == want) {
            return Some(z.as_str());
        }
        self.zones
            .keys()
            .find(|z| net::names_zone(z, zone))
            .map(String::as_str)
    }

    /// Resolves names (zone book first, then the global book).
    fn resolve_addr(&self, zone: &str, name: &str, depth: usize) -> Result<Addrs, String> {
        if depth > 16 {
            return Err("address sets nest too deeply".into());
        }
        match name {
            "any" => return Ok(Addrs::any()),
            "any-ipv4" => return Ok(Addrs::any_v4()),
            "any-ipv6" => return Ok(Addrs::any_v6()),
            _ => {}
        }
        for book in [zone, ""] {
            let key = (book.to_string(), name.to_string());
            if let Some(a) = self.addresses.get(&key) {
                return Ok(a.clone());
            }
            if let Some(members) = self.address_sets.get(&key) {
                let mut out = Addrs::none();
                for m in members {
                    out.extend(&self.resolve_addr(zone, m, depth + 1)?);
                }
                return Ok(out);
            }
        }
        Err(format!("unknown address `{name}` (commit would fail)"))
    }

    fn resolve_app(&self, name: &str, depth: usize) -> Result<Option<Vec<Term>>, String> {
        if depth > 16 {
            return Err("application sets nest too deeply".into());
        }
        if name == "any" {
            return Ok(None);
        }
        if let Some(terms) = self.apps.get(name) {
            return Ok(Some(terms.values().cloned().collect()));
        }
        if let Some(members) = self.app_sets.get(name) {
            let mut out = Vec::new();
            for m in members {
                match self.resolve_app(m, depth + 1)? {
                    Some(t) => out.extend(t),
                    None => return Ok(None),
                }
            }
            return Ok(Some(out));
        }
        predefined(name)
            .map(Some)
            .ok_or_else(|| format!("unknown application `{name}` (commit would fail)"))
    }

    /// Resolves every policy's names once.
    fn compile(&mut self) -> Res<()> {
        let mut resolved = Vec::new();
        for (ctx, list) in &self.contexts {
            let (from, to) = match ctx {
                Context::Pair(f, t) => (f.as_str(), t.as_str()),
                Context::Global => ("", ""),
            };
            for (i, (_, p)) in list.iter().enumerate() {
                let err = |e: String| (p.line, e);
                let mut src = Addrs::none();
                for a in &p.src {
                    src.extend(&self.resolve_addr(from, a, 0).map_err(err)?);
                }
                let mut dst = Addrs::none();
                for a in &p.dst {
                    dst.extend(&self.resolve_addr(to, a, 0).map_err(err)?);
                }
                let mut apps = Some(Vec::new());
                for a in &p.apps {
                    match (self.resolve_app(a, 0).map_err(err)?, apps.as_mut()) {
                        (Some(t), Some(v)) => v.extend(t),
                        _ => apps = None,
                    }
                }
                if p.apps.is_empty() || p.src.is_empty() || p.dst.is_empty() {
                    return Err((
                        p.line,
                        "policy without a complete match (commit would fail)".into(),
                    ));
                }
                let sched = match &p.scheduler {
                    Some(s) => Some(self.schedulers.get(s).cloned().ok_or_else(|| {
                        (
                            p.line,
                            format!("unknown scheduler `{s}` (commit would fail)"),
                        )
                    })?),
                    None => None,
                };
                resolved.push((ctx.clone(), i, src, dst, apps, sched));
            }
        }
        for (ctx, i, src, dst, apps, sched) in resolved {
            if let Some((_, p)) = self.contexts.get_mut(&ctx).and_then(|l| l.get_mut(i)) {
                p.c_src = src;
                p.c_dst = dst;
                p.c_src.normalize();
                p.c_dst.normalize();
                p.c_apps = apps;
                p.c_sched = sched;
            }
        }
        Ok(())
    }

    fn first_match<'a>(
        &'a self,
        list: &'a [(String, Policy)],
        from: &str,
        to: &str,
        p: &Packet,
        env: &Env<'_>,
    ) -> Option<&'a Policy> {
        let now = ios::today_minutes(env.today);
        list.iter().map(|(_, pol)| pol).find(|pol| {
            !pol.inactive
                && (pol.from_zones.is_empty()
                    || pol.from_zones.iter().any(|z| z == from || z == "any"))
                && (pol.to_zones.is_empty() || pol.to_zones.iter().any(|z| z == to || z == "any"))
                && pol.c_src.contains(p.src) != pol.src_excluded
                && pol.c_dst.contains(p.dst) != pol.dst_excluded
                && pol
                    .c_apps
                    .as_ref()
                    .is_none_or(|terms| terms.iter().any(|t| t.matches(p)))
                && pol
                    .c_sched
                    .as_ref()
                    .is_none_or(|r| r.iter().any(|&(a, b)| a <= now && now < b))
        })
    }
}

/// A few predefined Junos applications.
fn predefined(name: &str) -> Option<Vec<Term>> {
    let tcp = |p: u16| Term {
        proto: Some(6),
        dports: Some(Ports::one(p)),
        ..Term::default()
    };
    let udp = |p: u16| Term {
        proto: Some(17),
        dports: Some(Ports::one(p)),
        ..Term::default()
    };
    Some(match name {
        "junos-http" => vec![tcp(80)],
        "junos-https" => vec![tcp(443)],
        "junos-ssh" => vec![tcp(22)],
        "junos-telnet" => vec![tcp(23)],
        "junos-ftp" => vec![tcp(21)],
        "junos-smb" => vec![tcp(139), tcp(445)],
        "junos-ms-rdp" | "junos-rdp" => vec![tcp(3389)],
        "junos-dns-udp" => vec![udp(53)],
        "junos-dns-tcp" => vec![tcp(53)],
        "junos-ntp" => vec![udp(123)],
        "junos-syslog" => vec![udp(514)],
        "junos-ike" => vec![udp(500)],
        "junos-ike-nat" => vec![udp(4500)],
        "junos-ldap" => vec![tcp(389)],
        "junos-icmp-all" => vec![Term {
            proto: Some(1),
            ..Term::default()
        }],
        "junos-icmp-ping" | "junos-ping" => vec![Term {
            proto: Some(1),
            icmp_type: Some(8),
            ..Term::default()
        }],
        "junos-icmp6-all" => vec![Term {
            proto: Some(58),
            ..Term::default()
        }],
        "junos-pingv6" | "junos-icmp6-echo-request" => {
            vec![Term {
                proto: Some(58),
                icmp_type: Some(128),
                ..Term::default()
            }]
        }
        _ => return None,
    })
}

impl Device for Srx {
    fn side(&self, zone: &str) -> Option<String> {
        self.zone_for(Some(zone)).map(str::to_string)
    }

    fn decide(&self, p: &Packet, env: &Env<'_>) -> Option<Decision> {
        if p.src.is_ipv6() {
            match self.v6_mode.as_deref() {
                Some("flow-based") => {}
                Some("packet-based") => {
                    return Some(Decision::implicit(
                        true,
                        "inet6 packet-based mode: no policy applies",
                    ));
                }
                _ => {
                    return Some(Decision::implicit(
                        false,
                        "IPv6 is dropped (inet6 mode is not flow-based)",
                    ));
                }
            }
        }
        let from = env.src(self)?;
        let to = env.dst(self)?;
        let (from, to) = (from.as_str(), to.as_str());
        let ctx = Context::Pair(from.to_string(), to.to_string());
        let hit = self
            .contexts
            .get(&ctx)
            .and_then(|l| self.first_match(l, from, to, p, env))
            .or_else(|| {
                self.contexts
                    .get(&Context::Global)
                    .and_then(|l| self.first_match(l, from, to, p, env))
            });
        Some(match hit {
            Some(pol) => {
                let allow = pol.action.as_deref() == Some("permit");
                Decision::at(allow, pol.action_line.max(pol.line), &pol.text)
            }
            None => Decision::implicit(self.default_permit, "default-policy"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::pkt;
    use zonal_model::Date;

    const SAMPLE: &str = r#"
set security forwarding-options family inet6 mode flow-based
delete security policies
set security zones security-zone z_imaging description "zone imaging"
set security zones security-zone z_imaging interfaces ge-0/0/1.0
set security zones security-zone z_pacs description "zone pacs"
set security address-book global address a_img_net4 10.20.0.0/24
set security address-book global address a_img_range range-address 10.20.2.1 to 10.20.2.50
set security address-book global address a_img_net6 2001:db8:20::/64
set security address-book global address-set g_imaging address a_img_net4
set security address-book global address-set g_imaging address a_img_range
set security address-book global address-set g_imaging address a_img_net6
set security address-book global address a_pacs4 10.30.0.5/32
set applications application s_dicom term t1 protocol tcp destination-port 104
set applications application s_dicom term t2 protocol udp destination-port 5000-5010
set applications application s_ping6 term t1 protocol icmp6 icmp6-type 128
set applications application-set ss_r1 application s_dicom
set applications application-set ss_r1 application s_ping6
set schedulers scheduler sch_r4 start-date 2026-01-01.00:00 stop-date 2026-12-31.00:00
set security policies from-zone z_imaging to-zone z_pacs policy r1 match source-address g_imaging destination-address a_pacs4 application ss_r1
set security policies from-zone z_imaging to-zone z_pacs policy r1 then permit
set security policies from-zone z_imaging to-zone z_pacs policy r4 match source-address g_imaging destination-address a_pacs4 application junos-https
set security policies from-zone z_imaging to-zone z_pacs policy r4 then permit
set security policies from-zone z_imaging to-zone z_pacs policy r4 scheduler-name sch_r4
set security policies global policy zonal-deny match source-address any destination-address any application any
set security policies global policy zonal-deny then deny
set security policies default-policy deny-all
"#;

    #[test]
    fn contexts_sets_schedulers_and_global() {
        let dev = read(SAMPLE).unwrap();
        let mut env = Env {
            src_zone: Some("imaging"),
            dst_zone: Some("pacs"),
            today: Date::new(2026, 6, 1).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        assert!(
            dev.decide(&pkt("10.20.2.50", "10.30.0.5", 17, 5010), &env)
                .unwrap()
                .allow
        );
        assert!(
            !dev.decide(&pkt("10.20.2.51", "10.30.0.5", 17, 5010), &env)
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
        assert_eq!(d.line, Some(26));
        env.src_zone = Some("pacs");
        env.dst_zone = Some("imaging");
        assert!(
            !dev.decide(&pkt("10.30.0.5", "10.20.0.1", 6, 104), &env)
                .unwrap()
                .allow
        );
    }
}
