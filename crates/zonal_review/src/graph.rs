//! `zonal graph`: the zones (optionally the devices) as nodes coloured by
//! trust, legacy and external zones marked, and the permitted flows as
//! edges labelled with their services; as Graphviz DOT, Mermaid, or SVG
//! laid out without Graphviz (the DOT text through `layout-rs`, a pure-Rust
//! layout engine, kept inside [`svg`]).
//!
//! The edges come from the same per-place computation as `zonal report`
//! and `zonal diff` ([`crate::allowed`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use zonal_model::{AddrSet, Policy, ServiceSet, Trust};

use crate::places::{UNASSIGNED, places};
use crate::reach::allowed;

/// What to draw.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// One node per device (and per zone's remaining addresses) instead of
    /// one per zone.
    pub devices: bool,
    /// Only this zone or device and its neighbours (a device implies
    /// `devices`).
    pub focus: Option<String>,
}

/// Why a graph cannot be drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFocus(pub String);

impl std::fmt::Display for UnknownFocus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is not a zone or device of the policy", self.0)
    }
}

struct Node {
    id: String,
    name: String,
    /// Second label line: trust, kind, legacy, external.
    detail: String,
    trust: Option<Trust>,
    legacy: bool,
    external: bool,
}

struct Drawing {
    nodes: Vec<Node>,
    /// (from node index, to node index) -> services.
    edges: BTreeMap<(usize, usize), ServiceSet>,
}

fn drawing(p: &Policy, opts: &Options) -> Result<Drawing, UnknownFocus> {
    let focus_device = match &opts.focus {
        Some(f) if p.device_by_name(f).is_some() => true,
        Some(f) if p.zone_by_name(f).is_some() => false,
        Some(f) => return Err(UnknownFocus(f.clone())),
        None => false,
    };
    let devices = opts.devices || focus_device;
    // Node names: zones, or places (devices and zone remainders).
    let mut nodes: Vec<Node> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let zone_node = |name: &str| -> Node {
        let z = p.zone_by_name(name);
        let mut detail: Vec<String> = Vec::new();
        if let Some(t) = z.and_then(|z| z.trust) {
            detail.push(format!("trust {}", t.as_str()));
        }
        if let Some(k) = z.and_then(|z| z.kind.clone()) {
            detail.push(k);
        }
        let legacy = z.is_some_and(|z| z.legacy);
        let external = z.is_some_and(|z| z.external);
        if legacy {
            detail.push("LEGACY".into());
        }
        if external && !detail.iter().any(|d| d == "external") {
            detail.push("external".into());
        }
        Node {
            id: String::new(),
            name: name.to_string(),
            detail: detail.join(", "),
            trust: z.and_then(|z| z.trust),
            legacy,
            external,
        }
    };
    let place_names: Vec<(String, String)> = if devices {
        places(p).into_iter().map(|pl| (pl.name, pl.zone)).collect()
    } else {
        p.zones
            .iter()
            .map(|z| (z.name.clone(), z.name.clone()))
            .collect()
    };
    for (name, zone) in &place_names {
        let mut n = zone_node(zone);
        if let Some(d) = p.device_by_name(name) {
            n.name = name.clone();
            let mut detail = vec![format!("in {zone}")];
            if let Some(k) = &d.kind {
                detail.push(k.clone());
            }
            if d.legacy {
                detail.push("END OF SUPPORT".into());
            }
            n.detail = detail.join(", ");
            n.legacy = d.legacy;
        } else if name == UNASSIGNED {
            n.name = name.clone();
            n.detail = String::new();
        }
        n.id = format!("n{}", nodes.len());
        index.insert(name.clone(), nodes.len());
        nodes.push(n);
    }
    let all = AddrSet::full();
    let mut edges: BTreeMap<(usize, usize), ServiceSet> = BTreeMap::new();
    for a in allowed(p, &all, &all) {
        let (s, d) = if devices {
            (a.src.clone(), a.dst.clone())
        } else {
            (a.src_zone.clone(), a.dst_zone.clone())
        };
        let (Some(&si), Some(&di)) = (index.get(&s), index.get(&d)) else {
            continue;
        };
        let e = edges.entry((si, di)).or_insert_with(ServiceSet::empty);
        *e = e.union(&a.services);
    }
    let mut d = Drawing { nodes, edges };
    if let Some(f) = &opts.focus {
        let centre: BTreeSet<usize> = place_names
            .iter()
            .enumerate()
            .filter(|(_, (name, zone))| name == f || (!focus_device && zone == f))
            .map(|(i, _)| i)
            .collect();
        d = focus_on(d, &centre);
    }
    Ok(d)
}

