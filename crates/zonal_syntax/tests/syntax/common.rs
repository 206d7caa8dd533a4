//! Helpers shared by the syntax tests: a compact tree dump for snapshots,
//! a range-free view of a tree for meaning comparisons, and a one-line
//! rendering of diagnostics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use zonal_diagnostics::{FileId, SourceDb, TextRange};
use zonal_syntax::ast::{
    DateLit, DevicePropKind, Endpoint, EndpointList, IcmpType, Ident, ItemKind, Num, PortProto,
    ServiceTerm, ServiceTermKind, SourceFile, StrLit, Suppression, ZonePropKind,
};
use zonal_syntax::{Parsed, parse};

/// Parses `text` as file 0.
pub fn parse_str(text: &str) -> Parsed {
    parse(FileId(0), text)
}

/// One line per diagnostic: `line:col code message | label | help`, with
/// secondary labels indented below.
pub fn diagnostics(text: &str) -> String {
    let parsed = parse_str(text);
    let mut db = SourceDb::new();
    let file = db.add("test.zonal", text);
    let mut out = String::new();
    for d in parsed.diagnostics.iter() {
        let lc = db.line_col(file, d.primary.span.range.start);
        let _ = writeln!(
            out,
            "{}:{} {} {} | {} | help: {}",
            lc.line,
            lc.col,
            d.code,
            d.message,
            d.primary.message,
            d.help.as_deref().unwrap_or("<none>")
        );
        for s in &d.secondary {
            let lc = db.line_col(file, s.span.range.start);
            let _ = writeln!(out, "  also {}:{} {}", lc.line, lc.col, s.message);
        }
    }
    let kinds: Vec<&str> = parsed
        .file
        .items
        .iter()
        .map(|i| kind_name(&i.kind))
        .collect();
    let _ = write!(out, "items: {}", kinds.join(" "));
    out
}

/// The short name of an item kind.
pub fn kind_name(k: &ItemKind) -> &'static str {
    match k {
        ItemKind::Policy(_) => "policy",
        ItemKind::Include(_) => "include",
        ItemKind::Service(_) => "service",
        ItemKind::Group(_) => "group",
        ItemKind::Zone(_) => "zone",
        ItemKind::Flow(_) => "flow",
        ItemKind::Workflow(_) => "workflow",
        ItemKind::Never(_) => "never",
        ItemKind::Require(_) => "require",
        ItemKind::Error => "ERROR",
    }
}

/// The tree without any range, plus the comment texts: two files have the
/// same meaning (for the formatter) when these are equal.
pub fn shape(file: &SourceFile) -> String {
    let debug = format!("{:#?}", file.items);
    let mut out = strip_ranges(&debug);
    for c in &file.comments {
        out.push_str(c.text.trim_end());
        out.push('\n');
    }
    out
}

/// Replaces every `TextRange { … }` in a `{:#?}` dump by `_`.
fn strip_ranges(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find("TextRange {") {
        out.push_str(&rest[..p]);
        let after = &rest[p..];
        let close = after.find('}').map_or(after.len(), |c| c + 1);
        out.push('_');
        rest = &after[close..];
    }
    out.push_str(rest);
    out
}

/// Every `*.zonal` file under `policies/`, sorted.
pub fn policy_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("directory entry: {e}"))
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "zonal") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn r(range: TextRange) -> String {
    format!("@{}..{}", range.start, range.end)
}

fn id(i: &Ident) -> String {
    format!("`{}`{}", i.name, r(i.range))
}

fn st(s: &StrLit) -> String {
    format!("{:?}{}", s.value, r(s.range))
}

fn num(n: &Num) -> String {
    format!("{}{}", n.value, r(n.range))
}

fn date(d: &DateLit) -> String {
    format!("{:04}-{:02}-{:02}{}", d.year, d.month, d.day, r(d.range))
}

fn eps(e: &EndpointList) -> String {
    let items: Vec<String> = e
        .items
        .iter()
        .map(|x| match x {
            Endpoint::Name(n) => id(n),
            Endpoint::Any(range) => format!("any{}", r(*range)),
        })
        .collect();
    format!("[{}]{}", items.join(", "), r(e.range))
}

