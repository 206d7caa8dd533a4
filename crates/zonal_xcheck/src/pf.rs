//! OpenBSD pf.conf: macros, tables and `pass`/`block`/`match` rules.
//!
//! Evaluation follows pf.conf(5): a forwarded packet is filtered twice,
//! inbound on the source zone's interface and outbound on the destination
//! zone's interface. On each pass the rules are read top to bottom; the
//! last matching rule decides unless a matching rule is `quick`, which
//! decides at once; with no matching rule the packet passes (implicit
//! pass). `tag` on the inbound decision is visible to `tagged` outbound.
//! Only new connections are probed: replies ride on state.
//!
//! Anchors: `anchor "a/*"` in a ruleset evaluates, in place, the rules of
//! every anchor directly under `a` (in name order); a `quick` match inside
//! ends the whole evaluation, a non-quick one is the last match so far.
//! `pfctl -a NAME -f FILE` replaces the rules and tables of one anchor
//! ([`redeploy`]). `self` is the firewall's own addresses (none unless the
//! simulation names them with a `#@self ADDR …` line in the main ruleset).

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::ios::Res;
use crate::net::{self, Addrs, Ports};
use crate::{Decision, Device, Env, Packet};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Pass,
    Block,
    Match,
    /// `anchor "PATH"` (a `*` path evaluates the anchors under it).
    Anchor(String),
}

#[derive(Clone, Debug)]
struct Host {
    addrs: Addrs,
    negate: bool,
}

#[derive(Clone, Debug, Default)]
struct Side {
    /// `None` = any; otherwise any of these (each possibly negated).
    hosts: Option<Vec<Host>>,
    ports: Option<Ports>,
}

impl Side {
    fn matches_addr(&self, ip: IpAddr) -> bool {
        match &self.hosts {
            None => true,
            Some(list) => list.iter().any(|h| h.addrs.contains(ip) != h.negate),
        }
    }
}

#[derive(Clone, Debug)]
struct Rule {
    line: usize,
    text: String,
    action: Action,
    dir: Option<bool>, // Some(true) = in, Some(false) = out.
    quick: bool,
    ifaces: Option<(Vec<String>, bool)>, // (names, negated)
    af: Option<bool>,                    // Some(true) = inet6.
    protos: Option<Vec<u8>>,
    from: Side,
    to: Side,
    icmp_types: Option<Vec<u16>>,
    tag: Option<String>,
    tagged: Option<(String, bool)>, // (tag, negated)
    flags_syn_only: bool,
}

/// The pf device model.
#[derive(Debug, Default)]
pub(crate) struct Pf {
    rules: Vec<Rule>,
    /// Loaded anchors by path, each with its own rules and tables.
    anchors: BTreeMap<String, Pf>,
    /// The firewall's own addresses (`self`).
    self_addrs: Addrs,
    /// Macro name → value (for mapping zones to interfaces).
    macros: BTreeMap<String, String>,
    /// Interfaces named in rules.
    ifaces: Vec<String>,
}

/// Splits pf text into tokens: words, `{`, `}`, `,`, `!`, `(`, `)`,
/// quoted strings (without quotes).
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                flush(&mut cur, &mut out);
                let mut q = String::new();
                for d in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                    q.push(d);
                }
                out.push(q);
            }
            '{' | '}' | ',' | '(' | ')' => {
                flush(&mut cur, &mut out);
                out.push(c.to_string());
            }
            '!' if cur.is_empty() && chars.peek() != Some(&'=') => out.push("!".into()),
            c if c.is_whitespace() => flush(&mut cur, &mut out),
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Removes `#` comments (outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut in_q = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_q = !in_q,
            '#' if !in_q => return &line[..i],
            _ => {}
        }
    }
    line
}

fn expand(line: &str, macros: &BTreeMap<String, String>, n: usize) -> Res<String> {
    let mut s = line.to_string();
    for _ in 0..8 {
        if !s.contains('$') {
            return Ok(s);
        }
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 1..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let name = &tail[..end];
            let v = macros
                .get(name)
                .ok_or((n, format!("undefined macro `${name}`")))?;
            out.push_str(v);
            rest = &tail[end..];
        }
        out.push_str(rest);
        s = out;
    }
    Err((n, "macro expansion too deep".into()))
}