/// Keeps the `centre` nodes, the edges touching them and their other ends.
fn focus_on(d: Drawing, centre: &BTreeSet<usize>) -> Drawing {
    let Drawing { nodes, mut edges } = d;
    edges.retain(|(s, d), _| centre.contains(s) || centre.contains(d));
    let keep: BTreeSet<usize> = edges
        .keys()
        .flat_map(|(s, d)| [*s, *d])
        .chain(centre.iter().copied())
        .collect();
    let renumber: BTreeMap<usize, usize> = keep
        .iter()
        .enumerate()
        .map(|(new, old)| (*old, new))
        .collect();
    let mut kept = Vec::new();
    for (i, mut n) in nodes.into_iter().enumerate() {
        if keep.contains(&i) {
            n.id = format!("n{}", kept.len());
            kept.push(n);
        }
    }
    let edges = edges
        .into_iter()
        .filter_map(|((s, d), v)| Some(((*renumber.get(&s)?, *renumber.get(&d)?), v)))
        .collect();
    Drawing { nodes: kept, edges }
}

/// Fill colour by trust.
fn fill(t: Option<Trust>) -> &'static str {
    match t.map(Trust::as_str) {
        Some("untrusted") => "#f4cccc",
        Some("low") => "#fce5cd",
        Some("medium") => "#fff2cc",
        Some("high") => "#d9ead3",
        _ => "#eeeeee",
    }
}

/// A DOT string body: quotes and backslashes escaped, no line breaks.
fn dq(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// The graph as Graphviz DOT.
pub fn dot(p: &Policy, opts: &Options) -> Result<String, UnknownFocus> {
    let d = drawing(p, opts)?;
    let mut o = String::new();
    let _ = writeln!(o, "digraph \"{}\" {{", dq(&p.name));
    o.push_str("  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for n in &d.nodes {
        let mut style = vec!["filled"];
        if n.external {
            style.push("dashed");
        }
        if n.legacy {
            style.push("bold");
        }
        let label = if n.detail.is_empty() {
            dq(&n.name)
        } else {
            format!("{}\\n{}", dq(&n.name), dq(&n.detail))
        };
        let _ = writeln!(
            o,
            "  {} [label=\"{label}\", fillcolor=\"{}\", style=\"{}\"{}];",
            n.id,
            fill(n.trust),
            style.join(","),
            if n.legacy {
                ", color=\"#cc0000\", penwidth=3"
            } else {
                ""
            }
        );
    }
    for ((s, t), services) in &d.edges {
        let _ = writeln!(
            o,
            "  {} -> {} [label=\"{}\"];",
            d.nodes[*s].id,
            d.nodes[*t].id,
            dq(&services.to_string())
        );
    }
    o.push_str("}\n");
    Ok(o)
}

/// Text for a Mermaid label in quotes.
fn mq(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// The graph as a Mermaid flowchart (renders in GitHub and GitLab Markdown).
pub fn mermaid(p: &Policy, opts: &Options) -> Result<String, UnknownFocus> {
    let d = drawing(p, opts)?;
    let mut o = String::from("flowchart LR\n");
    for n in &d.nodes {
        let label = if n.detail.is_empty() {
            mq(&n.name)
        } else {
            format!("{}<br/><small>{}</small>", mq(&n.name), mq(&n.detail))
        };
        let _ = writeln!(o, "  {}[\"{label}\"]", n.id);
    }
    for ((s, t), services) in &d.edges {
        let _ = writeln!(
            o,
            "  {} -->|\"{}\"| {}",
            d.nodes[*s].id,
            mq(&services.to_string()),
            d.nodes[*t].id
        );
    }
    for (class, trust) in [
        ("untrusted", Some(Trust::Untrusted)),
        ("low", Some(Trust::Low)),
        ("medium", Some(Trust::Medium)),
        ("high", Some(Trust::High)),
        ("unrated", None),
    ] {
        let members: Vec<&str> = d
            .nodes
            .iter()
            .filter(|n| n.trust == trust)
            .map(|n| n.id.as_str())
            .collect();
        let _ = writeln!(o, "  classDef {class} fill:{}", fill(trust));
        if !members.is_empty() {
            let _ = writeln!(o, "  class {} {class}", members.join(","));
        }
    }
    let legacy: Vec<&str> = d
        .nodes
        .iter()
        .filter(|n| n.legacy)
        .map(|n| n.id.as_str())
        .collect();
    o.push_str("  classDef legacy stroke:#cc0000,stroke-width:3px\n");
    if !legacy.is_empty() {
        let _ = writeln!(o, "  class {} legacy", legacy.join(","));
    }
    let external: Vec<&str> = d
        .nodes
        .iter()
        .filter(|n| n.external)
        .map(|n| n.id.as_str())
        .collect();
    o.push_str("  classDef external stroke-dasharray:5 5\n");
    if !external.is_empty() {
        let _ = writeln!(o, "  class {} external", external.join(","));
    }
    Ok(o)
}

/// The graph as SVG, laid out in Rust (no Graphviz needed).
pub fn svg(p: &Policy, opts: &Options) -> Result<String, String> {
    use layout::backends::svg::SVGWriter;
    use layout::gv::{DotParser, GraphBuilder};
    let text = dot(p, opts).map_err(|e| e.to_string())?;
    let ast = DotParser::new(&text)
        .process()
        .map_err(|e| format!("the layout engine cannot read the graph: {e}"))?;
    let mut builder = GraphBuilder::new();
    builder.visit_graph(&ast);
    let mut vg = builder.get();
    let mut writer = SVGWriter::new();
    vg.do_it(false, false, false, &mut writer);
    Ok(writer.finalize())
}