fn term(t: &ServiceTerm) -> String {
    let body = match &t.kind {
        ServiceTermKind::Ports { proto, ports } => {
            let p: Vec<String> = ports
                .iter()
                .map(|p| match &p.hi {
                    Some(hi) => format!("{}-{}{}", p.lo.value, hi.value, r(p.range)),
                    None => num(&p.lo),
                })
                .collect();
            let kw = if *proto == PortProto::Tcp {
                "tcp"
            } else {
                "udp"
            };
            format!("{kw}[{}]", p.join(", "))
        }
        ServiceTermKind::Icmp { v6, types } => {
            let ty: Vec<String> = types
                .iter()
                .map(|t| match t {
                    IcmpType::Named(n) => id(n),
                    IcmpType::Number(n) => num(n),
                })
                .collect();
            format!("{}[{}]", if *v6 { "icmpv6" } else { "icmp" }, ty.join(", "))
        }
        ServiceTermKind::Protocol(n) => format!("proto {}", num(n)),
        ServiceTermKind::Any => "any".to_owned(),
        ServiceTermKind::Ref(n) => format!("ref {}", id(n)),
    };
    format!("{body}{}", r(t.range))
}

fn terms(t: &[ServiceTerm]) -> String {
    t.iter().map(term).collect::<Vec<_>>().join(", ")
}

fn sup(o: &mut String, indent: &str, s: &Suppression) {
    let _ = writeln!(
        o,
        "{indent}@suppress {} reason={} until={} {}",
        id(&s.lint),
        s.reason.as_ref().map_or("-".to_owned(), st),
        s.until.as_ref().map_or("-".to_owned(), date),
        r(s.range)
    );
}