pub(crate) fn read(text: &str) -> Res<Pf> {
    read_with_self(text, &Addrs::none())
}

/// The redeploy simulation: `main` is the main ruleset (the admin's,
/// never changed); each of `loads` is an anchor file loaded with `pfctl -a
/// PATH -f FILE`, PATH read from the file's `# anchor PATH` line (the
/// command the file documents), replacing that anchor's rules and tables.
pub(crate) fn redeploy(main: &str, loads: &[&str]) -> Res<(Pf, Vec<String>, Vec<String>)> {
    let mut me = Addrs::none();
    for l in main.lines() {
        if let Some(rest) = l.trim().strip_prefix("#@self ") {
            for a in rest.split_whitespace() {
                net::add_prefix_text(&mut me, a).map_err(|e| (0, e))?;
            }
        }
    }
    me.normalize();
    let mut dev = read_with_self(main, &me)?;
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let state = |files: &BTreeMap<String, String>| {
        let mut out: Vec<String> = main.lines().map(|l| format!("main: {l}")).collect();
        for (path, text) in files {
            out.extend(text.lines().map(|l| format!("anchor {path}: {l}")));
        }
        out
    };
    let before = state(&files);
    for text in loads {
        let path = text
            .lines()
            .find_map(|l| l.strip_prefix("# anchor "))
            .map(|p| p.trim().to_string())
            .ok_or((
                1,
                "an anchor file names its anchor (`# anchor PATH`)".to_string(),
            ))?;
        let anchor = read_with_self(text, &me)?;
        dev.anchors.insert(path.clone(), anchor);
        files.insert(path, text.to_string());
    }
    let after = state(&files);
    Ok((dev, before, after))
}

#[expect(
    clippy::too_many_lines,
    reason = "one branch per pf.conf statement kind, in parse.y order"
)]
fn read_with_self(text: &str, me: &Addrs) -> Res<Pf> {
    // Logical lines: comments stripped, `\` continuations and open braces joined.
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let l = strip_comment(raw).trim_end();
        let (cont, body) = match l.strip_suffix('\\') {
            Some(b) => (true, b),
            None => (false, l),
        };
        let (start, mut acc) = pending.take().unwrap_or((n, String::new()));
        acc.push(' ');
        acc.push_str(body);
        let open = acc.matches('{').count() > acc.matches('}').count();
        if cont || open {
            pending = Some((start, acc));
        } else if !acc.trim().is_empty() {
            logical.push((start, acc.trim().to_string()));
        }
    }
    if let Some((n, _)) = pending {
        return Err((n, "unterminated line or brace".into()));
    }
    let mut dev = Pf {
        self_addrs: me.clone(),
        ..Pf::default()
    };
    let mut tables: BTreeMap<String, Addrs> = BTreeMap::new();
    tables.insert(SELF.to_string(), me.clone());
    for (n, line) in logical {
        // Macro definition.
        if let Some((name, value)) = line.split_once('=')
            && !name.trim().contains(' ')
            && name
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            let v = expand(value.trim(), &dev.macros, n)?;
            let v = v.trim().trim_matches('"').to_string();
            dev.macros.insert(name.trim().to_string(), v);
            continue;
        }
        let line = expand(&line, &dev.macros, n)?;
        let t = tokens(&line);
        match t.first().map(String::as_str) {
            Some("set") => {}
            Some("table") => {
                let name = t.get(1).ok_or((n, "table needs a name".to_string()))?;
                let name = name
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string();
                let mut addrs = Addrs::none();
                let mut i = 2;
                while let Some(w) = t.get(i) {
                    match w.as_str() {
                        "const" | "persist" | "counters" => i += 1,
                        "{" => {
                            let (list, used) = host_list(&t[i..], &tables, n)?;
                            for h in list {
                                if h.negate {
                                    return Err((
                                        n,
                                        "negated table entries are not modelled".into(),
                                    ));
                                }
                                addrs.extend(&h.addrs);
                            }
                            i += used;
                        }
                        "file" => {
                            return Err((n, "tables loaded from files are not modelled".into()));
                        }
                        other => return Err((n, format!("unexpected `{other}` in table"))),
                    }
                }
                tables.insert(name, addrs);
            }
            Some("pass" | "block" | "match") => {
                let r = parse_rule(&t, &tables, n, &line)?;
                if let Some((names, _)) = &r.ifaces {
                    for i in names {
                        if !dev.ifaces.contains(i) {
                            dev.ifaces.push(i.clone());
                        }
                    }
                }
                dev.rules.push(r);
            }
            Some("scrub" | "antispoof") => {}
            Some("anchor") => {
                let path = t.get(1).ok_or((n, "anchor needs a name".to_string()))?;
                if t.len() > 2 {
                    return Err((n, "anchor filter options are not modelled".into()));
                }
                dev.rules.push(Rule {
                    line: n,
                    text: line.clone(),
                    action: Action::Anchor(path.clone()),
                    dir: None,
                    quick: false,
                    ifaces: None,
                    af: None,
                    protos: None,
                    from: Side::default(),
                    to: Side::default(),
                    icmp_types: None,
                    tag: None,
                    tagged: None,
                    flags_syn_only: false,
                });
            }
            Some(other) => return Err((n, format!("unsupported pf statement `{other}`"))),
            None => {}
        }
    }
    for r in &mut dev.rules {
        for side in [&mut r.from, &mut r.to] {
            for h in side.hosts.iter_mut().flatten() {
                h.addrs.normalize();
            }
        }
    }
    Ok(dev)
}

/// One host or a `{ … }` list at the start of `t`; returns hosts and the
/// number of tokens used.
fn host_list(t: &[String], tables: &BTreeMap<String, Addrs>, n: usize) -> Res<(Vec<Host>, usize)> {
    if t.first().map(String::as_str) == Some("{") {
        let mut out = Vec::new();
        let mut i = 1;
        loop {
            match t.get(i).map(String::as_str) {
                Some("}") => return Ok((out, i + 1)),
                Some(",") => i += 1,
                Some(_) => {
                    let (h, used) = one_host(&t[i..], tables, n)?;
                    out.push(h);
                    i += used;
                }
                None => return Err((n, "unterminated `{` list".into())),
            }
        }
    }
    let (h, used) = one_host(t, tables, n)?;
    Ok((vec![h], used))
}

fn one_host(t: &[String], tables: &BTreeMap<String, Addrs>, n: usize) -> Res<(Host, usize)> {
    let mut i = 0;
    let mut negate = false;
    if t.first().map(String::as_str) == Some("!") {
        negate = true;
        i = 1;
    }
    let w = t.get(i).ok_or((n, "expected an address".to_string()))?;
    let w = w.strip_prefix('!').map_or(w.as_str(), |s| {
        negate = true;
        s
    });
    let mut addrs = Addrs::none();
    if let Some(name) = w.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
        addrs = tables
            .get(name)
            .cloned()
            .ok_or((n, format!("unknown table `<{name}>`")))?;
        return Ok((Host { addrs, negate }, i + 1));
    }
    if w == "any" {
        return Ok((
            Host {
                addrs: Addrs::any(),
                negate,
            },
            i + 1,
        ));
    }
    if w == "self" {
        addrs = tables.get(SELF).cloned().unwrap_or_else(Addrs::none);
        return Ok((Host { addrs, negate }, i + 1));
    }
    if matches!(w, "no-route" | "urpf-failed") || w.starts_with('(') {
        return Err((n, format!("address `{w}` is not modelled")));
    }
    // `a - b` range.
    if t.get(i + 1).map(String::as_str) == Some("-") {
        let hi = t.get(i + 2).ok_or((n, "range needs an end".to_string()))?;
        net::add_range_text(&mut addrs, &format!("{w}-{hi}")).map_err(|e| (n, e))?;
        return Ok((Host { addrs, negate }, i + 3));
    }
    net::add_prefix_text(&mut addrs, w).map_err(|e| {
        (
            n,
            format!("{e} (interface names as addresses are not modelled)"),
        )
    })?;
    Ok((Host { addrs, negate }, i + 1))
}