/// A compact, reviewable dump of a tree with every range.
#[expect(
    clippy::too_many_lines,
    reason = "one arm per kind of tree node, so the dump format reads in one place"
)]
pub fn dump(text: &str) -> String {
    let parsed = parse_str(text);
    let mut o = String::new();
    for item in &parsed.file.items {
        for s in &item.suppressions {
            sup(&mut o, "", s);
        }
        let _ = writeln!(o, "{} {}", kind_name(&item.kind), r(item.range));
        let opt = |o: &mut String, key: &str, v: Option<String>| {
            if let Some(v) = v {
                let _ = writeln!(o, "  {key} {v}");
            }
        };
        match &item.kind {
            ItemKind::Policy(p) => {
                let _ = writeln!(o, "  name {}", id(&p.name));
                opt(&mut o, "owner", p.owner.as_ref().map(st));
                opt(&mut o, "description", p.description.as_ref().map(st));
            }
            ItemKind::Include(i) => {
                let _ = writeln!(o, "  path {}", st(&i.path));
            }
            ItemKind::Service(s) => {
                opt(&mut o, "override", s.override_kw.map(r));
                let _ = writeln!(o, "  name {}", id(&s.name));
                let _ = writeln!(o, "  terms {}", terms(&s.terms));
                opt(&mut o, "description", s.description.as_ref().map(st));
            }
            ItemKind::Group(g) => {
                let _ = writeln!(o, "  name {}", id(&g.name));
                let m: Vec<String> = g.members.iter().map(id).collect();
                let _ = writeln!(o, "  members {}", m.join(", "));
                opt(&mut o, "description", g.description.as_ref().map(st));
            }
            ItemKind::Zone(z) => {
                let _ = writeln!(o, "  name {}", id(&z.name));
                for p in &z.props {
                    let v = match &p.kind {
                        ZonePropKind::Network(a) => {
                            let a: Vec<String> = a
                                .iter()
                                .map(|a| format!("{}{}", a.text, r(a.range)))
                                .collect();
                            format!("network {}", a.join(", "))
                        }
                        ZonePropKind::Vlan(n) => format!("vlan {}", num(n)),
                        ZonePropKind::Trust(n) => format!("trust {}", id(n)),
                        ZonePropKind::Kind(n) => format!("kind {}", id(n)),
                        ZonePropKind::Tags(t) => {
                            format!("tags {}", t.iter().map(id).collect::<Vec<_>>().join(", "))
                        }
                        ZonePropKind::Description(s) => format!("description {}", st(s)),
                        ZonePropKind::Legacy => "legacy".to_owned(),
                        ZonePropKind::External => "external".to_owned(),
                        ZonePropKind::Within(n) => format!("within {}", id(n)),
                        ZonePropKind::Device(d) => {
                            for s in &d.suppressions {
                                sup(&mut o, "  ", s);
                            }
                            let _ = writeln!(o, "  device {} {}", id(&d.name), r(p.range));
                            for dp in &d.props {
                                let v = match &dp.kind {
                                    DevicePropKind::Address(a) => {
                                        let a: Vec<String> = a
                                            .iter()
                                            .map(|a| format!("{}{}", a.text, r(a.range)))
                                            .collect();
                                        format!("address {}", a.join(", "))
                                    }
                                    DevicePropKind::Kind(n) => format!("kind {}", id(n)),
                                    DevicePropKind::Vendor(s) => format!("vendor {}", st(s)),
                                    DevicePropKind::Model(s) => format!("model {}", st(s)),
                                    DevicePropKind::Os(s) => format!("os {}", st(s)),
                                    DevicePropKind::Description(s) => {
                                        format!("description {}", st(s))
                                    }
                                    DevicePropKind::Legacy => "legacy".to_owned(),
                                    DevicePropKind::Wireless => "wireless".to_owned(),
                                    DevicePropKind::StorageCommitment => {
                                        "storage-commitment".to_owned()
                                    }
                                    DevicePropKind::MoveDestination => {
                                        "move-destination".to_owned()
                                    }
                                    DevicePropKind::Ae(a) => {
                                        format!("ae {:?}{}", a.value, r(a.range))
                                    }
                                    DevicePropKind::Listens(l) => {
                                        let l: Vec<String> = l
                                            .iter()
                                            .map(|l| match &l.port {
                                                Some(p) => format!(
                                                    "{} on {}{}",
                                                    id(&l.service),
                                                    num(p),
                                                    r(l.range)
                                                ),
                                                None => format!("{}{}", id(&l.service), r(l.range)),
                                            })
                                            .collect();
                                        format!("listens {}", l.join(", "))
                                    }
                                };
                                let _ = writeln!(o, "    {v} {}", r(dp.range));
                            }
                            continue;
                        }
                    };
                    let _ = writeln!(o, "  {v} {}", r(p.range));
                }
            }
            ItemKind::Flow(f) => {
                let _ = writeln!(o, "  action {:?}", f.action);
                let _ = writeln!(o, "  src {}", eps(&f.src));
                let _ = writeln!(o, "  dst {}", eps(&f.dst));
                opt(&mut o, "services", f.services.as_deref().map(terms));
                opt(&mut o, "until", f.until.as_ref().map(date));
                opt(&mut o, "why", f.justification.as_ref().map(st));
            }
            ItemKind::Workflow(w) => {
                let _ = writeln!(o, "  kind {:?}", w.kind);
                let _ = writeln!(o, "  src {}", eps(&w.src));
                let _ = writeln!(o, "  dst {}", eps(&w.dst));
                opt(&mut o, "to", w.to.as_ref().map(eps));
                opt(&mut o, "services", w.services.as_deref().map(terms));
                opt(&mut o, "until", w.until.as_ref().map(date));
                opt(&mut o, "why", w.justification.as_ref().map(st));
            }
            ItemKind::Never(n) => {
                let _ = writeln!(o, "  reach {:?}", n.reach);
                let _ = writeln!(o, "  src {}", eps(&n.src));
                let _ = writeln!(o, "  dst {}", eps(&n.dst));
                opt(&mut o, "services", n.services.as_deref().map(terms));
                opt(&mut o, "why", n.justification.as_ref().map(st));
            }
            ItemKind::Require(q) => {
                let _ = writeln!(o, "  src {}", eps(&q.src));
                let _ = writeln!(o, "  dst {}", eps(&q.dst));
                let _ = writeln!(o, "  services {}", terms(&q.services));
                opt(&mut o, "why", q.justification.as_ref().map(st));
            }
            ItemKind::Error => {}
        }
    }
    for c in &parsed.file.comments {
        let _ = writeln!(o, "comment {:?} {}", c.text, r(c.range));
    }
    for d in parsed.diagnostics.iter() {
        let _ = writeln!(o, "error {} {}", d.code, d.message);
    }
    o
}