/// The key of `self` in the table map (not a valid table name).
const SELF: &str = "(self)";

/// pf's own protocol names, then the common ones.
fn pf_proto(name: &str) -> Option<u8> {
    match name {
        "carp" => Some(112),
        "pfsync" => Some(240),
        other => net::proto_by_name(other),
    }
}

fn pf_port(s: &str) -> Option<u16> {
    s.parse().ok().or_else(|| match s {
        "dicom" | "acr-nema" => Some(104),
        "domain" => Some(53),
        "hl7" => Some(2575),
        "ms-wbt-server" => Some(3389),
        "microsoft-ds" => Some(445),
        "netbios-ssn" => Some(139),
        "bootps" => Some(67),
        _ => net::cisco_port_by_name(s),
    })
}

/// `port` spec after the keyword; returns ports and tokens used.
fn port_spec(t: &[String], n: usize) -> Res<(Ports, usize)> {
    let bad = |s: &str| (n, format!("bad port spec near `{s}`"));
    let one = |t: &[String]| -> Res<(Vec<(u16, u16)>, usize)> {
        let a = t.first().ok_or((n, "missing port".to_string()))?;
        let ops = ["=", "!=", "<", "<=", ">", ">="];
        if ops.contains(&a.as_str()) {
            let b = t.get(1).ok_or(bad(a))?;
            let p = pf_port(b).ok_or(bad(b))?;
            let r = match a.as_str() {
                "=" => vec![(p, p)],
                "!=" => {
                    let mut v = Vec::new();
                    if p > 0 {
                        v.push((0, p - 1));
                    }
                    if p < u16::MAX {
                        v.push((p + 1, u16::MAX));
                    }
                    v
                }
                "<" => {
                    if p == 0 {
                        vec![]
                    } else {
                        vec![(0, p - 1)]
                    }
                }
                "<=" => vec![(0, p)],
                ">" => {
                    if p == u16::MAX {
                        vec![]
                    } else {
                        vec![(p + 1, u16::MAX)]
                    }
                }
                _ => vec![(p, u16::MAX)],
            };
            return Ok((r, 2));
        }
        if let Some((x, y)) = a.split_once(':') {
            let lo = pf_port(x).ok_or(bad(a))?;
            let hi = pf_port(y).ok_or(bad(a))?;
            return Ok((vec![(lo, hi)], 1));
        }
        let p = pf_port(a).ok_or(bad(a))?;
        match t.get(1).map(String::as_str) {
            Some("><") | Some("<>") => {
                let hi = pf_port(t.get(2).ok_or(bad(a))?).ok_or(bad(a))?;
                let r = if t[1] == "><" {
                    if hi > p + 1 {
                        vec![(p + 1, hi - 1)]
                    } else {
                        vec![]
                    }
                } else {
                    let mut v = Vec::new();
                    if p > 0 {
                        v.push((0, p - 1));
                    }
                    if hi < u16::MAX {
                        v.push((hi + 1, u16::MAX));
                    }
                    v
                };
                Ok((r, 3))
            }
            _ => Ok((vec![(p, p)], 1)),
        }
    };
    if t.first().map(String::as_str) == Some("{") {
        let mut out = Vec::new();
        let mut i = 1;
        loop {
            match t.get(i).map(String::as_str) {
                Some("}") => return Ok((Ports(out), i + 1)),
                Some(",") => i += 1,
                Some(_) => {
                    let (r, used) = one(&t[i..])?;
                    out.extend(r);
                    i += used;
                }
                None => return Err((n, "unterminated port list".into())),
            }
        }
    }
    let (r, used) = one(t)?;
    Ok((Ports(r), used))
}

/// A `{ a, b }` list of words or a single word.
fn word_list(t: &[String], n: usize) -> Res<(Vec<String>, usize)> {
    if t.first().map(String::as_str) == Some("{") {
        let mut out = Vec::new();
        let mut i = 1;
        loop {
            match t.get(i).map(String::as_str) {
                Some("}") => return Ok((out, i + 1)),
                Some(",") => i += 1,
                Some(w) => {
                    out.push(w.to_string());
                    i += 1;
                }
                None => return Err((n, "unterminated list".into())),
            }
        }
    }
    let w = t.first().ok_or((n, "expected a value".to_string()))?;
    Ok((vec![w.clone()], 1))
}

fn parse_side(t: &[String], tables: &BTreeMap<String, Addrs>, n: usize) -> Res<(Side, usize)> {
    let mut side = Side::default();
    let (hosts, mut i) = host_list(t, tables, n)?;
    if !(hosts.len() == 1 && hosts[0].addrs == Addrs::any() && !hosts[0].negate) {
        side.hosts = Some(hosts);
    }
    if t.get(i).map(String::as_str) == Some("port") {
        let (p, used) = port_spec(&t[i + 1..], n)?;
        side.ports = Some(p);
        i += 1 + used;
    }
    Ok((side, i))
}

#[expect(
    clippy::too_many_lines,
    reason = "one branch per field of the pf rule grammar, in parse.y order"
)]
fn parse_rule(t: &[String], tables: &BTreeMap<String, Addrs>, n: usize, text: &str) -> Res<Rule> {
    let action = match t[0].as_str() {
        "pass" => Action::Pass,
        "block" => Action::Block,
        _ => Action::Match,
    };
    let mut r = Rule {
        line: n,
        text: text.to_string(),
        action,
        dir: None,
        quick: false,
        ifaces: None,
        af: None,
        protos: None,
        from: Side::default(),
        to: Side::default(),
        icmp_types: None,
        tag: None,
        tagged: None,
        flags_syn_only: false,
    };
    let mut i = 1;
    while let Some(w) = t.get(i) {
        i += 1;
        match w.as_str() {
            "drop" | "return" | "return-rst" | "return-icmp" | "return-icmp6"
                if r.action == Action::Block => {}
            "in" => r.dir = Some(true),
            "out" => r.dir = Some(false),
            "log" => {
                if t.get(i).map(String::as_str) == Some("(") {
                    while let Some(x) = t.get(i) {
                        i += 1;
                        if x == ")" {
                            break;
                        }
                    }
                }
            }
            "quick" => r.quick = true,
            "on" => {
                let mut neg = false;
                if t.get(i).map(String::as_str) == Some("!") {
                    neg = true;
                    i += 1;
                }
                let (names, used) = word_list(&t[i..], n)?;
                i += used;
                r.ifaces = Some((names, neg));
            }
            "inet" => r.af = Some(false),
            "inet6" => r.af = Some(true),
            "proto" => {
                let (names, used) = word_list(&t[i..], n)?;
                i += used;
                let mut v = Vec::new();
                for p in names {
                    v.push(pf_proto(&p).ok_or((n, format!("unknown protocol `{p}`")))?);
                }
                r.protos = Some(v);
            }
            "all" => {}
            "from" => {
                let (s, used) = parse_side(&t[i..], tables, n)?;
                r.from = s;
                i += used;
            }
            "to" => {
                let (s, used) = parse_side(&t[i..], tables, n)?;
                r.to = s;
                i += used;
            }
            "icmp-type" | "icmp6-type" => {
                let v6 = w == "icmp6-type";
                let (names, used) = word_list(&t[i..], n)?;
                i += used;
                let mut v = Vec::new();
                for x in names {
                    v.push(
                        net::icmp_type_by_name(&x, v6)
                            .ok_or((n, format!("unknown ICMP type `{x}`")))?,
                    );
                }
                if t.get(i).map(String::as_str) == Some("code") {
                    return Err((n, "ICMP codes are not modelled".into()));
                }
                r.icmp_types = Some(v);
            }
            "flags" => {
                let f = t.get(i).ok_or((n, "flags needs a value".to_string()))?;
                i += 1;
                // Probes are a SYN (new) or an ACK segment; `S/SA` (the
                // default for pass rules) matches the SYN only.
                match f.as_str() {
                    "S/SA" | "S/SAFR" | "S/FSRA" => r.flags_syn_only = true,
                    "any" => {}
                    other => return Err((n, format!("flags `{other}` are not modelled"))),
                }
            }
            "keep" | "modulate" | "synproxy" => {
                if t.get(i).map(String::as_str) == Some("state") {
                    i += 1;
                }
                if t.get(i).map(String::as_str) == Some("(") {
                    while let Some(x) = t.get(i) {
                        i += 1;
                        if x == ")" {
                            break;
                        }
                    }
                }
            }
            "no" => {
                if t.get(i).map(String::as_str) == Some("state") {
                    i += 1;
                } else {
                    return Err((n, "unexpected `no`".into()));
                }
            }
            "tag" => {
                r.tag = Some(t.get(i).ok_or((n, "tag needs a name".to_string()))?.clone());
                i += 1;
            }
            "!" if t.get(i).map(String::as_str) == Some("tagged") => {
                r.tagged = Some((
                    t.get(i + 1)
                        .ok_or((n, "tagged needs a name".to_string()))?
                        .clone(),
                    true,
                ));
                i += 2;
            }
            "tagged" => {
                r.tagged = Some((
                    t.get(i)
                        .ok_or((n, "tagged needs a name".to_string()))?
                        .clone(),
                    false,
                ));
                i += 1;
            }
            "label" => i += 1,
            "allow-opts" => {}
            "scrub" if r.action == Action::Match => {
                if t.get(i).map(String::as_str) == Some("(") {
                    while let Some(x) = t.get(i) {
                        i += 1;
                        if x == ")" {
                            break;
                        }
                    }
                }
            }
            other => return Err((n, format!("rule option `{other}` is not modelled"))),
        }
    }
    Ok(r)
}

impl Rule {
    fn matches(&self, p: &Packet, inbound: bool, iface: Option<&str>, tag: Option<&str>) -> bool {
        if self.dir.is_some_and(|d| d != inbound) {
            return false;
        }
        if let Some((names, neg)) = &self.ifaces {
            let on = iface.is_some_and(|i| names.iter().any(|n| n == i || n == "any"));
            if on == *neg {
                return false;
            }
        }
        if self.af.is_some_and(|v6| v6 != p.src.is_ipv6()) {
            return false;
        }
        if let Some(protos) = &self.protos
            && !protos.contains(&p.proto)
        {
            return false;
        }
        let ported = p.proto == 6 || p.proto == 17;
        if (self.from.ports.is_some() || self.to.ports.is_some()) && !ported {
            return false;
        }
        if !self.from.matches_addr(p.src) || !self.to.matches_addr(p.dst) {
            return false;
        }
        if self
            .from
            .ports
            .as_ref()
            .is_some_and(|ports| !ports.contains(p.sport))
        {
            return false;
        }
        if self
            .to
            .ports
            .as_ref()
            .is_some_and(|ports| !ports.contains(p.selector))
        {
            return false;
        }
        if let Some(types) = &self.icmp_types
            && (!matches!(p.proto, 1 | 58) || !types.contains(&p.selector))
        {
            return false;
        }
        if self.flags_syn_only && p.proto == 6 && p.ack {
            return false;
        }
        if let Some((want, neg)) = &self.tagged
            && (tag == Some(want.as_str())) == *neg
        {
            return false;
        }
        true
    }
}

impl Pf {
    fn iface_for(&self, zone: Option<&str>) -> Option<String> {
        let zone = zone?;
        for (name, value) in &self.macros {
            if !value.contains(' ') && net::names_zone(name, zone) {
                return Some(value.clone());
            }
        }
        self.ifaces
            .iter()
            .find(|i| net::names_zone(i, zone))
            .cloned()
            .or_else(|| self.anchors.values().find_map(|a| a.iface_for(Some(zone))))
    }

    /// Evaluates `self.rules` in order, anchors in place; returns true when
    /// a quick rule ended the evaluation.
    fn eval<'a>(
        &'a self,
        p: &Packet,
        inbound: bool,
        iface: Option<&str>,
        tag: &mut Option<String>,
        last: &mut Option<&'a Rule>,
        depth: usize,
    ) -> bool {
        for r in &self.rules {
            if let Action::Anchor(path) = &r.action {
                if depth > 8 {
                    continue;
                }
                let under = path.strip_suffix("/*");
                for (name, child) in &self.anchors {
                    let hit = match under {
                        Some(parent) => name
                            .strip_prefix(parent)
                            .and_then(|rest| rest.strip_prefix('/'))
                            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/')),
                        None => name == path,
                    };
                    if hit && child.eval(p, inbound, iface, tag, last, depth + 1) {
                        return true;
                    }
                }
                continue;
            }
            if !r.matches(p, inbound, iface, tag.as_deref()) {
                continue;
            }
            if r.action == Action::Match {
                if let Some(t) = &r.tag {
                    *tag = Some(t.clone());
                }
                continue;
            }
            *last = Some(r);
            if r.quick {
                return true;
            }
        }
        false
    }

    /// One pass over the rules; returns the decision and the tag.
    fn leg(
        &self,
        p: &Packet,
        inbound: bool,
        iface: Option<&str>,
        tag_in: Option<&str>,
    ) -> (Decision, Option<String>) {
        let mut tag = tag_in.map(str::to_string);
        let mut last: Option<&Rule> = None;
        self.eval(p, inbound, iface, &mut tag, &mut last, 0);
        let dir = if inbound { "in" } else { "out" };
        match last {
            Some(r) => {
                if r.action == Action::Pass
                    && let Some(t) = &r.tag
                {
                    tag = Some(t.clone());
                }
                (Decision::at(r.action == Action::Pass, r.line, &r.text), tag)
            }
            None => (
                Decision::implicit(true, format!("implicit pass ({dir}, no rule matched)")),
                tag,
            ),
        }
    }
}

/// Link-local, multicast and broadcast: never forwarded.
fn never_forwarded(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_multicast() || (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

impl Device for Pf {
    fn side(&self, zone: &str) -> Option<String> {
        self.iface_for(Some(zone))
    }

    fn leaves(&self, pkt: &Packet, _env: &Env<'_>, _got: &Decision) -> Option<&'static str> {
        // docs/targets/pf.md: traffic of the firewall itself and traffic
        // that is never forwarded is the main ruleset's (and the device
        // block's in ruleset mode), not the policy's.
        (never_forwarded(pkt.src)
            || never_forwarded(pkt.dst)
            || self.self_addrs.contains(pkt.src)
            || self.self_addrs.contains(pkt.dst))
        .then_some("traffic of the firewall itself, link-local, multicast or broadcast")
    }

    fn decide(&self, p: &Packet, env: &Env<'_>) -> Option<Decision> {
        let in_if = env.src(self);
        let out_if = env.dst(self);
        // Traffic from the firewall itself has only the outbound pass,
        // traffic to it only the inbound one.
        if self.self_addrs.contains(p.src) {
            return Some(self.leg(p, false, out_if.as_deref(), None).0);
        }
        let (d_in, tag) = self.leg(p, true, in_if.as_deref(), None);
        if !d_in.allow || self.self_addrs.contains(p.dst) {
            return Some(d_in);
        }
        let (d_out, _) = self.leg(p, false, out_if.as_deref(), tag.as_deref());
        if !d_out.allow {
            return Some(d_out);
        }
        Some(d_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::pkt;
    use zonal_model::Date;

    const SAMPLE: &str = r#"# pf.conf generated by zonal -- do not edit
imaging_if  = "vlan20"
pacs_if = "vlan30"
table <z_imaging> const { 10.20.0.0/24, 10.20.1.10, 10.20.2.1 - 10.20.2.50, \
   2001:db8:20::/64 }
table <z_pacs>    const { 10.30.0.5, 2001:db8:30::5 }
set skip on lo
set block-policy drop
block log all
pass in quick on $imaging_if proto tcp from <z_imaging> to <z_pacs> port { 104, 11112 } tag ZP_IMG_PACS label "R1_dicom"
pass in quick on $imaging_if proto udp from <z_imaging> to <z_pacs> port 5000:5010  tag ZP_IMG_PACS
pass in quick on $imaging_if inet6 proto icmp6 from <z_imaging> to <z_pacs> icmp6-type 128 tag ZP_IMG_PACS
pass out quick on $pacs_if tagged ZP_IMG_PACS
pass in on $pacs_if proto tcp from <z_pacs> to any port 22
"#;

    #[test]
    fn quick_last_match_tags_and_implicit_pass() {
        let dev = read(SAMPLE).unwrap();
        let env = Env {
            src_zone: Some("imaging"),
            dst_zone: Some("pacs"),
            today: Date::new(2026, 6, 1).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        let d = dev
            .decide(&pkt("10.20.2.50", "10.30.0.5", 6, 11112), &env)
            .unwrap();
        assert!(d.allow);
        assert_eq!(d.line, Some(10));
        assert!(
            dev.decide(&pkt("10.20.2.7", "10.30.0.5", 17, 5000), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("2001:db8:20::1", "2001:db8:30::5", 58, 128), &env)
                .unwrap()
                .allow
        );
        assert!(
            !dev.decide(&pkt("10.20.2.51", "10.30.0.5", 6, 104), &env)
                .unwrap()
                .allow
        );
        // Non-quick pass after `block all` wins by last match inbound, but
        // the outbound leg is blocked (no tag).
        let back = Env {
            src_zone: Some("pacs"),
            dst_zone: Some("imaging"),
            today: env.today,
            src_side: None,
            dst_side: None,
            sides_known: false,
        };
        let d = dev
            .decide(&pkt("10.30.0.5", "10.20.0.1", 6, 22), &back)
            .unwrap();
        assert!(!d.allow);
        assert_eq!(d.line, Some(9));
        // Without `block all`, the implicit pass lets anything through.
        let open = read("pass in quick proto tcp from any to any port 22\n").unwrap();
        assert!(
            open.decide(&pkt("10.30.0.5", "10.20.0.1", 17, 53), &back)
                .unwrap()
                .allow
        );
    }

    /// The anchor's default deny leaves the firewall's own traffic to the
    /// main ruleset, even when the admin's SSH pass comes after the
    /// anchor line; `pfctl -a` replaces the anchor, never the main ruleset.
    #[test]
    fn an_anchor_does_not_lock_out_the_admin() {
        let main = "#@self 192.0.2.1\nblock log all\nanchor \"zonal/*\"\npass in quick inet proto tcp from 192.0.2.0/24 to 192.0.2.1 port 22 keep state\n";
        let anchor = |port: u16| {
            format!(
                "# anchor zonal/p\ntable <zonal_local> const {{ self, 224.0.0.0/4, 255.255.255.255, fe80::/10, ff00::/8 }}\npass quick inet proto tcp from 10.1.0.0/24 to 10.2.0.0/24 port {port} keep state\nblock drop log quick from ! <zonal_local> to ! <zonal_local>\n"
            )
        };
        let (v1, v2) = (anchor(104), anchor(443));
        let (dev, before, after) = redeploy(main, &[&v1, &v2]).unwrap();
        assert!(
            after
                .iter()
                .filter(|l| l.starts_with("main: "))
                .eq(before.iter())
        );
        let env = Env {
            src_zone: None,
            dst_zone: None,
            today: Date::new(2026, 6, 1).unwrap(),
            src_side: None,
            dst_side: None,
            sides_known: true,
        };
        assert!(
            dev.decide(&pkt("192.0.2.9", "192.0.2.1", 6, 22), &env)
                .unwrap()
                .allow
        );
        assert!(
            dev.decide(&pkt("10.1.0.9", "10.2.0.1", 6, 443), &env)
                .unwrap()
                .allow
        );
        let old = dev
            .decide(&pkt("10.1.0.9", "10.2.0.1", 6, 104), &env)
            .unwrap();
        assert!(
            !old.allow && old.why.contains("block drop log quick"),
            "{old}"
        );
    }
}
